"""Every second of speech accounted for: which speech regions the recognised words cover.

A word covers its own span (at most MAX_WORD_SECONDS of it), widened by WORD_PAD on each side
(word times from cross-attention are approximate); words less than WORD_GAP apart also cover the
pause between them (a breath inside a sentence). A stretch of speech of at least
MIN_MISSED_SECONDS that no word covers is "missed": it is decoded again on its own (Whisper often
stops after the first sentence of a long region with two voices; the rest, decoded alone, comes
out), and reported as untranscribed if it still has none.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from hearback.asr.segments import MAX_WORD_SECONDS
from hearback.result import Segment, SpeechRegion

WORD_PAD = 0.25
WORD_GAP = 1.0
MIN_MISSED_SECONDS = 0.8  # a shorter stretch without words is usually a cough, a laugh, a "hm"
STEP = 0.01  # resolution of the coverage count, seconds


def covered_spans(segments: Iterable[Segment]) -> list[tuple[float, float]]:
    """Spans the words cover, merged."""
    # a word stretched over the rest of its window (a 24 s "pas..." after a translated sentence was
    # seen) covers no more than a word can last: the speech after it is still missed
    words = sorted((w.start, min(w.end, w.start + MAX_WORD_SECONDS)) for s in segments for w in s.words)
    spans: list[tuple[float, float]] = []
    for start, end in words:
        start, end = start - WORD_PAD, end + WORD_PAD
        if spans and start <= spans[-1][1] + WORD_GAP - 2 * WORD_PAD:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def region_coverage(region: SpeechRegion, spans: list[tuple[float, float]]) -> float:
    """Share of `region` inside `spans` (sorted, merged)."""
    length = region.end - region.start
    if length <= 0:
        return 1.0
    inside = sum(max(0.0, min(region.end, b) - max(region.start, a)) for a, b in spans
                 if a < region.end and b > region.start)
    return min(1.0, inside / length)


def missed_regions(regions: list[SpeechRegion], segments: list[Segment],
                   min_seconds: float = MIN_MISSED_SECONDS) -> list[SpeechRegion]:
    """Stretches of speech of at least `min_seconds` that no word covers."""
    spans = covered_spans(segments)
    out = []
    for region in regions:
        out += [gap for gap in _gaps(region, spans) if gap.end - gap.start >= min_seconds]
    return out


def _gaps(region: SpeechRegion, spans: list[tuple[float, float]]) -> list[SpeechRegion]:
    """The parts of `region` outside `spans` (sorted, merged)."""
    out, at = [], region.start
    for a, b in spans:
        if b <= at or a >= region.end:
            continue
        if a > at:
            out.append(SpeechRegion(at, a))
        at = max(at, b)
    if at < region.end:
        out.append(SpeechRegion(at, region.end))
    return out


def speech_covered(regions: list[SpeechRegion], segments: list[Segment]) -> float:
    """Share of all speech (seconds of the regions) that the words cover."""
    total = sum(r.end - r.start for r in regions)
    if total <= 0:
        return 1.0
    spans = covered_spans(segments)
    return float(np.clip(sum(region_coverage(r, spans) * (r.end - r.start) for r in regions) / total, 0.0, 1.0))
