"""Give every word and segment a speaker, splitting segments where the speaker changes.

A word takes the speaker whose turns overlap it most; a word that falls in no turn (the VAD and
the recogniser disagree by a few hundred milliseconds at edges) takes the nearest turn's speaker.
A lone short word flanked by one other speaker on both sides is an artefact of the turn boundary
and keeps its neighbours' speaker. A segment never mixes two speakers.
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from typing import Optional

from hearback.asr.segments import segment_of
from hearback.result import Segment, Turn, Word

LONE_WORD_SECONDS = 0.5


def assign_speakers(segments: list[Segment], turns: list[Turn]) -> list[Segment]:
    if not turns:
        return segments
    turns = sorted(turns, key=lambda t: t.start)
    index = _TurnIndex(turns)
    out: list[Segment] = []
    for segment in segments:
        if not segment.words:
            out.append(replace(segment, speaker=index.speaker_at(segment.start, segment.end)))
            continue
        words = [replace(w, speaker=index.speaker_at(w.start, w.end)) for w in segment.words]
        _smooth_lone_words(words)
        out.extend(_split_by_speaker(words, segment.language))
    return out


class _TurnIndex:
    def __init__(self, turns: list[Turn]):
        self.turns = turns
        self.starts = [t.start for t in turns]
        # turns may overlap (pyannote); the longest turn bounds how far back to look
        self.longest = max(t.end - t.start for t in turns)

    def speaker_at(self, start: float, end: float) -> Optional[str]:
        lo = bisect.bisect_left(self.starts, start - self.longest)
        hi = bisect.bisect_right(self.starts, end)
        overlap: dict[str, float] = {}
        for turn in self.turns[lo:hi]:
            o = min(end, turn.end) - max(start, turn.start)
            if o > 0:
                overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + o
        if overlap:
            return max(overlap, key=overlap.get)
        return self._nearest(start, end)

    def _nearest(self, start: float, end: float) -> str:
        middle = (start + end) / 2
        i = bisect.bisect_left(self.starts, middle)
        candidates = self.turns[max(0, i - 2):i + 2]
        return min(candidates, key=lambda t: max(t.start - middle, middle - t.end, 0.0)).speaker


def _smooth_lone_words(words: list[Word]) -> None:
    for i in range(1, len(words) - 1):
        before, word, after = words[i - 1], words[i], words[i + 1]
        if (before.speaker == after.speaker != word.speaker
                and word.end - word.start < LONE_WORD_SECONDS):
            word.speaker = before.speaker


def _split_by_speaker(words: list[Word], language: Optional[str]) -> list[Segment]:
    out: list[Segment] = []
    run: list[Word] = []
    for word in words:
        if run and word.speaker != run[-1].speaker:
            out.append(segment_of(run, run[0].speaker, language))
            run = []
        run.append(word)
    if run:
        out.append(segment_of(run, run[0].speaker, language))
    return out
