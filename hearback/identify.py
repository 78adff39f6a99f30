"""Match a recording's speaker clusters to enrolled voiceprints, and put the names in.

Matching is one-to-one across the clusters of one recording (two clusters of one recording are
two people, so they cannot both be Alice): the Hungarian assignment on cosine similarity between
each cluster's embedding and each enrolled speaker's best voiceprint, and a pair below the
threshold stays unknown. Embeddings of different embedders are never compared.

Voiceprints are `expected` (a participant: the recording is theirs, and they anchored the
diarization) or not (someone else enrolled): a cluster the anchoring gave to a participant is
theirs when it also clears the threshold; the other clusters go to the remaining participants at
the same threshold, and only then to anyone else enrolled, at a stricter one: a wrong name is
worse than no name.

This module is the whole of the matching logic; the RunPod worker calls it with voiceprints given
inline and the speaker service with candidates from its FAISS index.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Sequence

import numpy as np

from hearback.diarize.anchors import Participant
from hearback.embedders.centre import comparable
from hearback.errors import InputError
from hearback.result import Identification, Missed, Segment, Transcript
from hearback.vectors import unit


@dataclass
class KnownVoice:
    """An enrolled voice as the pipeline is given it (the service stores it as `speakers.tables.Voiceprint`)."""

    name: str
    vector: np.ndarray
    embedder: str
    speaker_id: Optional[str] = None
    expected: bool = True  # a participant of the recording

    @property
    def key(self) -> str:
        return self.speaker_id or self.name


def participants(voiceprints: Optional[Sequence[KnownVoice]]) -> list[Participant]:
    """The expected people among `voiceprints`, each with all of their voiceprints (the anchors)."""
    return [Participant(key, vectors) for key, (_, _, vectors) in _people(voiceprints or [], expected=True).items()]


@dataclass(frozen=True)
class ClearRule:
    """When a cluster is clearly a participant's although under the naming threshold: a recording
    of phone-band or compressed speech scores every match lower, its strangers too, so the
    threshold alone leaves many participants unnamed. A cluster still unnamed takes the name of a
    participant still unnamed when its score with them is at least `score`, at least `margin` above
    that participant's score with every other cluster of the recording, and at least `other_margin`
    above its own score with every other participant (calibrated per embedder)."""

    score: float
    margin: float
    other_margin: float


def name_clusters(clusters: dict[str, np.ndarray], voiceprints: Sequence[KnownVoice], threshold: float,
                  stricter: float, owners: Optional[dict[str, str]] = None,
                  clear: Optional[ClearRule] = None) -> list[Identification]:
    """One `Identification` per cluster label. `owners`: clusters the anchoring gave to a
    participant (label -> key); `stricter`: the score anyone not expected needs; `clear`: the
    rule by which a participant still unnamed may take a cluster still unnamed. Scores are cosines
    with the embedder's mean taken out (`hearback.embedders.centre`)."""
    clusters, voiceprints = _compared(clusters, voiceprints)
    labels = sorted(clusters)
    found: dict[str, Identification] = {}
    expected, others = _people(voiceprints, expected=True), _people(voiceprints, expected=False)
    for label, key in (owners or {}).items():
        if label in clusters and key in expected:
            name, speaker_id, vectors = expected[key]
            score = float((vectors @ unit(clusters[label])).max())
            if score >= threshold:
                found[label] = Identification(label, name, score, speaker_id)
    taken = {i.speaker_id or i.name for i in found.values()}
    for people, bar in ((expected, threshold), (others, stricter)):
        free = [label for label in labels if label not in found]
        left = {k: v for k, v in people.items() if k not in taken}
        for i in match_clusters({label: clusters[label] for label in free}, left, bar):
            if i.name:
                found[i.label] = i
    if clear is not None and expected:
        found |= _clearly_theirs(clusters, expected, others, found, clear, owners or {})
    return [found.get(label) or _unnamed(label, clusters[label], expected | others) for label in labels]


def missed_participants(clusters: dict[str, np.ndarray], voiceprints: Sequence[KnownVoice],
                        identifications: Sequence[Identification]) -> list[Missed]:
    """The participants among `voiceprints` that `identifications` name no cluster after, each with
    their best (naming) score over the recording's clusters."""
    clusters, voiceprints = _compared(clusters, voiceprints)
    named = {i.speaker_id or i.name for i in identifications if i.name}
    vectors = {label: unit(vector) for label, vector in clusters.items()}
    out = []
    for key, (name, speaker_id, prints) in _people(voiceprints, expected=True).items():
        if key in named:
            continue
        scores = {label: float((prints @ vector).max()) for label, vector in vectors.items()}
        label = max(scores, key=scores.get) if scores else None
        out.append(Missed(name, speaker_id, label, scores[label] if label else 0.0))
    return out


def _compared(clusters: dict[str, np.ndarray], voiceprints: Sequence[KnownVoice]) -> tuple[dict, list[KnownVoice]]:
    """Clusters and voiceprints as names compare them: the embedder's mean taken out (`centre.py`)."""
    if not voiceprints:
        return clusters, list(voiceprints)
    embedder = voiceprints[0].embedder
    return ({label: comparable(vector, embedder) for label, vector in clusters.items()},
            [replace(vp, vector=comparable(vp.vector, embedder)) for vp in voiceprints])


