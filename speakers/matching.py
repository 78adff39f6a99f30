"""Where enrolled voiceprints are looked up: one `Matcher` interface, two implementations.

`FaissMatcher` is the service's: a FAISS index per embedder (inner product on unit vectors is
cosine similarity; they are stored centred, as names are compared), rebuilt from the database at start and kept in step on every enrol, merge and
delete, so identification against 100k voiceprints takes milliseconds. `MemoryMatcher` compares
with every voiceprint by brute force: the command line's `--identify` loads the local database
into it once per run. Both answer the same question (`scores`), and `identification.identify`
does the same checks and the same one-to-one assignment on either.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterable, Optional, Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from hearback.embedders.centre import comparable
from hearback.identify import best_per_speaker
from hearback.vectors import checked_unit
from speakers.tables import Speaker, Voiceprint

# Nearest voiceprints FAISS returns per cluster. A speaker matches by its closest voiceprint, so
# depth only needs to reach every plausible speaker's best one: 16 covers a few voiceprints for
# each of the handful of candidates above the threshold (bench/identification_latency.py).
SEARCH_DEPTH = 16
NOT_COMPARED = -1.0  # the score of a speaker none of whose voiceprints came up for a cluster


@dataclass(frozen=True)
class IndexEntry:
    """What a matcher keeps of a stored `Voiceprint`."""

    voiceprint_id: int
    speaker_id: str
    workspace: str
    embedder: str
    vector: np.ndarray


class Matcher(Protocol):
    def rebuild(self, entries: Iterable[IndexEntry]) -> None:
        """Replace everything with `entries`."""

    def add(self, entry: IndexEntry) -> None: ...

    def reassign(self, voiceprint_ids: list[int], speaker_id: str) -> None:
        """Voiceprints moved to another speaker (a merge)."""

    def remove(self, voiceprint_ids: list[int]) -> None: ...

    def scores(self, embedder: str, workspace: str, queries: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Candidate speaker ids, and for each query row (a unit vector) the naming score (cosine
        with the embedder's mean taken out, `hearback.embedders.centre`) of each candidate's closest
        voiceprint (`NOT_COMPARED` where none was looked at)."""

    def snapshot(self) -> dict[int, str]:
        """voiceprint id -> speaker id, as held (for checks against the database)."""

    def count(self, embedder: Optional[str] = None) -> int: ...


def entry_of(voiceprint: Voiceprint, workspace: str) -> IndexEntry:
    return IndexEntry(voiceprint.id, voiceprint.speaker_id, workspace, voiceprint.embedder, voiceprint.array)


def load(db: DbSession, matcher: Matcher) -> int:
    """Fill `matcher` with every stored voiceprint; returns how many."""
    rows = db.execute(select(Voiceprint, Speaker.workspace).join(Speaker)).all()
    matcher.rebuild(entry_of(voiceprint, workspace) for voiceprint, workspace in rows)
    return len(rows)


