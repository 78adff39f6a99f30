"""Shaping what the recogniser says: segments cut into sentences that read as subtitles, words
kept inside the speech."""

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
CONTIGUOUS = 0.05  # seconds: the next word starts where this one ends


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

    Its word times are contiguous: a word ends where the next one starts. So a word that runs over
    a pause and ends where the next word starts, in speech, had the pause put before it (the first
    word after a pause starts too early: the next speaker's first word then lands on the previous
    speaker): it starts where that speech starts. A word with no next word at its end ran on past
    its speech into the silence after it (an 18 s "copies" was seen): it ends where its speech ends."""
    starts = [r.start for r in regions]
    words = [w for segment in segments for w in segment.words]
    following = {id(w): nxt for w, nxt in zip(words, words[1:])}
    out = []
    for segment in segments:
        fitted = [_fitted(w, following.get(id(w)), regions, starts, max_word) for w in segment.words]
        out.append(replace(segment, start=fitted[0].start, end=fitted[-1].end, words=fitted) if fitted else segment)
    return out


def _fitted(word: Word, following: Optional[Word], regions: list[SpeechRegion], starts: list[float],
            max_word: float) -> Word:
    inside = [r for r in regions[max(0, bisect.bisect_right(starts, word.start) - 1):]
              if r.start < word.end and r.end > word.start]
    gaps = sum(b.start - a.end for a, b in zip(inside, inside[1:]))
    if len(inside) >= 2 and gaps >= MIN_GAP_INSIDE_WORD:
        last = inside[-1]
        if following is not None and abs(following.start - word.end) <= CONTIGUOUS and last.start < word.end <= last.end:
            return replace(word, start=last.start, end=min(word.end, last.start + max_word))
        return replace(word, end=min(word.end, inside[0].end, word.start + max_word))
    if word.end - word.start <= max_word:
        return word
    limit = inside[0].end if inside else word.start + max_word
    return replace(word, end=min(word.end, limit, word.start + max_word))


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