def _clearly_theirs(clusters: dict[str, np.ndarray], expected: dict, others: dict, found: dict[str, Identification],
                    clear: ClearRule, owners: dict[str, str]) -> dict[str, Identification]:
    """The clusters still unnamed that `clear` gives to a participant still unnamed, one each: never
    a cluster the anchoring gave to someone else, nor one closer to anyone else enrolled."""
    labels, keys = sorted(clusters), list(expected)
    taken = {i.speaker_id or i.name for i in found.values()}
    if not labels or not any(key not in taken for key in keys):
        return {}
    vectors = unit(np.stack([clusters[label] for label in labels]))
    people = [*expected.values(), *others.values()]
    scores = np.stack([(vectors_of @ vectors.T).max(axis=0) for _, _, vectors_of in people], axis=1)  # clusters x people
    chosen: dict[str, Identification] = {}
    for r, label in enumerate(labels):
        if label in found:
            continue
        free = [c for c, key in enumerate(keys) if key not in taken and owners.get(label, key) == key]
        if not free:
            continue
        c = max(free, key=lambda j: scores[r, j])
        score = float(scores[r, c])
        other_clusters = np.delete(scores[:, c], r)
        other_people = np.delete(scores[r], c)
        if (score >= clear.score and (not len(other_clusters) or score - other_clusters.max() >= clear.margin)
                and (not len(other_people) or score - other_people.max() >= clear.other_margin)):
            name, speaker_id, _ = expected[keys[c]]
            held = chosen.get(keys[c])
            if held is None or score > held.score:
                chosen[keys[c]] = Identification(label, name, score, speaker_id)
    return {i.label: i for i in chosen.values()}


def check_voiceprints(voiceprints: Sequence[KnownVoice], embedder: str, dim: int) -> None:
    """Refuse voiceprints made by another embedder, or of the wrong size, with a clear message."""
    for vp in voiceprints:
        check_comparable(f"the voiceprint of {vp.name!r}", vp.embedder, len(vp.vector), embedder, dim,
                         f"enrol {vp.name!r} again")


def check_comparable(what: str, model: str, size: int, embedder: str, dim: int, remedy: str) -> None:
    """The one check before vectors meet: `what` (made by `model`, `size` values) must come from
    the running `embedder` (`dim` values). Vectors of different embedders are never compared."""
    if model != embedder:
        raise InputError(f"{what} was made with embedding model {model!r}, but this runs {embedder!r}: embeddings of "
                         f"different embedders cannot be compared; {remedy}", "embedder_mismatch", what=what, model=model,
                         embedder=embedder)
    if size != dim:
        raise InputError(f"{what} has {size} values; {embedder} gives {dim}", "embedding_size", size=size, dim=dim)


def match_clusters(clusters: dict[str, np.ndarray], people: dict[str, tuple[str, Optional[str], np.ndarray]],
                   threshold: float) -> list[Identification]:
    """One `Identification` per cluster label: a name and score, or `name=None` below threshold."""
    labels = sorted(clusters)
    keys = list(people)
    scores = np.zeros((len(labels), len(keys)), np.float32)
    if labels and keys:
        owners = [key for key in keys for _ in range(len(people[key][2]))]
        vectors = np.concatenate([people[key][2] for key in keys])
        found, best = best_per_speaker(unit(np.stack([clusters[label] for label in labels])) @ vectors.T, owners)
        scores = best[:, [found.index(key) for key in keys]]
    return assign_names(labels, [people[key][:2] for key in keys], scores, threshold)


def best_per_speaker(similarity: np.ndarray, owners: Sequence[str],
                     missing: float = -1.0) -> tuple[list[str], np.ndarray]:
    """Queries x voiceprints similarities (`owners[k]`: whose voiceprint column k is) -> the owners,
    sorted, and per query each owner's closest voiceprint's score: a speaker with several
    voiceprints matches by the closest one. `missing` fills what was never compared."""
    speakers = sorted(set(owners))
    column = {speaker: j for j, speaker in enumerate(speakers)}
    scores = np.full((len(similarity), len(speakers)), missing, np.float32)
    for k, owner in enumerate(owners):
        j = column[owner]
        np.maximum(scores[:, j], similarity[:, k], out=scores[:, j])
    return speakers, scores


def _unnamed(label: str, vector: np.ndarray, people: dict) -> Identification:
    """A cluster no one took, with the best score anyone had (what the name missed by)."""
    scores = [float((vectors @ unit(vector)).max()) for _, _, vectors in people.values()]
    return Identification(label, None, max(scores, default=0.0))


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
    """Replace cluster labels by names in segments, words, turns and the speaker list."""
    names = _named(identifications)
    for segment in transcript.segments:
        _rename(segment, names)
    transcript.turns = [replace(t, speaker=names.get(t.speaker, t.speaker)) for t in transcript.turns]
    transcript.speakers = [names.get(s, s) for s in transcript.speakers]
    transcript.identifications = identifications
    return transcript


def shown_names(transcript: Transcript) -> dict[str, str]:
    """Cluster label -> the name it is shown under, for the clusters named so far."""
    return _named(transcript.identifications)


def _named(identifications: Sequence[Identification]) -> dict[str, str]:
    """Cluster label -> name, for the clusters `identifications` name."""
    return {i.label: i.name for i in identifications if i.name}


def _rename(segment: Segment, names: dict[str, str]) -> None:
    if segment.speaker in names:
        segment.speaker = names[segment.speaker]
    for word in segment.words:
        if word.speaker in names:
            word.speaker = names[word.speaker]


def _people(voiceprints: Sequence[KnownVoice], expected: bool) -> dict[str, tuple[str, Optional[str], np.ndarray]]:
    """key -> (name, speaker id, unit voiceprints) of the expected people, or of the others."""
    grouped: dict[str, tuple[str, Optional[str], list[np.ndarray]]] = {}
    for vp in voiceprints:
        if vp.expected == expected:
            grouped.setdefault(vp.key, (vp.name, vp.speaker_id, []))[2].append(unit(np.asarray(vp.vector, np.float32)))
    return {key: (name, sid, np.stack(vectors)) for key, (name, sid, vectors) in grouped.items()}