class _Owners:
    """Who owns each voiceprint (speaker, workspace): the part both matchers share."""

    def __init__(self) -> None:
        self._owners: dict[int, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self.seen = 0  # the last voiceprint change applied (speakers.index_sync)
        self.synced_at = 0.0  # time.monotonic() of the last catch-up

    def reassign(self, voiceprint_ids: list[int], speaker_id: str) -> None:
        with self._lock:
            for vid in voiceprint_ids:
                self._owners[vid] = (speaker_id, self._owners[vid][1])

    def snapshot(self) -> dict[int, str]:
        with self._lock:
            return {vid: sid for vid, (sid, _) in self._owners.items()}

    def _best_per_speaker(self, hits: list[list[tuple[int, float]]], workspace: str) -> tuple[list[str], np.ndarray]:
        """Per query, (voiceprint id, score) hits -> the best score of each speaker of `workspace`."""
        owner = {vid: self._owners[vid][0] for row in hits for vid, _ in row
                 if vid in self._owners and self._owners[vid][1] == workspace}
        column = {vid: k for k, vid in enumerate(owner)}
        similarity = np.full((len(hits), len(column)), NOT_COMPARED, np.float32)
        for i, row in enumerate(hits):
            for vid, score in row:
                if vid in column:
                    similarity[i, column[vid]] = score
        return best_per_speaker(similarity, list(owner.values()), NOT_COMPARED)


class MemoryMatcher(_Owners):
    """Every voiceprint compared with every query: simple, and fast enough for a CLI run."""

    def __init__(self) -> None:
        super().__init__()
        self._entries: dict[int, IndexEntry] = {}

    def rebuild(self, entries: Iterable[IndexEntry]) -> None:
        entries = list(entries)
        with self._lock:
            self._entries = {e.voiceprint_id: e for e in entries}
            self._owners = {e.voiceprint_id: (e.speaker_id, e.workspace) for e in entries}

    def add(self, entry: IndexEntry) -> None:
        with self._lock:
            self._entries[entry.voiceprint_id] = entry
            self._owners[entry.voiceprint_id] = (entry.speaker_id, entry.workspace)

    def remove(self, voiceprint_ids: list[int]) -> None:
        with self._lock:
            for vid in voiceprint_ids:
                self._entries.pop(vid, None)
                self._owners.pop(vid, None)

    def scores(self, embedder: str, workspace: str, queries: np.ndarray) -> tuple[list[str], np.ndarray]:
        with self._lock:
            chosen = [e for e in self._entries.values() if e.embedder == embedder and e.workspace == workspace]
            if not chosen:
                return [], np.zeros((len(queries), 0), np.float32)
            stored = comparable(checked_unit(np.stack([e.vector for e in chosen])), embedder)
            similarity = comparable(queries, embedder) @ stored.T
            return best_per_speaker(similarity, [self._owners[e.voiceprint_id][0] for e in chosen], NOT_COMPARED)

    def count(self, embedder: Optional[str] = None) -> int:
        with self._lock:
            return sum(1 for e in self._entries.values() if embedder is None or e.embedder == embedder)


class FaissMatcher(_Owners):
    """A FAISS inner-product index per embedder, mapping FAISS ids to voiceprint ids."""

    def __init__(self) -> None:
        super().__init__()
        self._indexes: dict[str, object] = {}
        self._dims: dict[str, int] = {}

    def rebuild(self, entries: Iterable[IndexEntry]) -> None:
        by_embedder: dict[str, list[IndexEntry]] = {}
        for entry in entries:
            by_embedder.setdefault(entry.embedder, []).append(entry)
        with self._lock:
            self._indexes.clear()
            self._dims.clear()
            self._owners = {e.voiceprint_id: (e.speaker_id, e.workspace)
                            for group in by_embedder.values() for e in group}
            for embedder, group in by_embedder.items():
                ids = np.array([e.voiceprint_id for e in group], np.int64)
                index = self._index(embedder, len(group[0].vector))
                index.add_with_ids(comparable(checked_unit(np.stack([e.vector for e in group])), embedder), ids)

    def add(self, entry: IndexEntry) -> None:
        with self._lock:
            index = self._index(entry.embedder, len(entry.vector))
            index.add_with_ids(comparable(checked_unit(entry.vector[None, :]), entry.embedder),
                               np.array([entry.voiceprint_id], np.int64))
            self._owners[entry.voiceprint_id] = (entry.speaker_id, entry.workspace)

    def remove(self, voiceprint_ids: list[int]) -> None:
        if not voiceprint_ids:
            return
        with self._lock:
            ids = np.array(voiceprint_ids, np.int64)
            for index in self._indexes.values():
                index.remove_ids(ids)
            for vid in voiceprint_ids:
                self._owners.pop(vid, None)

    def scores(self, embedder: str, workspace: str, queries: np.ndarray) -> tuple[list[str], np.ndarray]:
        with self._lock:
            index = self._indexes.get(embedder)
            if index is None or index.ntotal == 0:
                return [], np.zeros((len(queries), 0), np.float32)
            found, ids = index.search(np.ascontiguousarray(comparable(queries, embedder)), min(SEARCH_DEPTH, index.ntotal))
            hits = [[(int(i), float(s)) for s, i in zip(row_s, row_i) if i >= 0] for row_s, row_i in zip(found, ids)]
            return self._best_per_speaker(hits, workspace)

    def count(self, embedder: Optional[str] = None) -> int:
        with self._lock:
            if embedder is not None:
                index = self._indexes.get(embedder)
                return 0 if index is None else index.ntotal
            return sum(index.ntotal for index in self._indexes.values())

    def _index(self, embedder: str, dim: int):
        import faiss

        if embedder not in self._indexes:
            self._indexes[embedder] = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
            self._dims[embedder] = dim
        elif self._dims[embedder] != dim:
            raise ValueError(f"{embedder} vectors have {self._dims[embedder]} dimensions, not {dim}")
        return self._indexes[embedder]
