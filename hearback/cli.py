"""The `hearback` command line: a thin shell over the pipeline (and the speaker service).

Errors a user can fix end the command with one line on stderr and exit status 2; nothing prints a
traceback unless --verbose is given.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Callable, Optional

from hearback.errors import HearbackError

EXIT_USAGE = 2
EXIT_INTERNAL = 1

log = logging.getLogger("hearback")


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return args.run(args)
    except HearbackError as exc:
        print(f"hearback: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("hearback: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line, details only with --verbose
        if args.verbose:
            log.exception("internal error")
        print(f"hearback: internal error: {type(exc).__name__}: {exc} (rerun with --verbose for details)",
              file=sys.stderr)
        return EXIT_INTERNAL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearback", description="Transcripts with word timestamps and named speakers.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (and tracebacks) to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = commands.add_parser("transcribe", help="transcribe an audio or video file (path or http(s) URL)")
    t.add_argument("input", help="audio/video file path or http(s) URL")
    t.add_argument("--language", default="auto", help="fr, en or auto (default: auto)")
    t.add_argument("--min-speakers", type=int, default=None)
    t.add_argument("--max-speakers", type=int, default=None)
    t.add_argument("--format", default="json", help="json, srt, vtt or txt (default: json)")
    t.add_argument("--output", "-o", default=None, help="write to this file instead of stdout")
    t.add_argument("--no-diarize", action="store_true", help="skip speaker diarization")
    t.add_argument("--identify", action="store_true", help="name speakers enrolled in the local database")
    bar = t.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", help="always show the progress bar on stderr")
    bar.add_argument("--quiet", "-q", action="store_true", help="no progress bar or model line on stderr")
    t.set_defaults(run=run_transcribe)

    for register in _extra_commands():
        register(commands)
    return parser


def run_transcribe(args) -> int:
    from hearback.fetch import fetched
    from hearback.formats import check_format, render
    from hearback.pipeline import Options, Pipeline
    from hearback.settings import Settings

    fmt = check_format(args.format)
    options = Options(args.language, args.min_speakers, args.max_speakers, not args.no_diarize).checked()
    settings = Settings.from_env()
    pipeline = Pipeline(settings)
    show_bar = args.progress or (not args.quiet and sys.stderr.isatty())
    voiceprints = _local_voiceprints(settings) if args.identify else None
    with fetched(args.input, settings) as audio, _ProgressBar(show_bar) as bar:
        transcript = pipeline.transcribe_file(audio.path, options, progress=bar.update, voiceprints=voiceprints)
    if not args.quiet:
        asr = transcript.model.get("asr", {})
        print(f"hearback: {transcript.duration:.1f} s of {transcript.language} audio in "
              f"{transcript.processing_time:.1f} s; model {asr.get('name')} ({asr.get('source')}), "
              f"{len(transcript.speakers)} speaker(s)", file=sys.stderr)
    text = render(transcript, fmt)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _local_voiceprints(settings):
    from speakers.cli import local_voiceprints

    return local_voiceprints(settings)


def _extra_commands() -> list[Callable]:
    """Sub-commands of the speaker service, when its package is installed."""
    try:
        from speakers.cli import register
    except ImportError:
        return []
    return [register]


class _ProgressBar:
    """A tqdm bar on stderr, driven by the pipeline's (stage, fraction) callback, with time left."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def __enter__(self):
        if self.enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=1000, file=sys.stderr, unit="‰", dynamic_ncols=True,
                            bar_format="{desc:<18} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")
        return self

    def update(self, stage: str, fraction: float) -> None:
        if self.bar is None:
            return
        self.bar.set_description_str(stage, refresh=False)
        self.bar.update(max(0, int(fraction * 1000) - self.bar.n))

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


def _configure_logging(verbose: bool) -> None:
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
