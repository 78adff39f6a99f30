"""The production ASR backend: WhisperX (faster-whisper large-v3, batched, its own VAD) followed by
wav2vec2 forced alignment of every word. Install with `pip install hearback[whisperx]`.

Model locations come from the settings so that an image can carry everything on local disk:
`WHISPER_MODEL` (a name or a CTranslate2 directory), `HEARBACK_ALIGN_MODEL_DIR` (the alignment
models' cache, with `fr` and `en` models baked in) and NLTK's `punkt_tab` data under `NLTK_DATA`.
WhisperX runs its own VAD; the pipeline's speech regions only tell it whether there is speech at all.
"""

from __future__ import annotations

import logging
import time
from typing import Optional

import numpy as np

from hearback.asr import Progress, split_sentences
from hearback.errors import ConfigError, InputError
from hearback.models import resolve_whisper_model
from hearback.result import AsrResult, Segment, SpeechRegion, Word
from hearback.settings import Settings

log = logging.getLogger(__name__)


class WhisperXAsr:
    name = "whisperx"

    def __init__(self, settings: Settings):
        try:
            import whisperx
        except ImportError:
            raise ConfigError("HEARBACK_ASR_BACKEND=whisperx needs the extra: pip install 'hearback[whisperx]'") from None
        self._whisperx = whisperx
        self.settings = settings
        self.ref = resolve_whisper_model(settings.whisper_model, settings.model_cache_dir)
        started = time.perf_counter()
        try:
            self.model = whisperx.load_model(
                self.ref.location, settings.device, compute_type=settings.compute_type,
                download_root=str(settings.model_cache_dir), threads=settings.cpu_threads or 4,
            )
        except Exception as exc:
            raise ConfigError(f"cannot load WhisperX model {self.ref.name!r} ({self.ref.source}): {exc}") from None
        self._aligners: dict[str, tuple] = {}
        log.info("loaded WhisperX %s in %.1f s", self.ref.name, time.perf_counter() - started)

    def describe(self) -> dict:
        return {"backend": self.name, "name": self.ref.name, "source": self.ref.source,
                "device": self.settings.device, "compute_type": self.settings.compute_type,
                "alignment": sorted(self._aligners)}

    def transcribe(self, samples: np.ndarray, regions: list[SpeechRegion], language: Optional[str],
                   progress: Optional[Progress] = None, offset: float = 0.0) -> AsrResult:
        if self.ref.english_only and language not in (None, "en"):
            raise InputError(f"the model {self.ref.name} is English-only: use language en or auto")
        if not regions:
            return AsrResult([], language or "en", 0.0)
        result = self.model.transcribe(samples, batch_size=self.settings.batch_size,
                                       language=language or ("en" if self.ref.english_only else None))
        detected = result.get("language") or language or "en"
        if progress:
            progress(0.6)
        segments = [s.shifted(offset) for s in self._align(result["segments"], samples, detected)]
        if progress:
            progress(1.0)
        return AsrResult(split_sentences(segments), detected, 1.0 if language else float("nan"))

    def _align(self, raw: list[dict], samples: np.ndarray, language: str) -> list[Segment]:
        """Word times from wav2vec2; a language without an alignment model keeps segment times."""
        try:
            model, metadata = self._aligner(language)
        except Exception as exc:  # no alignment model for this language on disk
            log.warning("no alignment model for %s (%s): words get even spacing in each segment", language, exc)
            return [_spread(s) for s in raw]
        aligned = self._whisperx.align(raw, model, metadata, samples, self.settings.device,
                                       return_char_alignments=False)
        return [_from_aligned(s) for s in aligned["segments"] if s.get("text", "").strip()]

    def _aligner(self, language: str):
        if language not in self._aligners:
            directory = self.settings.alignment_model_dir or None
            self._aligners[language] = self._whisperx.load_align_model(
                language_code=language, device=self.settings.device, model_dir=directory)
        return self._aligners[language]


def _from_aligned(segment: dict) -> Segment:
    words = segment.get("words") or []
    out: list[Word] = []
    for i, w in enumerate(words):
        start, end = w.get("start"), w.get("end")
        if start is None or end is None:  # numbers and symbols wav2vec2 cannot align
            start = out[-1].end if out else float(segment["start"])
            following = next((x.get("start") for x in words[i + 1:] if x.get("start") is not None), None)
            end = following if following is not None else float(segment["end"])
        text = w["word"] if i == 0 else " " + w["word"]
        out.append(Word(text, float(start), float(max(end, start)), float(w.get("score", 1.0) or 0.0)))
    if not out:
        return _spread(segment)
    return Segment(out[0].start, out[-1].end, segment["text"].strip(), out)


def _spread(segment: dict) -> Segment:
    tokens = segment["text"].split()
    start, end = float(segment["start"]), float(segment["end"])
    step = (end - start) / max(len(tokens), 1)
    words = [Word((" " if i else "") + t, start + i * step, start + (i + 1) * step, 0.0) for i, t in enumerate(tokens)]
    return Segment(start, end, segment["text"].strip(), words)
