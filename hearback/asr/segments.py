"""Shaping what the recogniser hears and says: chunks of speech for the decoder, and segments cut
into sentences that read as subtitles."""

from __future__ import annotations

import bisect
from dataclasses import replace
from typing import Optional

from hearback.result import Segment, SpeechRegion, Word

SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
MAX_SEGMENT_SECONDS = 15.0  # a subtitle longer than this is hard to read
MAX_PAUSE = 1.2  # a pause this long inside a segment starts a new one
MAX_WORD_SECONDS = 2.0  # no real word lasts longer; Whisper sometimes stretches one over a silence
CHUNK_SECONDS = 30.0  # Whisper's window


def asr_chunks(regions: list[SpeechRegion], max_seconds: float = CHUNK_SECONDS) -> list[SpeechRegion]:
    """Group consecutive speech regions into chunks no longer than Whisper's 30 s window."""
    chunks: list[SpeechRegion] = []
    for region in regions:
        if chunks and region.end - chunks[-1].start <= max_seconds:
            chunks[-1] = SpeechRegion(chunks[-1].start, region.end)
        else:
            chunks.append(SpeechRegion(region.start, min(region.end, region.start + max_seconds)))
    return chunks


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
            if current and (word.start - current[-1].end > MAX_PAUSE
                            or word.end - current[0].start > MAX_SEGMENT_SECONDS):
                out.append(segment_of(current, segment.speaker, segment.language))
                current = []
            current.append(word)
            if word.word.strip().endswith(SENTENCE_END) and word.end - current[0].start > 1.0:
                out.append(segment_of(current, segment.speaker, segment.language))
                current = []
        if current:
            out.append(segment_of(current, segment.speaker, segment.language))
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
                w = replace(w, end=min(w.end, limit, w.start + max_word))
            words.append(w)
        out.append(replace(segment, start=words[0].start, end=words[-1].end, words=words) if words else segment)
    return out


def segment_of(words: list[Word], speaker: Optional[str] = None, language: Optional[str] = None) -> Segment:
    text = "".join(w.word for w in words).strip()
    return Segment(words[0].start, words[-1].end, text, list(words), speaker, language)


def replace_words(segments: list[Segment], region: SpeechRegion, new: list[Segment]) -> list[Segment]:
    """`segments` with the words spoken inside `region` replaced by the `new` segments."""
    out: list[Segment] = []
    for segment in segments:
        kept = [w for w in segment.words if not region.start <= (w.start + w.end) / 2 < region.end]
        if len(kept) == len(segment.words):
            out.append(segment)
        elif kept:
            out.append(segment_of(kept, segment.speaker, segment.language))
    return sorted(out + new, key=lambda s: s.start)


def words_inside(segments: list[Segment], region: SpeechRegion) -> list[Word]:
    return [w for s in segments for w in s.words if region.start <= (w.start + w.end) / 2 < region.end]
