"""Names for a recording's clusters: the one identification path of the service and the CLI.

The checks (same embedder, right size), the candidates from a `Matcher`, the one-to-one Hungarian
assignment (`hearback.identify.assign_names`) and the threshold are the same whichever matcher
holds the voiceprints. Only the running embedder's voiceprints are compared, and only speakers
whose consent is recorded (`speakers.consent`) are candidates at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from hearback.embedders import embedder_class
from hearback.identify import assign_names, check_comparable
from hearback.result import Identification
from hearback.vectors import checked_unit
from speakers import index_sync
from speakers.consent import consented
from speakers.matching import Matcher
from speakers.tables import Speaker


@dataclass(frozen=True)
class Embedder:
    """The embedder this service runs: only its vectors are compared with the voiceprints."""

    name: str
    dimension: int

    @classmethod
    def of(cls, pipeline) -> "Embedder":
        return cls(pipeline.embedder_name, pipeline.embedding_dim)

    @classmethod
    def configured(cls, settings) -> "Embedder":
        """The embedder HEARBACK_EMBEDDER names, without loading it (listings mark the voiceprints
        of any other as needing re-embedding or re-enrolment)."""
        chosen = embedder_class(settings.embedder)
        return cls(chosen.name, chosen.dim)


def identify(db: DbSession, matcher: Matcher, workspace: str, clusters: dict[str, np.ndarray], embedder: str,
             running: Embedder, threshold: float, exclude: Collection[str] = ()) -> list[Identification]:
    """One `Identification` per cluster label, sorted: a name, speaker id and score, or no name
    when no enrolled speaker reaches `threshold`. The speakers in `exclude` (ids) are not candidates."""
    labels = sorted(clusters)
    for label in labels or [""]:
        size = len(clusters[label]) if label else running.dimension
        check_comparable(f"cluster {label}".strip(), embedder, size, running.name, running.dimension,
                         "send embeddings of the embedder this service runs")
    if not labels:
        return []
    index_sync.catch_up(db, matcher)  # another replica may have enrolled, merged or deleted since
    speakers, scores = matcher.scores(embedder, workspace, checked_unit(np.stack([clusters[label] for label in labels])))
    allowed = consented(db, speakers)
    keep = [j for j, sid in enumerate(speakers) if sid in allowed and sid not in exclude]
    speakers, scores = [speakers[j] for j in keep], scores[:, keep]
    found = assign_names(labels, [(sid, sid) for sid in speakers], scores, threshold)
    chosen = [i.speaker_id for i in found if i.name]
    names = dict(db.execute(select(Speaker.id, Speaker.name).where(Speaker.id.in_(chosen))).all()) if chosen else {}
    return [Identification(i.label, names.get(i.speaker_id) if i.name else None, max(i.score, 0.0),
                           i.speaker_id if i.name else None) for i in found]
