"""The one L2-normaliser of the service: inner products of unit vectors are cosine similarities."""

from __future__ import annotations

import numpy as np

from hearback.errors import InputError


def unit(vectors) -> np.ndarray:
    """A float32 copy of a vector, or of each row of a matrix, scaled to length 1.

    A zero or non-finite vector has no direction to compare, so it is refused rather than stored."""
    m = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    if m.size == 0 or not np.all(np.isfinite(norms)) or np.any(norms == 0):
        raise InputError("an embedding must be a non-zero vector of finite numbers")
    return m / norms
