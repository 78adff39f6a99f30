"""A person across their sessions: speakers listed with their talk time, and two speakers merged
into one (voiceprints, utterances, clusters, action items and consents move).

Like `speakers.roster`, an operation commits the `db` it is given once, then brings the matcher in
step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as DbSession

from database import audit
from database.folding import name_key
from hearback.errors import InputError
from sessions.tables import ActionItem, Cluster, Utterance
from speakers import index_sync
from speakers.matching import Matcher
from speakers.roster import get_speaker
from speakers.tables import ConsentRecord, Speaker, Voiceprint


@dataclass
class SpeakerSummary:
    speaker: Speaker
    voiceprints: int
    talk_seconds: float
    current: int = 0  # voiceprints of the running embedder (the others need re-embedding or re-enrolment)



def list_speakers(db: DbSession, workspace: str, speaker_id: Optional[str] = None, embedder: str = "",
                  limit: Optional[int] = None, offset: int = 0, q: str = "") -> list[SpeakerSummary]:
    """Speakers by name, with their voiceprint count (of `embedder` too) and talk time (one speaker's
    with `speaker_id`); a page of them with `limit` and `offset`, those whose name holds `q` with `q`
    (the counts are only ever asked for the speakers of the page)."""
    query = _speakers(workspace, q).order_by(Speaker.name).limit(limit).offset(offset)
    if speaker_id is not None:
        query = query.where(Speaker.id == speaker_id)
    speakers = db.scalars(query).all()
    ids = [s.id for s in speakers]
    prints = dict(db.execute(select(Voiceprint.speaker_id, func.count()).where(Voiceprint.speaker_id.in_(ids))
                             .group_by(Voiceprint.speaker_id)).all())
    talk = dict(db.execute(select(Utterance.speaker_id, func.sum(Utterance.end - Utterance.start))
                           .where(Utterance.speaker_id.in_(ids)).group_by(Utterance.speaker_id)).all())
    current = dict(db.execute(select(Voiceprint.speaker_id, func.count()).where(
        Voiceprint.speaker_id.in_(ids), Voiceprint.embedder == embedder).group_by(Voiceprint.speaker_id)).all())
    return [SpeakerSummary(s, prints.get(s.id, 0), float(talk.get(s.id) or 0.0), current.get(s.id, 0))
            for s in speakers]


def count_speakers(db: DbSession, workspace: str, q: str = "") -> int:
    """How many speakers `list_speakers` would list without a limit."""
    return int(db.scalar(select(func.count()).select_from(_speakers(workspace, q).subquery())) or 0)


def _speakers(workspace: str, q: str = ""):
    """The workspace's speakers, those whose name holds `q` (as names compare: `name_key`)."""
    query = select(Speaker).where(Speaker.workspace == workspace)
    wanted = name_key(q)
    return query.where(Speaker.name_key.contains(wanted, autoescape=True)) if wanted else query


def summary(db: DbSession, workspace: str, speaker_id: str, embedder: str = "") -> SpeakerSummary:
    get_speaker(db, workspace, speaker_id)
    return list_speakers(db, workspace, speaker_id, embedder)[0]


@dataclass
class VoiceprintRow:
    """One voiceprint as a person's page shows it: when and how it was made, and the consent it
    was made under (who gave it, who recorded it), when one was recorded."""

    voiceprint: Voiceprint
    consent: Optional[ConsentRecord]


def voiceprint_rows(db: DbSession, workspace: str, speaker_id: str) -> list[VoiceprintRow]:
    """The speaker's voiceprints, oldest first, each with its consent record."""
    get_speaker(db, workspace, speaker_id)
    rows = db.execute(select(Voiceprint, ConsentRecord).outerjoin(ConsentRecord, Voiceprint.consent_id == ConsentRecord.id)
                      .where(Voiceprint.speaker_id == speaker_id).order_by(Voiceprint.created_at, Voiceprint.id)).all()
    return [VoiceprintRow(v, c) for v, c in rows]


def merge_speakers(db: DbSession, matcher: Matcher, workspace: str, source_id: str, target_id: str,
                   actor: str = "") -> Speaker:
    """Fold `source` into `target`: voiceprints, utterances, clusters, action items and consents
    move; source goes. One person: the target is matched if either was consented to. The audit log
    gets a `merge` entry on the target (`merged_from`: the source's id), as `actor`."""
    if source_id == target_id:
        raise InputError("cannot merge a speaker into itself", "merge_self")
    source, target = get_speaker(db, workspace, source_id), get_speaker(db, workspace, target_id)
    ids = list(db.scalars(select(Voiceprint.id).where(Voiceprint.speaker_id == source.id)))
    for model in (Voiceprint, Utterance, Cluster, ActionItem, ConsentRecord):
        db.execute(update(model).where(model.speaker_id == source.id).values(speaker_id=target.id))
    if source.consent == "given":
        target.consent = "given"
    db.expire(source)
    db.delete(source)
    audit.record(db, workspace, actor or "unknown", "merge", target.id, merged_from=source.id)
    index_sync.record(db, ids)
    db.commit()
    matcher.reassign(ids, target.id)
    return target
