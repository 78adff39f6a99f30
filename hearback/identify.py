"""Match a recording's speaker clusters to enrolled voiceprints, and put the names in.

Matching is one-to-one across the clusters of one recording (two clusters of one recording are
two people, so they cannot both be Alice): the Hungarian assignment on cosine similarity between
each cluster's embedding and each enrolled speaker's best voiceprint, and a pair below the
threshold stays unknown. Embeddings of different embedders are never compared.

This module is the whole of the matching logic; the RunPod worker calls it with voiceprints given
inline and the speaker service with candidates from its FAISS index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from hearback.errors import InputError
from hearback.result import Identification, Segment, Transcript


@dataclass
class Voiceprint:
    name: str
    vector: np.ndarray
    model: str
    speaker_id: Optional[str] = None


def check_voiceprints(voiceprints: Sequence[Voiceprint], embedder: str, dim: int) -> None:
    """Refuse voiceprints made by another embedder, or of the wrong size, with a clear message."""
    for vp in voiceprints:
        if vp.model != embedder:
            raise InputError(
                f"voiceprint of {vp.name!r} was made with embedding model {vp.model!r}, but this worker runs "
                f"{embedder!r}: embeddings of different models cannot be compared; enrol {vp.name!r} again"
            )
        if len(vp.vector) != dim:
            raise InputError(f"voiceprint of {vp.name!r} has {len(vp.vector)} values; {embedder} gives {dim}")


def match_clusters(
    clusters: dict[str, np.ndarray],
    voiceprints: Sequence[Voiceprint],
    threshold: float,
) -> list[Identification]:
    """One `Identification` per cluster label: a name and score, or `name=None` below threshold."""
    labels = sorted(clusters)
    people = _people(voiceprints)
    scores = np.zeros((len(labels), len(people)), np.float32)
    if labels and people:
        cluster_matrix = np.stack([_unit(clusters[label]) for label in labels])
        for j, (_, _, vectors) in enumerate(people):
            # a speaker with several voiceprints matches by the closest one
            scores[:, j] = (cluster_matrix @ vectors.T).max(axis=1)
    return assign_names(labels, [(name, sid) for name, sid, _ in people], scores, threshold)


def assign_names(labels: Sequence[str], candidates: Sequence[tuple[str, Optional[str]]],
                 scores: np.ndarray, threshold: float) -> list[Identification]:
    """Hungarian assignment of clusters (rows) to candidate speakers (columns, (name, id)), one
    to one; a pair under `threshold` leaves the cluster unknown, with its best score."""
    from scipy.optimize import linear_sum_assignment

    if not len(labels):
        return []
    if not len(candidates):
        return [Identification(label, None, 0.0) for label in labels]
    rows, cols = linear_sum_assignment(-scores)
    chosen = {int(r): int(c) for r, c in zip(rows, cols)}
    out = []
    for r, label in enumerate(labels):
        c = chosen.get(r)
        if c is not None and scores[r, c] >= threshold:
            name, speaker_id = candidates[c]
            out.append(Identification(label, name, float(scores[r, c]), speaker_id))
        else:
            out.append(Identification(label, None, float(scores[r].max())))
    return out


def apply_names(transcript: Transcript, identifications: list[Identification]) -> Transcript:
    """Replace cluster labels by names in segments, words and the speaker list."""
    names = {i.label: i.name for i in identifications if i.name}
    for segment in transcript.segments:
        _rename(segment, names)
    transcript.speakers = [names.get(s, s) for s in transcript.speakers]
    transcript.identifications = identifications
    return transcript


def _rename(segment: Segment, names: dict[str, str]) -> None:
    if segment.speaker in names:
        segment.speaker = names[segment.speaker]
    for word in segment.words:
        if word.speaker in names:
            word.speaker = names[word.speaker]


def _people(voiceprints: Sequence[Voiceprint]) -> list[tuple[str, Optional[str], np.ndarray]]:
    grouped: dict[tuple[str, Optional[str]], list[np.ndarray]] = {}
    for vp in voiceprints:
        grouped.setdefault((vp.name, vp.speaker_id), []).append(_unit(np.asarray(vp.vector, np.float32)))
    return [(name, sid, np.stack(vectors)) for (name, sid), vectors in grouped.items()]


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-9)
