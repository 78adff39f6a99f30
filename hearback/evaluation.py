"""Measuring diarization against a reference: shared by the tests and the benchmarks.

Needs the `dev` extra (pyannote.metrics); nothing in the pipeline imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

Turns = Iterable[tuple[float, float, str]]


def read_rttm(path: str | Path) -> list[tuple[float, float, str]]:
    turns = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, length = float(parts[3]), float(parts[4])
            turns.append((start, start + length, parts[7]))
    return turns


def diarization_error_rate(reference: Turns, hypothesis: Turns, collar: float = 0.25) -> float:
    """DER as pyannote.metrics computes it (overlap scored, `collar` seconds forgiven at edges)."""
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = Annotation(), Annotation()
    for start, end, label in reference:
        ref[Segment(start, end)] = label
    for start, end, label in hypothesis:
        hyp[Segment(start, end)] = label
    metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
    return float(metric(ref, hyp, uem=ref.get_timeline().extent() | hyp.get_timeline().extent()
                        if len(hyp) else ref.get_timeline().extent()))
