"""The production ASR backend: WhisperX's model (faster-whisper large-v3 on the GPU), the same
language-per-region decoding as the embedded backend, then wav2vec2 forced alignment of every
word. Install with `pip install hearback[whisperx]`.

`whisperx.load_model` gives a pipeline whose `.model` is a faster-whisper `WhisperModel`: it is
decoded by `faster_whisper.Decoding` (a language per chunk, every speech region accounted for),
so both backends behave the same; WhisperX adds the alignment. WhisperX's own VAD is loaded with the
model (it ships inside the package) but the speech regions come from Hearback's speech stage, the
same for every backend.

Model locations come from the settings so that an image carries everything on local disk:
`WHISPER_MODEL` (a name or a CTranslate2 directory), `HEARBACK_ALIGN_MODEL_DIR` (the alignment
models: a folder per language, `fr/` and `en/`, each a Hugging Face wav2vec2 checkpoint; or the
cache torchaudio/transformers filled at build time), NLTK's `punkt_tab` data under `NLTK_DATA`, and
WhisperX's VAD under `HEARBACK_BUNDLED_MODELS_DIR` (else the copy inside the whisperx package).
With neither an alignment folder nor the network (`HF_HUB_OFFLINE=1`), Whisper's word times are kept.

The calls into WhisperX (`whisperx.asr.load_model`, `whisperx.vads.Pyannote`,
`whisperx.alignment.load_align_model` and `align`) are checked against the installed library's
signatures by `tests/test_whisperx_contract.py`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time
from pathlib import Path
from typing import Optional

import numpy as np

from hearback.asr.faster_whisper import FasterWhisperAsr
from hearback.asr.segments import segment_of
from hearback.bundled import checked_file
from hearback.errors import ConfigError
from hearback.models import resolve_whisper_model
from hearback.progress import StepProgress
from hearback.result import AsrResult, Segment, SpeechRegion, Voices, Word

log = logging.getLogger(__name__)
ALIGN_SHARE = 0.2  # share of the ASR step's progress for the alignment
VAD_WEIGHTS = "whisperx/assets/pytorch_model.bin"  # under HEARBACK_BUNDLED_MODELS_DIR, as in the package
VAD_WEIGHTS_SHA256 = "0b5b3216d60a2d32fc086b47ea8c67589aaeb26b7e07fcbe620d6d0b83e209ea"  # whisperx 3.8.6
WHISPERX_PACKAGE = "whisperx==3.8.6"
VAD_OPTIONS = {"chunk_size": 30, "vad_onset": 0.500, "vad_offset": 0.363}  # WhisperX's defaults


class WhisperXAsr:
    name = "whisperx"

    def __init__(self, settings, loaded=None):
        """`loaded`: a pipeline from `whisperx.load_model` (loaded from the settings when not given)."""
        if importlib.util.find_spec("whisperx") is None:  # its submodules are imported where used
            raise ConfigError("HEARBACK_ASR_BACKEND=whisperx needs the extra: pip install 'hearback[whisperx]'") from None
        self.settings = settings
        self.ref = resolve_whisper_model(settings.whisper_model, settings.model_cache_dir)
        started = time.perf_counter()
        self.loaded = loaded or _load(self.ref, settings)
        self.decoding = FasterWhisperAsr(settings, model=self.loaded.model)
        self._aligners: dict[str, Optional[tuple]] = {}
        log.info("loaded WhisperX %s in %.1f s", self.ref.name, time.perf_counter() - started)

    def describe(self) -> dict:
        return {"backend": self.name, "name": self.ref.name, "source": self.ref.source,
                "device": self.settings.device, "compute_type": self.settings.compute_type,
                "alignment": sorted(lang for lang, model in self._aligners.items() if model)}

    def transcribe(self, samples: np.ndarray, regions: list[SpeechRegion], language: Optional[str],
                   progress: Optional[StepProgress] = None, offset: float = 0.0,
                   heard: Optional[dict[str, float]] = None, voices: Optional[Voices] = None) -> AsrResult:
        step = (lambda f: progress(f * (1 - ALIGN_SHARE))) if progress else None
        result = self.decoding.transcribe(samples, regions, language, step, offset, heard, voices)
        result.segments = [self._align(s, samples, offset) for s in result.segments]
        if progress:
            progress(1.0)
        return result

    def _align(self, segment: Segment, samples: np.ndarray, offset: float) -> Segment:
        """Word times from wav2vec2; a language without an alignment model keeps Whisper's."""
        aligner = self._aligner(segment.language or "en")
        if aligner is None or not segment.words:
            return segment
        from whisperx.alignment import align

        model, metadata = aligner
        raw = [{"start": segment.start - offset, "end": segment.end - offset, "text": segment.text}]
        aligned = align(raw, model, metadata, samples, self.settings.device, return_char_alignments=False)
        words = _aligned_words(aligned.get("word_segments") or [], segment, offset)
        return segment_of(words, segment.speaker, segment.language) if words else segment

    def _aligner(self, language: str) -> Optional[tuple]:
        """The language's alignment model, loaded once (None, once, when there is none)."""
        if language not in self._aligners:
            self._aligners[language] = _load_aligner(self.settings, language)
        return self._aligners[language]


