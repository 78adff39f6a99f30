"""Speakers: create, list, rename, merge (erasure: `speakers.erasure`).

Functions named for an operation (`create_speaker`, `merge_speakers`, ...) are one unit of work:
they commit the `db` they are given once, then bring the matcher in step, so the matcher never
holds what the database does not. `add_speaker` is a step of larger operations and leaves the
commit to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as DbSession

from hearback.errors import ConflictError, InputError, NotFoundError, check_text
from speakers import index_sync
from speakers.db import flush_or_conflict, get_owned
from speakers.matching import Matcher
from speakers.models import ActionItem, Cluster, ConsentRecord, Speaker, Utterance, Voiceprint

NAME_LENGTH = 200  # the column's size (speakers.name)


@dataclass
class SpeakerSummary:
    speaker: Speaker
    voiceprints: int
    talk_seconds: float
    current: int = 0  # voiceprints of the running embedder (the others need re-embedding or re-enrolment)


def clean_name(name: Optional[str]) -> str:
    name = check_text("a speaker's name", (name or "").strip())
    if not name:
        raise InputError("a speaker needs a name", "name_missing")
    if len(name) > NAME_LENGTH:
        raise InputError(f"a speaker's name is at most {NAME_LENGTH} characters", "name_too_long")
    return name


def duplicate(name: str) -> ConflictError:
    return ConflictError(f"a speaker named {name!r} already exists", "duplicate_name", name=name)


def get_speaker(db: DbSession, workspace: str, speaker_id: str) -> Speaker:
    return get_owned(db, Speaker, speaker_id, workspace,
                     NotFoundError(f"no speaker with id {speaker_id!r}", "speaker_not_found"))


def find_speaker(db: DbSession, workspace: str, name: str) -> Optional[Speaker]:
    return db.scalar(select(Speaker).where(Speaker.workspace == workspace, Speaker.name == clean_name(name)))


def add_speaker(db: DbSession, workspace: str, name: str, notes: str = "") -> Speaker:
    """A new speaker in `db`, flushed (a duplicate name raises here); the caller commits."""
    speaker = Speaker(workspace=workspace, name=clean_name(name), notes=check_text("notes", notes or "", True))
    db.add(speaker)
    flush_or_conflict(db, duplicate(speaker.name))
    return speaker


def create_speaker(db: DbSession, workspace: str, name: str, notes: str = "") -> Speaker:
    speaker = add_speaker(db, workspace, name, notes)
    db.commit()
    return speaker


def list_speakers(db: DbSession, workspace: str, speaker_id: Optional[str] = None,
                  embedder: str = "") -> list[SpeakerSummary]:
    """Speakers by name, with their voiceprint count (of `embedder` too) and talk time (one speaker's
    with `speaker_id`)."""
    query = select(Speaker).where(Speaker.workspace == workspace).order_by(Speaker.name)
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


def consented_names(db: DbSession, workspace: str, limit: int = 200) -> list[str]:
    """Names of the speakers who can be a recording's participants (consent given), by name."""
    return list(db.scalars(select(Speaker.name).where(Speaker.workspace == workspace, Speaker.consent == "given")
                           .order_by(Speaker.name).limit(limit)))


def summary(db: DbSession, workspace: str, speaker_id: str, embedder: str = "") -> SpeakerSummary:
    get_speaker(db, workspace, speaker_id)
    return list_speakers(db, workspace, speaker_id, embedder)[0]


def voiceprints(db: DbSession, workspace: str, speaker_id: str) -> list[Voiceprint]:
    get_speaker(db, workspace, speaker_id)
    return list(db.scalars(select(Voiceprint).where(Voiceprint.speaker_id == speaker_id).order_by(Voiceprint.id)))


def update_speaker(db: DbSession, workspace: str, speaker_id: str, name: Optional[str] = None,
                   notes: Optional[str] = None) -> Speaker:
    speaker = get_speaker(db, workspace, speaker_id)
    if name is not None:
        speaker.name = clean_name(name)
    if notes is not None:
        speaker.notes = check_text("notes", notes, multiline=True)
    flush_or_conflict(db, duplicate(speaker.name))
    db.commit()
    return speaker


def merge_speakers(db: DbSession, matcher: Matcher, workspace: str, source_id: str, target_id: str) -> Speaker:
    """Fold `source` into `target`: voiceprints, utterances, clusters, action items and consents
    move; source goes. One person: the target is matched if either was consented to."""
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
    index_sync.record(db, ids)
    db.commit()
    matcher.reassign(ids, target.id)
    return target
