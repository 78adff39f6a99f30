"""Speech recognition: segments with word timestamps and a language per speech region.

Backends (one module each):
- `faster-whisper` (embedded default): a batched decoder over faster-whisper's model that picks a
  language for every chunk of speech and checks that every speech region got words
  (`faster_whisper.py`, with `language.py` and `coverage.py`);
- `whisperx` (production, GPU): the same decoding with WhisperX's model, then wav2vec2 forced
  alignment of every word (`whisperx.py`, optional extra).
Shared helpers: `segments.py` (chunks for the decoder, sentences, word clamping), `loops.py`
(Whisper's repetition loops).
"""

from __future__ import annotations

from typing import Optional, Protocol

import numpy as np

from hearback.errors import ConfigError, InputError
from hearback.progress import StepProgress
from hearback.result import AsrResult, SpeechRegion, Voices
from hearback.settings import Settings

LANGUAGES = ("fr", "en", "auto")
BACKENDS = ("faster-whisper", "whisperx")


class AsrBackend(Protocol):
    name: str

    def describe(self) -> dict: ...

    def transcribe(self, samples: np.ndarray, regions: list[SpeechRegion], language: Optional[str],
                   progress: Optional[StepProgress] = None, offset: float = 0.0,
                   heard: Optional[dict[str, float]] = None,
                   voices: Optional[Voices] = None) -> AsrResult:
        """Recognise the speech `regions` (seconds of the recording) of 16 kHz `samples`, which
        start `offset` seconds into the recording. `language` forces a language (None: detect per
        chunk); `heard` is the seconds of each language heard so far in the recording: the most
        heard is preferred where a short or unclear stretch could be either; `voices`: pieces of
        the speech and a number for who speaks in each, when the diarization knows it already."""


def check_language(language: Optional[str]) -> Optional[str]:
    """`fr` / `en` / `auto` (or None) -> the code to force, or None to detect."""
    value = (language or "auto").strip().lower()
    if value not in LANGUAGES:
        raise InputError(f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}", "bad_language",
                         language=str(language))
    return None if value == "auto" else value


def load_asr(settings: Settings) -> AsrBackend:
    if settings.asr_backend == "faster-whisper":
        from hearback.asr.faster_whisper import FasterWhisperAsr

        return FasterWhisperAsr(settings)
    if settings.asr_backend == "whisperx":
        from hearback.asr.whisperx import WhisperXAsr

        return WhisperXAsr(settings)
    raise ConfigError(f"HEARBACK_ASR_BACKEND={settings.asr_backend!r}: use one of {', '.join(BACKENDS)}")