def _load(ref, settings):
    from whisperx.asr import load_model  # `whisperx.load_model` is a lazy (*args, **kwargs) wrapper of it

    try:
        args, kwargs = load_model_arguments(ref, settings)
        return load_model(*args, **kwargs, vad_model=_vad(settings))
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"cannot load WhisperX model {ref.name!r} ({ref.source}): {exc}") from None


def load_model_arguments(ref, settings) -> tuple[tuple, dict]:
    """What `whisperx.asr.load_model` is given (besides `vad_model`): one place, which the
    contract test binds to the installed signature."""
    return (ref.location, settings.device), dict(
        compute_type=settings.compute_type, download_root=str(settings.model_cache_dir),
        threads=settings.cpu_threads or 4, language="en" if ref.english_only else None)


def vad_arguments(settings) -> Optional[tuple[tuple, dict]]:
    """What `whisperx.vads.Pyannote` is given for the baked copy of WhisperX's VAD (checked), or
    None without HEARBACK_BUNDLED_MODELS_DIR (WhisperX then loads the copy inside its package)."""
    if not settings.bundled_models_dir:
        return None
    import torch

    weights = checked_file(Path(settings.bundled_models_dir) / VAD_WEIGHTS, VAD_WEIGHTS_SHA256, WHISPERX_PACKAGE)
    return (torch.device(settings.device),), dict(token=None, model_fp=str(weights), **VAD_OPTIONS)


def _vad(settings):
    """WhisperX loads a VAD with every model; Hearback's speech stage, the same for every backend,
    finds the speech, so this one only has to load from local disk (the image's /models)."""
    arguments = vad_arguments(settings)
    if arguments is None:
        return None
    from whisperx.vads import Pyannote

    return Pyannote(*arguments[0], **arguments[1])


def _load_aligner(settings, language: str) -> Optional[tuple]:
    location = _align_location(settings, language)
    if not location and os.environ.get("HF_HUB_OFFLINE") == "1":
        log.warning("no alignment model for %s (no HEARBACK_ALIGN_MODEL_DIR, HF_HUB_OFFLINE=1): "
                    "Whisper's word times are kept", language)
        return None
    from whisperx.alignment import load_align_model

    try:
        return load_align_model(language_code=language, device=settings.device, **location)
    except Exception as exc:  # no alignment model for this language on disk
        log.warning("no alignment model for %s (%s): Whisper's word times are kept", language, exc)
        return None


def _align_location(settings, language: str) -> dict:
    """`model_name` = the language's folder under HEARBACK_ALIGN_MODEL_DIR when it exists, else the
    folder is used as WhisperX's download cache (filled at image build time)."""
    if not settings.alignment_model_dir:
        return {}
    folder = Path(settings.alignment_model_dir) / language
    if folder.is_dir():
        return {"model_name": str(folder), "model_dir": settings.alignment_model_dir}
    return {"model_dir": settings.alignment_model_dir}


def _aligned_words(aligned: list[dict], segment: Segment, offset: float) -> list[Word]:
    """wav2vec2's words with times; a word it could not place (numbers, symbols) sits between its
    neighbours; Whisper's word probabilities are kept when the words line up one to one."""
    out: list[Word] = []
    for i, w in enumerate(aligned):
        start, end = w.get("start"), w.get("end")
        if start is None or end is None:
            start = out[-1].end - offset if out else segment.start - offset
            following = next((x.get("start") for x in aligned[i + 1:] if x.get("start") is not None), None)
            end = following if following is not None else segment.end - offset
        text = w["word"] if i == 0 else " " + w["word"]
        score = float(w.get("score", 1.0) or 0.0)
        out.append(Word(text, float(start) + offset, float(max(end, start)) + offset, score))
    if len(out) == len(segment.words):
        out = [Word(a.word, a.start, a.end, b.probability) for a, b in zip(out, segment.words)]
    return out
