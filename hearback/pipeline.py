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
from hearback.decode import Audio, decode
from hearback.diarize import Diarizer, embed_voice, load_diarizer
from hearback.errors import InputError
from hearback.identify import Voiceprint, apply_names, check_voiceprints, match_clusters
from hearback.result import Diarization, Transcript
from hearback.settings import Settings
from hearback.vad import speech_regions, speech_seconds

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
MAX_SPEAKERS = 20

# Share of the total work each stage takes, for one overall progress fraction.
STAGE_WEIGHTS = {"decoding": 0.04, "detecting speech": 0.03, "transcribing": 0.75, "diarizing": 0.16,
                 "assigning": 0.01, "identifying": 0.01}


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
        options.checked()
        report = _Reporter(progress)
        started = time.perf_counter()
        report("decoding", 0.0)
        audio = decode(path, max_duration=self.settings.max_duration)
        decode_seconds = time.perf_counter() - started
        transcript = self.transcribe_audio(audio, options, progress, voiceprints, threshold)
        transcript.timings = {"decode": decode_seconds, **transcript.timings}
        transcript.processing_time = time.perf_counter() - started
        return transcript

    def transcribe_audio(self, audio: Audio, options: Options = Options(),
                         progress: Optional[Progress] = None,
                         voiceprints: Optional[list[Voiceprint]] = None, threshold: Optional[float] = None) -> Transcript:
        options.checked()
        language = check_language(options.language)
        if voiceprints:
            check_voiceprints(voiceprints, self.diarizer.embedder_name, self.diarizer.embedding_dim)
        report = _Reporter(progress)
        timings: dict[str, float] = {}
        started = time.perf_counter()

        with _timed(timings, "vad"):
            report("detecting speech", 0.0)
            regions = speech_regions(audio.samples)
        log.info("%.1f s of speech in %.1f s of audio", speech_seconds(regions), audio.duration)

        with _timed(timings, "asr"):
            result = self.asr.transcribe(audio.samples, regions, language,
                                         progress=lambda f: report("transcribing", f))
        segments = result.segments
        diarization = Diarization([], {}, self.diarizer.embedder_name)
        if options.diarize and segments:
            with _timed(timings, "diarize"):
                diarization = self.diarizer.diarize(audio.samples, regions, options.min_speakers,
                                                    options.max_speakers, progress=lambda f: report("diarizing", f))
            with _timed(timings, "assign"):
                report("assigning", 0.0)
                segments = assign_speakers(segments, diarization.turns)

        used = {s.speaker for s in segments if s.speaker}
        transcript = Transcript(
            segments=segments,
            language=result.language,
            duration=audio.duration,
            speakers=sorted(used),
            speaker_embeddings={k: v for k, v in diarization.embeddings.items() if k in used},
            embedder=diarization.embedder,
            model=self.describe(),
            quality={
                "speech_seconds": round(speech_seconds(regions), 2),
                "language_probability": round(result.language_probability, 3),
                "segments_redecoded": result.repaired,
                "segments_dropped": result.dropped,
                "speaker_seconds": {k: round(v, 2) for k, v in diarization.speech_time.items() if k in used},
                "diarization": diarization.details,
            },
        )
        if voiceprints is not None and transcript.speaker_embeddings:
            with _timed(timings, "identify"):
                report("identifying", 0.0)
                threshold = self.settings.identify_threshold if threshold is None else threshold
                apply_names(transcript, match_clusters(transcript.speaker_embeddings, voiceprints, threshold))
        report("done", 1.0)
        transcript.timings = timings
        transcript.processing_time = time.perf_counter() - started
        return transcript

    def embed_voice(self, audio: Audio) -> tuple[np.ndarray, float, int]:
        """One voiceprint for a sample of one person: (vector, seconds of speech, voices heard)."""
        return embed_voice(self.diarizer, audio.samples, speech_regions(audio.samples))

    def _timed_load(self, load):
        started = time.perf_counter()
        value = load()
        self.load_seconds += time.perf_counter() - started
        self.load_count += 1
        return value


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
