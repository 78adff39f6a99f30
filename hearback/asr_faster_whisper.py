"""The embedded ASR backend: faster-whisper (CTranslate2) on the CPU, offline.

The VAD's speech chunks are decoded in batches by faster-whisper's `BatchedInferencePipeline`:
each chunk is decoded on its own (no text carried from one chunk to the next), which is what keeps a
hallucination in one chunk from looping through the rest of a long recording.
"""

from __future__ import annotations

import logging
import time
from typing import Optional

import numpy as np

from hearback.asr import Progress, fit_words_to_speech, skipped_regions, split_sentences
from hearback.decode import SAMPLE_RATE
from hearback.errors import ConfigError, InputError
from hearback.models import resolve_whisper_model
from hearback.quality import repair_loops
from hearback.result import AsrResult, Segment, SpeechRegion, Word
from hearback.settings import Settings
from hearback.vad import asr_chunks

log = logging.getLogger(__name__)


class FasterWhisperAsr:
    name = "faster-whisper"

    def __init__(self, settings: Settings):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.settings = settings
        self.ref = resolve_whisper_model(settings.whisper_model, settings.model_cache_dir)
        started = time.perf_counter()
        try:
            self.model = WhisperModel(
                self.ref.location, device=settings.device, compute_type=settings.compute_type,
                cpu_threads=settings.cpu_threads, local_files_only=False,
            )
        except Exception as exc:  # faster-whisper raises many kinds; all mean "cannot load"
            raise ConfigError(f"cannot load Whisper model {self.ref.name!r} ({self.ref.source}): {exc}") from None
        self.pipeline = BatchedInferencePipeline(self.model)
        self.load_seconds = time.perf_counter() - started
        log.info("loaded Whisper %s from %s in %.1f s (%s, %s)", self.ref.name, self.ref.source,
                 self.load_seconds, settings.device, settings.compute_type)

    def describe(self) -> dict:
        return {"backend": self.name, "name": self.ref.name, "source": self.ref.source,
                "device": self.settings.device, "compute_type": self.settings.compute_type}

    def transcribe(self, samples: np.ndarray, regions: list[SpeechRegion], language: Optional[str],
                   progress: Optional[Progress] = None, offset: float = 0.0) -> AsrResult:
        result = self._transcribe(samples, [r.shifted(-offset) for r in regions], language, progress)
        result.segments = [s.shifted(offset) for s in result.segments]
        return result

    def _transcribe(self, samples: np.ndarray, regions: list[SpeechRegion], language: Optional[str],
                    progress: Optional[Progress]) -> AsrResult:
        if self.ref.english_only:
            if language not in (None, "en"):
                raise InputError(f"the model {self.ref.name} is English-only: use language en or auto, "
                                 "or set WHISPER_MODEL=base for French")
            language = "en"
        chunks = asr_chunks(regions)
        if not chunks:
            return AsrResult([], language or "en", 0.0)
        language, probability = self._language(samples, chunks, language)
        raw: list[Segment] = []
        # Feed the pipeline a group of chunks at a time so progress can be reported as it goes.
        group = max(1, self.settings.batch_size) * 4
        for first in range(0, len(chunks), group):
            part = chunks[first:first + group]
            raw.extend(self._decode(samples, part, language))
            if progress:
                progress(min(1.0, (first + len(part)) / len(chunks)))
        missed = skipped_regions(regions, raw)
        if missed:
            # Whisper sometimes passes over a stretch of speech inside a long chunk (a quiet voice
            # next to a loud one): each such stretch is decoded again on its own.
            log.info("%d speech region(s) got no words; decoding them on their own", len(missed))
            raw = sorted(raw + self._decode(samples, missed, language), key=lambda seg: seg.start)
        repaired = repair_loops(raw, lambda seg: self._redecode(samples, seg, language))
        # a chunk's segment starts where the chunk does, not where its first word is: order by words
        segments = sorted(split_sentences(fit_words_to_speech(repaired.segments, regions)), key=lambda seg: seg.start)
        return AsrResult(segments, language, probability,
                         repaired=repaired.redecoded + len(missed), dropped=repaired.dropped)

    def _language(self, samples, chunks, language):
        if language:
            return language, 1.0
        # Detect on up to 30 s of speech taken from the first chunks.
        speech = np.concatenate([samples[int(c.start * SAMPLE_RATE):int(c.end * SAMPLE_RATE)] for c in chunks[:3]])
        detected, probability, _ = self.model.detect_language(speech[: 30 * SAMPLE_RATE])
        log.info("detected language %s (p=%.2f)", detected, probability)
        return detected, float(probability)

    def _decode(self, samples, chunks, language, **options) -> list[Segment]:
        clips = [{"start": c.start, "end": c.end} for c in chunks]
        segments, _ = self.pipeline.transcribe(
            samples, language=language, clip_timestamps=clips, word_timestamps=True,
            batch_size=self.settings.batch_size, beam_size=self.settings.beam_size, **options,
        )
        return [_segment(s) for s in segments]

    def _redecode(self, samples, segment: Segment, language) -> list[Segment]:
        """Decode one suspicious stretch again with sampling and a repetition guard."""
        region = SpeechRegion(segment.start, min(segment.end, segment.start + 30.0))
        return self._decode(samples, [region], language, temperature=[0.2, 0.4, 0.6],
                            no_repeat_ngram_size=3, repetition_penalty=1.2)


def _segment(s) -> Segment:
    words = [Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in (s.words or [])]
    return Segment(float(s.start), float(s.end), s.text.strip(), words)
