"""Voiceprints that get stronger with use, without drifting onto another voice.

When a session's cluster is identified, it may become one more voiceprint of that speaker (origin
`enriched`), so a voice enrolled from a few seconds is recognised more surely session after session.
A wrong match must never poison a speaker, so a cluster is added only when all of these hold:

1. the speaker's consent is recorded (`given`): the new voiceprint is recorded under it;
2. the cluster holds at least HEARBACK_ENRICH_MIN_SECONDS of speech;
3. it scores at least threshold + HEARBACK_ENRICH_MARGIN against the speaker's *person-provided*
   voiceprints (enrolments and clusters a person named, the anchors) of the running embedder, never
   against earlier enriched ones only: enrichment cannot walk step by step away from the voice a
   person vouched for;
4. it beats every other consenting speaker by HEARBACK_ENRICH_MARGIN (no near tie);
5. at most HEARBACK_ENRICH_MAX enriched voiceprints per speaker and embedder: the oldest goes.

Each enrichment writes a consent record (method `enrichment`, resting on the speaker's standing
consent, with the scores in its note) and an audit entry, in the transcript's own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from database import audit
from hearback.embedders import identify_threshold
from hearback.embedders.centre import comparable
from hearback.result import Identification
from hearback.vectors import checked_unit
from service.settings import Settings
from speakers import index_sync
from speakers.consent import GIVEN, consented, standing
from speakers.enrolment import add_voiceprint
from speakers.matching import Matcher, entry_of
from speakers.tables import ConsentRecord, Speaker, Voiceprint

ENRICHED = "enriched"
ACTOR = "automatic enrichment"


@dataclass(frozen=True)
class Guard:
    threshold: float
    margin: float
    min_seconds: float
    cap: int

    @classmethod
    def of(cls, settings: Settings) -> Optional["Guard"]:
        """The guard of the settings; None when enrichment is off."""
        if not settings.enrich or settings.enrich_max <= 0:
            return None
        return cls(identify_threshold(settings), settings.enrich_margin, settings.enrich_min_seconds,
                   settings.enrich_max)


@dataclass
class Changes:
    """What enrichment did in `db`, for the matcher once the transaction is committed."""

    added: list[Voiceprint] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)

    def apply(self, matcher: Matcher, workspace: str) -> None:
        matcher.remove(self.removed)
        for voiceprint in self.added:
            matcher.add(entry_of(voiceprint, workspace))


def enrich(db: DbSession, matcher: Matcher, workspace: str, session_id: str, embedder: str,
           vectors: dict[str, np.ndarray], speech: dict[str, float], found: dict[str, Identification],
           guard: Optional[Guard]) -> Changes:
    """Add the clusters of a stored session that pass the guard; the caller commits, then applies."""
    changes = Changes()
    if guard is None:
        return changes
    for label, match in sorted(found.items()):
        if not match.name or match.score < guard.threshold + guard.margin:
            continue
        if float(speech.get(label, 0.0)) < guard.min_seconds:
            continue
        vector = checked_unit(vectors[label])
        scores = _why_not(db, matcher, workspace, embedder, match.speaker_id, vector, guard)
        if scores is not None:
            _add(db, changes, session_id, label, embedder, vector, float(speech[label]), match, scores, guard)
    return changes


def _why_not(db: DbSession, matcher: Matcher, workspace: str, embedder: str, speaker_id: str, vector: np.ndarray,
             guard: Guard) -> Optional[dict[str, float]]:
    """The anchor and runner-up scores when the cluster passes checks 3 and 4, else None."""
    anchors = [v.array for v in db.scalars(select(Voiceprint).where(
        Voiceprint.speaker_id == speaker_id, Voiceprint.embedder == embedder, Voiceprint.origin != ENRICHED))]
    if not anchors:
        return None
    anchor = float(np.max(comparable(checked_unit(np.stack(anchors)), embedder) @ comparable(vector, embedder)))
    if anchor < guard.threshold + guard.margin:
        return None
    speakers, scores = matcher.scores(embedder, workspace, vector[None, :])
    others = consented(db, [s for s in speakers if s != speaker_id])
    runner_up = max((float(scores[0, j]) for j, s in enumerate(speakers) if s in others), default=-1.0)
    if runner_up > anchor - guard.margin:
        return None
    return {"anchor": round(anchor, 4), "runner_up": round(runner_up, 4)}


def _add(db: DbSession, changes: Changes, session_id: str, label: str, embedder: str, vector: np.ndarray,
         seconds: float, match: Identification, scores: dict[str, float], guard: Guard) -> None:
    speaker = db.get(Speaker, match.speaker_id)
    basis = standing(db, speaker.id) if speaker is not None and speaker.consent == GIVEN else None
    if basis is None:
        return
    old = list(db.scalars(select(Voiceprint).where(Voiceprint.speaker_id == speaker.id, Voiceprint.embedder == embedder,
                                                   Voiceprint.origin == ENRICHED).order_by(Voiceprint.id)))
    retired = [v.id for v in old[:max(0, len(old) - guard.cap + 1)]]
    for voiceprint in old[:len(retired)]:
        db.delete(voiceprint)
    index_sync.record(db, retired)
    changes.removed += retired
    note = (f"automatic: session {session_id} {label}, score {match.score:.3f}, anchors {scores['anchor']:.3f}, "
            f"runner-up {scores['runner_up']:.3f}, {seconds:.1f} s; under consent #{basis.id}")
    record = ConsentRecord(speaker_id=speaker.id, given_by=basis.given_by, method="enrichment", note=note,
                           recorded_by=ACTOR)
    db.add(record)
    db.flush()
    voiceprint = add_voiceprint(db, speaker, vector, embedder, f"session {session_id} {label} (enriched)", seconds,
                                origin=ENRICHED, consent_id=record.id)
    audit.record(db, speaker.workspace, ACTOR, "enrich", speaker.id, voiceprint_id=voiceprint.id,
                 session_id=session_id, label=label, score=round(match.score, 4), replaced=retired, **scores)
    changes.added.append(voiceprint)
