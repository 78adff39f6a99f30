"""`hearback transcribe`: a file or URL through the pipeline, optionally with the names of the
speakers enrolled in the local database (`--identify`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from app import commands_summary
from app.local_db import open_database
from hearback.progress import Stage
from service.settings import Settings

if TYPE_CHECKING:  # loaded when the command runs: `hearback --help` stays quick
    from hearback.pipeline import Pipeline
    from hearback.result import Transcript

BAR_STEPS = 1000  # the bar counts thousandths of the job


def register(commands) -> None:
    t = commands.add_parser("transcribe", help="transcribe an audio or video file (path or http(s) URL)")
    t.add_argument("input", help="audio/video file path or http(s) URL")
    t.add_argument("--language", default="auto", help="fr, en or auto (default: auto)")
    t.add_argument("--min-speakers", type=int, default=None)
    t.add_argument("--max-speakers", type=int, default=None)
    t.add_argument("--format", default="json", help="json, srt, vtt, txt or rttm (default: json)")
    t.add_argument("--output", "-o", default=None, help="write to this file instead of stdout")
    t.add_argument("--no-diarize", action="store_true", help="skip speaker diarization")
    t.add_argument("--identify", action="store_true", help="name speakers enrolled in the local database")
    t.add_argument("--participants", default="", metavar="NAMES",
                   help="who the recording expects: enrolled speakers' names or ids, comma-separated; their voices "
                        "decide who speaks (implies --identify)")
    t.add_argument("--group", default=None, help="a group of enrolled speakers (hearback groups): its members are "
                                                 "the participants")
    t.add_argument("--summary", action="store_true",
                   help="then a summary by the language model of HEARBACK_LLM_URL (in the JSON, after a txt)")
    t.add_argument("--summary-output", default=None, metavar="FILE", help="write the summary's Markdown to FILE")
    commands_summary.add_options(t)
    bar = t.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", help="always show the progress bar on stderr")
    bar.add_argument("--quiet", "-q", action="store_true", help="no progress bar or model line on stderr")
    t.set_defaults(run=run_transcribe)


def run_transcribe(args) -> int:
    from hearback.fetch import fetched
    from hearback.formats import check_format, render
    from hearback.pipeline import Options, Pipeline

    fmt = check_format(args.format)
    options = Options(args.language, args.min_speakers, args.max_speakers, not args.no_diarize).checked()
    settings = Settings.from_env()
    summary = args.summary or bool(args.summary_output)
    if summary:
        commands_summary.check_options(args, fmt, settings)
    expected = participants_of(args, settings)  # an unknown name stops here, before any work
    pipeline = Pipeline(settings)
    show_bar = args.progress or (not args.quiet and sys.stderr.isatty())
    with fetched(args.input, settings) as audio, _ProgressBar(show_bar) as bar:
        transcript = pipeline.transcribe_file(audio.path, options, progress=bar.update, voiceprints=expected or None)
    if args.identify or expected:
        name_enrolled_speakers(transcript, pipeline, settings, {vp.speaker_id for vp in expected})
    for warning in transcript.quality.get("warnings", []):  # shown even with --quiet: speech may be missing
        print(f"hearback: warning: {warning['text']}", file=sys.stderr)
    if not args.quiet:
        asr = transcript.model.get("asr", {})
        print(f"hearback: {transcript.duration:.1f} s of {transcript.language} audio in "
              f"{transcript.processing_time:.1f} s; model {asr.get('name')} ({asr.get('source')}), "
              f"{len(transcript.speakers)} speaker(s)", file=sys.stderr)
    text = render(transcript, fmt)
    if summary:
        outcome = commands_summary.summary_after_transcript(transcript, args, settings)
        text = commands_summary.with_summary(text, transcript.to_dict(), fmt, outcome)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def participants_of(args, settings: Settings) -> list:
    """The voiceprints of the participants named by --participants and --group (each named by the
    speaker's name), checked in the local database: unknown or unconsented names are an error."""
    from jobs.submission import split_names
    from sessions.groups import participant_voiceprints, resolve_participants
    from speakers.identification import Embedder

    names = split_names([args.participants])
    if not names and not args.group:
        return []
    embedder = Embedder.configured(settings).name
    with open_database(settings).open() as db:
        _, people = resolve_participants(db, settings.workspace, names, args.group, embedder)
        return participant_voiceprints(db, [p.id for p in people], embedder, named_by="name")


def name_enrolled_speakers(transcript: "Transcript", pipeline: "Pipeline", settings: Settings,
                           participants: set[str] = frozenset()) -> None:
    """The service's identification, on the local database's voiceprints held in memory, for the
    clusters no participant took: anyone else enrolled needs the guest bar when participants
    were given."""
    from hearback.identify import apply_names, shown_names
    from hearback.quality import missed_in, with_missed
    from speakers import index_sync, matching
    from speakers.identification import Embedder, identify

    named = {i.label: i for i in transcript.identifications if i.name}
    rest = {label: v for label, v in transcript.speaker_embeddings.items() if label not in named}
    if not rest:
        return
    started = time.perf_counter()
    matcher = matching.MemoryMatcher()
    bar = pipeline.bars(bool(participants))[1]
    with open_database(settings).open() as db:
        index_sync.reload(db, matcher)
        found = identify(db, matcher, settings.workspace, rest, transcript.embedder, Embedder.of(pipeline), bar,
                         exclude=participants)
    apply_names(transcript, sorted([*named.values(), *found], key=lambda i: i.label))
    warnings = transcript.quality.get("warnings", [])
    transcript.quality["warnings"] = with_missed(warnings, *missed_in(warnings), shown_names(transcript))
    transcript.timings[Stage.IDENTIFYING.value] = time.perf_counter() - started


class _ProgressBar:
    """A tqdm bar on stderr, driven by the pipeline's (stage, fraction) callback, with time left."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def __enter__(self):
        if self.enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=BAR_STEPS, file=sys.stderr, unit="‰", dynamic_ncols=True,
                            bar_format="{desc:<18} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")
        return self

    def update(self, stage: Stage | str, fraction: float) -> None:
        if self.bar is None:
            return
        self.bar.set_description_str(str(stage), refresh=False)
        self.bar.update(max(0, int(fraction * BAR_STEPS) - self.bar.n))

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
