"""Erasure: a person asks to be forgotten.

Always: their voiceprints go (and out of every replica's index), the stored embedding of every
session cluster matched or named for them is voided (an empty vector: it identified them as well
as a voiceprint, and naming the cluster again would have made it one), their kept enrolment audio is
deleted, their consents are marked withdrawn, and they are never matched again. All of it in one
transaction. When asked
(`forget_name`), their name also leaves the past transcripts: each line they spoke shows the
session's neutral cluster label again (`SPEAKER_01`), action items and summaries say that label
too, and the speaker itself is deleted with its consent records. The audit log keeps who erased
whom (by id) and when; with `forget_name` it keeps no name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from database import audit
from sessions.tables import ERASED, ActionItem, Cluster, SessionSummary, Utterance
from speakers import index_sync
from speakers.consent import withdraw
from speakers.matching import Matcher
from speakers.roster import get_speaker
from speakers.tables import Speaker, Voiceprint
from speakers.voice_audio import VoiceAudio

NEUTRAL = "SPEAKER"  # in a summary of a session where the person had no cluster of their own


@dataclass
class Erasure:
    speaker_id: str
    voiceprints: int
    audio_files: int
    name_forgotten: bool
    clusters: int = 0
    audio_errors: list[str] = field(default_factory=list)


def erase(db: DbSession, matcher: Matcher, voices: Optional[VoiceAudio], workspace: str, speaker_id: str,
          actor: str, forget_name: bool = False) -> Erasure:
    speaker = get_speaker(db, workspace, speaker_id)
    prints = list(db.scalars(select(Voiceprint).where(Voiceprint.speaker_id == speaker.id)))
    ids, keys = [v.id for v in prints], [v.audio_key for v in prints if v.audio_key]
    for voiceprint in prints:
        db.delete(voiceprint)
    index_sync.record(db, ids)
    withdraw(db, speaker)
    clusters = void_clusters(db, speaker.id)
    what: dict[str, Any] = {"voiceprints": len(ids), "clusters": clusters, "audio_files": len(keys),
                            "forget_name": forget_name}
    if forget_name:
        _forget_name(db, speaker)
    else:
        what["name"] = speaker.name
    audit.record(db, workspace, actor, "erase", speaker_id, **what)
    db.commit()
    matcher.remove(ids)
    errors = [error for error in (voices.delete(key) for key in keys) if error] if voices is not None else []
    if errors:
        audit.record(db, workspace, actor, "erase", speaker_id, audio_errors=errors)
        db.commit()
    return Erasure(speaker_id, len(ids), len(keys), forget_name, clusters, errors)


def void_clusters(db: DbSession, speaker_id: str) -> int:
    """Empty the vector of every cluster matched or named for the speaker; returns how many. The
    clusters stay (their label still groups the session's lines), their voice does not."""
    done = db.execute(update(Cluster).where(Cluster.speaker_id == speaker_id, Cluster.vector != ERASED)
                      .values(vector=ERASED))
    return done.rowcount or 0


def _forget_name(db: DbSession, speaker: Speaker) -> None:
    """Past transcripts, action items and summaries show the session's cluster label instead."""
    labels = dict(db.execute(select(Cluster.session_id, Cluster.label).where(Cluster.speaker_id == speaker.id)).all())
    for row in db.scalars(select(SessionSummary).where(SessionSummary.session_id.in_(
            select(Utterance.session_id).where(Utterance.speaker_id == speaker.id)) |
            SessionSummary.session_id.in_(labels))):
        row.document = _replaced(row.document, speaker.name, labels.get(row.session_id, NEUTRAL))
    for item in db.scalars(select(ActionItem).where(ActionItem.speaker_id == speaker.id)):
        item.speaker_id, item.owner = None, item.cluster_label or labels.get(item.session_id, NEUTRAL)
        item.cluster_label = item.cluster_label or labels.get(item.session_id, "")
    db.execute(update(Utterance).where(Utterance.speaker_id == speaker.id).values(speaker_id=None))
    db.execute(update(Cluster).where(Cluster.speaker_id == speaker.id).values(speaker_id=None, score=0.0))
    audit.forget(db, speaker.id)
    db.delete(speaker)


def _replaced(value: Any, name: str, label: str) -> Any:
    """`value` (a summary's JSON) with every occurrence of `name` in its strings replaced."""
    if isinstance(value, str):
        return value.replace(name, label)
    if isinstance(value, list):
        return [_replaced(v, name, label) for v in value]
    if isinstance(value, dict):
        return {k: _replaced(v, name, label) for k, v in value.items()}
    return value
