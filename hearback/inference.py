"""Running a torch network from several threads: one forward at a time, on the model's own share
of the cores, on batches padded to a few fixed sizes.

oneDNN keeps compiled kernels for every input shape it meets: batches of every size from 1 to 64
grew CAM++'s process by 1.7 GB (measured), so batches are padded to one of a few sizes.
"""

from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

BATCH_SIZES = (8, 16, 32, 64)


def padded(batch: np.ndarray, sizes: Sequence[int] = BATCH_SIZES) -> np.ndarray:
    """`batch` with zero rows added up to the next of `sizes` (the caller keeps its first rows)."""
    rows = len(batch)
    size = next(b for b in sizes if b >= rows)
    if size == rows:
        return batch
    return np.concatenate([batch, np.zeros((size - rows, *batch.shape[1:]), batch.dtype)])


class LockedForward:
    """Calls a network under a lock with `threads` torch threads (0: torch's default), restoring
    the process's thread count after: the ASR and the other models share the cores."""

    def __init__(self, model, device, threads: int = 0):
        import torch

        self._torch, self.model, self.device = torch, model, device
        self.threads = threads or torch.get_num_threads()
        self._lock = threading.Lock()

    def __call__(self, batch: np.ndarray):
        torch = self._torch
        with self._lock:
            previous = torch.get_num_threads()
            torch.set_num_threads(self.threads)
            try:
                with torch.inference_mode():
                    return self.model(torch.from_numpy(np.ascontiguousarray(batch)).to(self.device))
            finally:
                torch.set_num_threads(previous)
