"""Vector helpers shared by the stages: one L2 normaliser for the whole library."""

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
