"""Speech recognition: segments with word timestamps, behind one interface.

Backends:
- `faster-whisper` (embedded default): faster-whisper's batched pipeline on the VAD's speech chunks
  (`asr_faster_whisper.py`).
- `whisperx` (production, GPU): WhisperX transcription plus wav2vec2 word alignment
  (`asr_whisperx.py`, optional extra).

Whatever the backend, its raw segments (up to 30 s each) are cut into sentences here, and
segments that look like Whisper's repetition loops are caught (`quality.py`).
"""

from __future__ import annotations

import bisect
from typing import Callable, Optional, Protocol

import numpy as np

from hearback.errors import ConfigError, InputError
from hearback.result import AsrResult, Segment, SpeechRegion, Word
from hearback.settings import Settings

LANGUAGES = ("fr", "en", "auto")
SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
MAX_SEGMENT_SECONDS = 15.0
MAX_PAUSE = 1.2
MAX_WORD_SECONDS = 2.0

Progress = Callable[[float], None]


class AsrBackend(Protocol):
    name: str

    def describe(self) -> dict: ...

    def transcribe(self, samples: np.ndarray, regions: list[SpeechRegion], language: Optional[str],
                   progress: Optional[Progress] = None, offset: float = 0.0) -> AsrResult:
        """Recognise the speech `regions` (from the VAD, in seconds of the recording) of 16 kHz
        `samples`, which start `offset` seconds into the recording."""


def check_language(language: Optional[str]) -> Optional[str]:
    """`fr` / `en` / `auto` (or None) → the code to force, or None to detect."""
    value = (language or "auto").strip().lower()
    if value not in LANGUAGES:
        raise InputError(f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}")
    return None if value == "auto" else value


def load_asr(settings: Settings) -> AsrBackend:
    if settings.asr_backend == "faster-whisper":
        from hearback.asr_faster_whisper import FasterWhisperAsr

        return FasterWhisperAsr(settings)
    if settings.asr_backend == "whisperx":
        from hearback.asr_whisperx import WhisperXAsr

        return WhisperXAsr(settings)
    raise ConfigError(f"HEARBACK_ASR_BACKEND={settings.asr_backend!r}: use faster-whisper or whisperx")


def split_sentences(segments: list[Segment]) -> list[Segment]:
    """Cut long recognised segments at sentence ends, long pauses and MAX_SEGMENT_SECONDS, so that
    each segment reads as one subtitle. Segments without words are kept as they are."""
    out: list[Segment] = []
    for segment in segments:
        if not segment.words:
            out.append(segment)
            continue
        current: list[Word] = []
        for word in segment.words:
            if current and (
                word.start - current[-1].end > MAX_PAUSE
                or word.end - current[0].start > MAX_SEGMENT_SECONDS
            ):
                out.append(segment_of(current))
                current = []
            current.append(word)
            if word.word.strip().endswith(SENTENCE_END) and word.end - current[0].start > 1.0:
                out.append(segment_of(current))
                current = []
        if current:
            out.append(segment_of(current))
    return out


def fit_words_to_speech(segments: list[Segment], regions: list[SpeechRegion],
                        max_word: float = MAX_WORD_SECONDS) -> list[Segment]:
    """Clamp words that run on past their speech region (Whisper sometimes stretches a word over
    the silence or the unrecognised speech after it: an 18 s "copies" was seen)."""
    ends = [r.end for r in regions]
    starts = [r.start for r in regions]
    out = []
    for segment in segments:
        words = []
        for w in segment.words:
            if w.end - w.start > max_word:
                i = bisect.bisect_right(starts, w.start) - 1
                limit = ends[i] if i >= 0 and ends[i] > w.start else w.start + max_word
                w = Word(w.word, w.start, min(w.end, limit, w.start + max_word), w.probability, w.speaker)
            words.append(w)
        out.append(Segment(words[0].start, words[-1].end, segment.text, words, segment.speaker) if words else segment)
    return out


def skipped_regions(regions: list[SpeechRegion], segments: list[Segment], min_seconds: float = 1.0) -> list[SpeechRegion]:
    """Speech regions of at least `min_seconds` that no recognised word overlaps."""
    spans = sorted((w.start, w.end) for s in segments for w in s.words)
    starts = [a for a, _ in spans]
    missed = []
    for region in regions:
        if region.end - region.start < min_seconds:
            continue
        i = bisect.bisect_left(starts, region.end)
        if not any(b > region.start for _, b in spans[max(0, i - 50):i]):
            missed.append(region)
    return missed


def segment_of(words: list[Word], speaker: Optional[str] = None) -> Segment:
    text = "".join(w.word for w in words).strip()
    return Segment(words[0].start, words[-1].end, text, list(words), speaker)
