"""Array helpers: the one L2 normaliser of the library and the service, and runs of labels."""

from __future__ import annotations

import numpy as np

from hearback.errors import InputError


def unit(vectors) -> np.ndarray:
    """A float32 copy of a vector, or of each row of a matrix, scaled to length 1 (a zero row stays
    zero): inner products of unit vectors are cosine similarities."""
    m = np.asarray(vectors, np.float32)
    return m / np.maximum(np.linalg.norm(m, axis=-1, keepdims=True), 1e-9)


def checked_unit(vectors) -> np.ndarray:
    """`unit`, for a vector that will be stored or compared with stored ones: a zero or non-finite
    vector has no direction to compare, so it is refused rather than stored."""
    m = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    if m.size == 0 or not np.all(np.isfinite(norms)) or np.any(norms == 0):
        raise InputError("an embedding must be a non-zero vector of finite numbers", "bad_embedding")
    return m / norms


def label_runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, label) of each run of equal values in `labels` (end exclusive)."""
    if len(labels) == 0:
        return []
    cuts = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(labels)]])
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, ends)]
