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

from hearback.errors import InputError
from hearback.identify import assign_names
from hearback.result import Identification
from speakers import index_sync
from speakers.consent import consented
from speakers.matching import Matcher
from speakers.models import Speaker
from speakers.vectors import unit


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
        if settings.embedder == "ge2e":
            from hearback.embedders.ge2e import Ge2eEmbedder as chosen
        else:
            from hearback.embedders.campp import CamppEmbedder as chosen
        return cls(chosen.name, chosen.dim)


def identify(db: DbSession, matcher: Matcher, workspace: str, clusters: dict[str, np.ndarray], embedder: str,
             running: Embedder, threshold: float, exclude: Collection[str] = ()) -> list[Identification]:
    """One `Identification` per cluster label, sorted: a name, speaker id and score, or no name
    when no enrolled speaker reaches `threshold`. The speakers in `exclude` (ids) are not candidates."""
    if embedder != running.name:
        raise InputError(f"embeddings of embedder {embedder!r} cannot be compared with voiceprints of "
                         f"{running.name!r}, the embedder this service runs")
    labels = sorted(clusters)
    if not labels:
        return []
    wrong = [label for label in labels if len(clusters[label]) != running.dimension]
    if wrong:
        size = len(clusters[wrong[0]])
        raise InputError(f"cluster {wrong[0]} has {size} values; {embedder} gives {running.dimension}")
    index_sync.catch_up(db, matcher)  # another replica may have enrolled, merged or deleted since
    speakers, scores = matcher.scores(embedder, workspace, unit(np.stack([clusters[label] for label in labels])))
    allowed = consented(db, speakers)
    keep = [j for j, sid in enumerate(speakers) if sid in allowed and sid not in exclude]
    speakers, scores = [speakers[j] for j in keep], scores[:, keep]
    found = assign_names(labels, [(sid, sid) for sid in speakers], scores, threshold)
    chosen = [i.speaker_id for i in found if i.name]
    names = dict(db.execute(select(Speaker.id, Speaker.name).where(Speaker.id.in_(chosen))).all()) if chosen else {}
    return [Identification(i.label, names.get(i.speaker_id) if i.name else None, max(i.score, 0.0),
                           i.speaker_id if i.name else None) for i in found]
