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
MIN_GAP_INSIDE_WORD = 0.5  # seconds of silence inside a word that show its alignment ran over a pause
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
    """Put back into speech the words Whisper's alignment stretched over a silence.

    Such a word runs either from its speech into the silence after it (an 18 s "copies" was seen)
    or, as often, from the end of the previous speech over the pause before it (the first word of
    the next speaker then lands on the previous one). The side holding more of the word's speech is
    where it was said: the word is cut back to that region."""
    starts = [r.start for r in regions]
    out = []
    for segment in segments:
        words = [_fitted(w, regions, starts, max_word) for w in segment.words]
        out.append(replace(segment, start=words[0].start, end=words[-1].end, words=words) if words else segment)
    return out


def _fitted(word: Word, regions: list[SpeechRegion], starts: list[float], max_word: float) -> Word:
    inside = [r for r in regions[max(0, bisect.bisect_right(starts, word.start) - 1):]
              if r.start < word.end and r.end > word.start]
    gaps = sum(b.start - a.end for a, b in zip(inside, inside[1:]))
    if len(inside) < 2 or gaps < MIN_GAP_INSIDE_WORD:
        if word.end - word.start <= max_word:
            return word
        limit = inside[0].end if inside else word.start + max_word
        return replace(word, end=min(word.end, limit, word.start + max_word))
    middle = (word.start + word.end) / 2
    early = sum(max(0.0, min(r.end, middle) - max(r.start, word.start)) for r in inside)
    late = sum(max(0.0, min(r.end, word.end) - max(r.start, middle)) for r in inside)
    if late > early:  # said after the pause: from the start of the last speech it overlaps
        start = max(word.start, inside[-1].start)
        return replace(word, start=start, end=min(word.end, start + max_word))
    return replace(word, end=min(word.end, inside[0].end, word.start + max_word))


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
