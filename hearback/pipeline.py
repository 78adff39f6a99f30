"""The pipeline: decode → VAD → ASR → diarize → assign → (identify) → transcript.

A `Pipeline` loads its models once (the RunPod worker and the service keep one for their lifetime)
and runs any number of recordings. It knows nothing of HTTP, SQL or RunPod: callers pass a local
file or decoded audio, options, and an optional progress callback `progress(stage, fraction)`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from hearback.asr import AsrBackend, check_language, load_asr
from hearback.assign import assign_speakers
from hearback.decode import MIN_DURATION, SAMPLE_RATE, Audio, declared_duration, iter_blocks
from hearback.diarize import Diarizer, SpeakerWindows, embed_voice, load_diarizer
from hearback.errors import InputError
from hearback.identify import Voiceprint, apply_names, check_voiceprints, match_clusters
from hearback.result import Diarization, Segment, SpeechRegion, Transcript
from hearback.settings import Settings
from hearback.vad import speech_regions, speech_seconds

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
MAX_SPEAKERS = 20

# Share of the total work each stage takes, for one overall progress fraction.
STAGE_WEIGHTS = {"transcribing": 0.96, "diarizing": 0.02, "assigning": 0.01, "identifying": 0.01}
CARRY_MARGIN = 2.0  # a region ending this close to a block's end may go on in the next block


@dataclass
class Options:
    language: Optional[str] = "auto"
    min_speakers: Optional[int] = None
    max_speakers: Optional[int] = None
    diarize: bool = True

    def checked(self) -> "Options":
        for name in ("min_speakers", "max_speakers"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and 1 <= value <= MAX_SPEAKERS):
                raise InputError(f"{name} must be a whole number from 1 to {MAX_SPEAKERS}, not {value!r}")
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise InputError(f"min_speakers ({self.min_speakers}) is greater than max_speakers ({self.max_speakers})")
        check_language(self.language)
        return self


class Pipeline:
    def __init__(self, settings: Settings, asr: Optional[AsrBackend] = None, diarizer: Optional[Diarizer] = None):
        self.settings = settings
        self._asr = asr
        self._diarizer = diarizer
        self.load_count = 0
        self.load_seconds = 0.0

    def load(self) -> "Pipeline":
        """Load every model now (a worker does this before its first job)."""
        _ = self.asr, self.diarizer
        return self

    @property
    def asr(self) -> AsrBackend:
        if self._asr is None:
            self._asr = self._timed_load(lambda: load_asr(self.settings))
        return self._asr

    @property
    def diarizer(self) -> Diarizer:
        if self._diarizer is None:
            self._diarizer = self._timed_load(lambda: load_diarizer(self.settings))
        return self._diarizer

    def describe(self) -> dict:
        return {"asr": self.asr.describe(), "diarization": self.diarizer.describe()}

    def transcribe_file(self, path: str | Path, options: Options = Options(),
                        progress: Optional[Progress] = None,
                        voiceprints: Optional[list[Voiceprint]] = None, threshold: Optional[float] = None) -> Transcript:
        """Transcribe a file block by block: memory stays flat however long the recording is."""
        run = self._run(options, progress, voiceprints, declared_duration(path))
        buffer, offset = np.zeros(0, np.float32), 0.0
        with _timed(run.timings, "decode"):
            blocks = iter_blocks(path, max_duration=self.settings.max_duration,
                                 block_seconds=self.settings.block_seconds)
        total = 0
        while True:
            with _timed(run.timings, "decode"):
                block = next(blocks, None)
            final = block is None
            if block is not None:
                total += len(block)
                buffer = np.concatenate([buffer, block])
            if final or len(buffer) >= self.settings.block_seconds * SAMPLE_RATE:
                carry = run.feed(buffer, offset, final)
                keep = int(round((carry - offset) * SAMPLE_RATE))
                buffer, offset = buffer[keep:], offset + keep / SAMPLE_RATE
            if final:
                break
        if total / SAMPLE_RATE < MIN_DURATION:
            raise InputError(f"audio is {total / SAMPLE_RATE:.2f} s long; at least {MIN_DURATION:g} s is needed "
                             "for a transcript")
        return run.finish(total / SAMPLE_RATE, threshold)

    def transcribe_audio(self, audio: Audio, options: Options = Options(),
                         progress: Optional[Progress] = None,
                         voiceprints: Optional[list[Voiceprint]] = None, threshold: Optional[float] = None) -> Transcript:
        """Transcribe decoded audio held in memory."""
        run = self._run(options, progress, voiceprints, audio.duration)
        run.feed(audio.samples, 0.0, final=True)
        return run.finish(audio.duration, threshold)

    def _run(self, options: Options, progress: Optional[Progress], voiceprints, duration) -> "_Run":
        options.checked()
        if voiceprints:
            check_voiceprints(voiceprints, self.diarizer.embedder_name, self.diarizer.embedding_dim)
        return _Run(self, options, _Reporter(progress), voiceprints, duration)

    def embed_voice(self, audio: Audio) -> tuple[np.ndarray, float, int]:
        """One voiceprint for a sample of one person: (vector, seconds of speech, voices heard)."""
        return embed_voice(self.diarizer, audio.samples, speech_regions(audio.samples))

    def _timed_load(self, load):
        started = time.perf_counter()
        value = load()
        self.load_seconds += time.perf_counter() - started
        self.load_count += 1
        return value


class _Run:
    """One recording going through the pipeline, fed in blocks of audio.

    `feed` detects speech in a block, transcribes and embeds the regions that are complete, and
    says from where the audio must be kept (a region still open at the block's end is carried
    into the next block). `finish` clusters the speaker windows of the whole recording, assigns
    speakers and builds the transcript. Only words and embeddings accumulate, not audio.
    """

    def __init__(self, pipeline: Pipeline, options: Options, report: "_Reporter", voiceprints, duration):
        self.pipeline, self.options, self.report, self.voiceprints = pipeline, options, report, voiceprints
        self.duration = duration or 0.0
        self.language = check_language(options.language)
        self.language_probability = 1.0 if self.language else 0.0
        self.regions: list[SpeechRegion] = []
        self.segments: list[Segment] = []
        self.windows = SpeakerWindows()
        self.repaired = self.dropped = 0
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()
        self.whole: list[np.ndarray] = []  # kept only for a diarizer that needs the whole recording
        self.streams = hasattr(pipeline.diarizer, "embed")

    def feed(self, samples: np.ndarray, offset: float, final: bool) -> float:
        end = offset + len(samples) / SAMPLE_RATE
        with _timed(self.timings, "vad"):
            regions = speech_regions(samples, offset)
        if final:
            done, carry = regions, end
        else:
            cut = end - CARRY_MARGIN
            done = [r for r in regions if r.end < cut]
            open_ = [r for r in regions if r.end >= cut]
            carry = max(open_[0].start - 0.3, done[-1].end if done else offset) if open_ else cut
            carry = max(carry, offset)
        if done:
            self._process(samples, offset, done)
        if not self.streams:
            self.whole.append(samples[: int(round((carry - offset) * SAMPLE_RATE))] if not final else samples)
        self.report("transcribing", carry / self.duration if self.duration else 0.0)
        return carry

    def _process(self, samples: np.ndarray, offset: float, regions: list[SpeechRegion]) -> None:
        with _timed(self.timings, "asr"):
            result = self.pipeline.asr.transcribe(samples, regions, self.language, offset=offset)
        if self.language is None and result.segments:
            self.language, self.language_probability = result.language, result.language_probability
        elif self.language is None:
            self.language_probability = result.language_probability
        self.segments += result.segments
        self.repaired += result.repaired
        self.dropped += result.dropped
        if self.options.diarize and self.streams:
            with _timed(self.timings, "diarize"):
                self.windows.extend(self.pipeline.diarizer.embed(samples, regions, offset, len(self.regions)))
        self.regions += regions

    def finish(self, duration: float, threshold: Optional[float]) -> Transcript:
        diarizer = self.pipeline.diarizer
        segments = self.segments
        diarization = Diarization([], {}, diarizer.embedder_name)
        if self.options.diarize and segments:
            with _timed(self.timings, "diarize"):
                self.report("diarizing", 0.0)
                if self.streams:
                    diarization = diarizer.cluster(self.windows, self.regions, self.options.min_speakers,
                                                   self.options.max_speakers)
                else:
                    diarization = diarizer.diarize(np.concatenate(self.whole), self.regions,
                                                   self.options.min_speakers, self.options.max_speakers)
            with _timed(self.timings, "assign"):
                self.report("assigning", 0.0)
                segments = assign_speakers(segments, diarization.turns)
        used = {s.speaker for s in segments if s.speaker}
        transcript = Transcript(
            segments=segments,
            language=self.language or "en",
            duration=duration,
            speakers=sorted(used),
            speaker_embeddings={k: v for k, v in diarization.embeddings.items() if k in used},
            embedder=diarization.embedder,
            model=self.pipeline.describe(),
            quality={
                "speech_seconds": round(speech_seconds(self.regions), 2),
                "language_probability": round(self.language_probability, 3),
                "segments_redecoded": self.repaired,
                "segments_dropped": self.dropped,
                "speaker_seconds": {k: round(v, 2) for k, v in diarization.speech_time.items() if k in used},
                "diarization": diarization.details,
            },
        )
        if self.voiceprints is not None and transcript.speaker_embeddings:
            with _timed(self.timings, "identify"):
                self.report("identifying", 0.0)
                settings = self.pipeline.settings
                threshold = settings.identify_threshold if threshold is None else threshold
                apply_names(transcript, match_clusters(transcript.speaker_embeddings, self.voiceprints, threshold))
        self.report("done", 1.0)
        transcript.timings = self.timings
        transcript.processing_time = time.perf_counter() - self.started
        log.info("%.1f s of speech in %.1f s of audio, %d segment(s), %d speaker(s)",
                 speech_seconds(self.regions), duration, len(segments), len(used))
        return transcript


class _Reporter:
    """Turns (stage, fraction within the stage) into one overall fraction for the caller."""

    def __init__(self, progress: Optional[Progress]):
        self.progress = progress
        self.offsets, total = {}, 0.0
        for stage, weight in STAGE_WEIGHTS.items():
            self.offsets[stage] = total
            total += weight

    def __call__(self, stage: str, fraction: float) -> None:
        if not self.progress:
            return
        if stage == "done":
            self.progress(stage, 1.0)
            return
        overall = self.offsets[stage] + STAGE_WEIGHTS[stage] * min(max(fraction, 0.0), 1.0)
        self.progress(stage, overall)


class _timed:
    def __init__(self, timings: dict[str, float], name: str):
        self.timings, self.name = timings, name

    def __enter__(self):
        self.started = time.perf_counter()

    def __exit__(self, *exc):
        self.timings[self.name] = self.timings.get(self.name, 0.0) + time.perf_counter() - self.started
