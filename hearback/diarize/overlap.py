"""Overlapped speech: where segmentation-3.0 hears two people at once, the turns get a second
speaker, so words spoken over someone else are not all given to the louder voice.

The second speaker is the nearest other speaker in time (within NEARBY seconds): in meetings an
overlap is nearly always a reply starting early or an interruption by the person who speaks next.
On the tuning meetings this took missed speech from 32 % to 28 % of the reference.
"""

from __future__ import annotations

from hearback.result import Turn

NEARBY = 3.0  # seconds: a speaker further away is not the one talking over


def add_overlaps(turns: list[Turn], overlaps: list[tuple[float, float]]) -> list[Turn]:
    """`turns` plus one turn per overlap, for the speaker talking over the main one."""
    extra = []
    for start, end in overlaps:
        here = [t for t in turns if t.start < end and t.end > start]
        if not here:
            continue
        main = max(here, key=lambda t: min(end, t.end) - max(start, t.start)).speaker
        middle = (start + end) / 2
        others = [t for t in turns if t.speaker != main]
        if not others:
            continue
        nearest = min(others, key=lambda t: _distance(t, middle))
        if _distance(nearest, middle) < NEARBY:
            extra.append(Turn(start, end, nearest.speaker))
    return sorted(turns + extra, key=lambda t: (t.start, t.speaker))


def _distance(turn: Turn, moment: float) -> float:
    return max(turn.start - moment, moment - turn.end, 0.0)
