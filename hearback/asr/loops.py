"""Catch Whisper's repetition loops ("merci merci merci ...", one sentence twenty times).

A segment is suspicious when its text compresses too well (zlib ratio above 2.4, Whisper's own
fallback threshold) or when one n-gram of 1 to 6 words repeats back to back at least 4 times. A
suspicious segment is decoded again (the backend uses sampling and a no-repeat constraint); if the
new text is still a loop, the repeats are cut down to one; if nothing sensible remains, the segment
is dropped. With timestamps, Whisper also loops one sentence as many short segments ("What do you
mean?" seventeen times over a French turn decoded as English): three or more consecutive
segments with the same words are joined and treated as one looping segment. Counts go into the
transcript's `quality` metadata.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, replace
from typing import Callable

from hearback.result import Segment

MAX_COMPRESSION_RATIO = 2.4
MIN_REPEATS = 4
MAX_NGRAM = 6
MIN_SEGMENT_REPEATS = 3  # the same sentence this many times in a row is a loop, not an echo


@dataclass
class Repair:
    segments: list[Segment]
    redecoded: int = 0
    dropped: int = 0


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def longest_loop(tokens: list[str]) -> tuple[int, int, int]:
    """(start, n, repeats) of the longest back-to-back repetition of an n-gram, repeats >= 2."""
    best = (0, 0, 1)
    for n in range(1, MAX_NGRAM + 1):
        i = 0
        while i + 2 * n <= len(tokens):
            repeats = 1
            while tokens[i + repeats * n:i + (repeats + 1) * n] == tokens[i:i + n]:
                repeats += 1
            if repeats > 1 and repeats * n > best[1] * best[2]:
                best = (i, n, repeats)
            i += max(1, (repeats - 1) * n) if repeats > 1 else 1
    return best


def is_loop(text: str) -> bool:
    if len(text) > 40 and compression_ratio(text) > MAX_COMPRESSION_RATIO:
        return True
    _, n, repeats = longest_loop(_tokens(text))
    return n > 0 and repeats >= MIN_REPEATS


def collapse_loop(segment: Segment) -> Segment | None:
    """Keep one copy of the repeated n-gram; None when that leaves nothing worth keeping."""
    words = segment.words
    tokens = [(_tokens(w.word) or [""])[0] for w in words]
    start, n, repeats = longest_loop(tokens)
    if n == 0 or repeats < 2 or len(tokens) != len(words):
        return None
    kept = words[: start + n] + words[start + n * repeats:]
    if not kept:
        return None
    text = "".join(w.word for w in kept).strip()
    if is_loop(text) or len(_tokens(text)) == 0:
        return None
    return replace(segment, start=kept[0].start, end=kept[-1].end, text=text, words=kept)


def repair_loops(segments: list[Segment], redecode: Callable[[Segment], list[Segment]]) -> Repair:
    out = Repair([])
    for segment, repeated in join_repeats(segments):
        if not repeated and not is_loop(segment.text):
            out.segments.append(segment)
            continue
        out.redecoded += 1
        again = [s for s in redecode(segment) if s.text.strip()]
        if again and not any(is_loop(s.text) for s in again):
            out.segments.extend(again)
            continue
        collapsed = collapse_loop(segment)
        if collapsed is None:
            out.dropped += 1
        else:
            out.segments.append(collapsed)
    return out


def join_repeats(segments: list[Segment]) -> list[tuple[Segment, bool]]:
    """Segments, with runs of MIN_SEGMENT_REPEATS or more identical ones joined: (segment, joined)."""
    out: list[tuple[Segment, bool]] = []
    i = 0
    while i < len(segments):
        j = i + 1
        key = " ".join(_tokens(segments[i].text))
        while j < len(segments) and key and " ".join(_tokens(segments[j].text)) == key:
            j += 1
        if j - i >= MIN_SEGMENT_REPEATS:
            run = segments[i:j]
            words = [w for s in run for w in s.words]
            out.append((replace(run[0], end=run[-1].end, text=" ".join(s.text for s in run), words=words), True))
        else:
            out += [(s, False) for s in segments[i:j]]
        i = j
    return out
