"""Array helpers shared by the stages: one L2 normaliser for the whole library, and runs of labels."""

from __future__ import annotations

import numpy as np


def unit(vector: np.ndarray) -> np.ndarray:
    """`vector` scaled to length 1 (float32); a zero vector stays zero."""
    v = np.asarray(vector, np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row of `matrix` scaled to length 1 (float32)."""
    m = np.asarray(matrix, np.float32)
    return m / np.maximum(np.linalg.norm(m, axis=-1, keepdims=True), 1e-9)


def label_runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, label) of each run of equal values in `labels` (end exclusive)."""
    if len(labels) == 0:
        return []
    cuts = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(labels)]])
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, ends)]
