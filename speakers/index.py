"""A FAISS index of enrolled voiceprints, one per embedding model.

Inner product on L2-normalised vectors is cosine similarity. Each index maps FAISS ids to
voiceprint ids; it is rebuilt from the database at start and updated on every enrol, merge and
delete (the database stays the truth: `rebuild` can always recover it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


@dataclass
class Hit:
    voiceprint_id: int
    speaker_id: str
    workspace: str
    score: float


class VoiceIndex:
    def __init__(self):
        self._indexes: dict[str, object] = {}
        self._dims: dict[str, int] = {}
        self._owners: dict[int, tuple[str, str]] = {}  # voiceprint id -> (speaker id, workspace)
        self._lock = threading.Lock()

    def rebuild(self, rows: list[tuple[int, str, str, str, np.ndarray]]) -> None:
        """Replace everything with (voiceprint id, speaker id, workspace, model, vector) rows."""
        with self._lock:
            self._indexes.clear()
            self._dims.clear()
            self._owners = {vid: (sid, ws) for vid, sid, ws, _, _ in rows}
            by_model: dict[str, list[tuple[int, np.ndarray]]] = {}
            for vid, _, _, model, vector in rows:
                by_model.setdefault(model, []).append((vid, vector))
            for model, items in by_model.items():
                ids = np.array([vid for vid, _ in items], np.int64)
                self._index(model, len(items[0][1])).add_with_ids(_matrix([v for _, v in items]), ids)

    def add(self, voiceprint_id: int, speaker_id: str, workspace: str, model: str, vector: np.ndarray) -> None:
        with self._lock:
            self._index(model, len(vector)).add_with_ids(_matrix([vector]), np.array([voiceprint_id], np.int64))
            self._owners[voiceprint_id] = (speaker_id, workspace)

    def reassign(self, voiceprint_ids: list[int], speaker_id: str) -> None:
        """Voiceprints moved to another speaker (a merge): their vectors stay, their owner changes."""
        with self._lock:
            for vid in voiceprint_ids:
                self._owners[vid] = (speaker_id, self._owners[vid][1])

    def remove(self, voiceprint_ids: list[int]) -> None:
        if not voiceprint_ids:
            return
        with self._lock:
            ids = np.array(voiceprint_ids, np.int64)
            for index in self._indexes.values():
                index.remove_ids(ids)
            for vid in voiceprint_ids:
                self._owners.pop(vid, None)

    def search(self, model: str, vectors: np.ndarray, k: int = 32) -> list[list[Hit]]:
        """The k nearest voiceprints of `model` for each query vector."""
        with self._lock:
            index = self._indexes.get(model)
            if index is None or index.ntotal == 0:
                return [[] for _ in range(len(vectors))]
            scores, ids = index.search(_matrix(vectors), min(k, index.ntotal))
            owners = self._owners
            return [[Hit(int(i), *owners[int(i)], float(s)) for s, i in zip(row_s, row_i) if int(i) in owners]
                    for row_s, row_i in zip(scores, ids)]

    def snapshot(self) -> dict[int, str]:
        """voiceprint id -> speaker id, as indexed (for checks against the database)."""
        with self._lock:
            return {vid: sid for vid, (sid, _) in self._owners.items()}

    def count(self, model: str | None = None) -> int:
        with self._lock:
            if model is not None:
                index = self._indexes.get(model)
                return 0 if index is None else index.ntotal
            return sum(index.ntotal for index in self._indexes.values())

    def _index(self, model: str, dim: int):
        import faiss

        if model not in self._indexes:
            self._indexes[model] = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
            self._dims[model] = dim
        elif self._dims[model] != dim:
            raise ValueError(f"{model} vectors have {self._dims[model]} dimensions, not {dim}")
        return self._indexes[model]


def _matrix(vectors) -> np.ndarray:
    m = np.ascontiguousarray(np.stack([np.asarray(v, np.float32) for v in vectors]))
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.maximum(norms, 1e-9)
