"""Speakers: create, find, rename (listing with talk time and merging: `sessions.people`; erasure:
`sessions.erasure`).

Functions named for an operation (`create_speaker`, `update_speaker`, ...) are one unit of work:
they commit the `db` they are given once, then bring the matcher in step, so the matcher never
holds what the database does not. `add_speaker` is a step of larger operations and leaves the
commit to them.
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from database import audit
from database.engine import flush_or_conflict, get_owned
from database.folding import name_key
from hearback.errors import ConflictError, NotFoundError, check_length, check_name, check_text
from speakers.tables import Speaker, Voiceprint

NAME_LENGTH: int = Speaker.__table__.c.name.type.length
NOTES_LENGTH = 10_000  # characters: notes about a person, not a document store (the column is Text)


def clean_name(name: Optional[str]) -> str:
    return check_name("a speaker", name, NAME_LENGTH, "name")


def clean_notes(notes: Optional[str]) -> str:
    """Notes as typed (newlines and tabs allowed), capped: a megabyte of notes is refused, not kept."""
    return check_length("notes", check_text("notes", notes or "", multiline=True), NOTES_LENGTH, "notes_too_long")


def duplicate(name: str) -> ConflictError:
    return ConflictError(f"a speaker named {name!r} already exists", "duplicate_name", name=name)


def get_speaker(db: DbSession, workspace: str, speaker_id: str) -> Speaker:
    return get_owned(db, Speaker, speaker_id, workspace,
                     NotFoundError(f"no speaker with id {speaker_id!r}", "speaker_not_found"))


def find_speaker(db: DbSession, workspace: str, name: str) -> Optional[Speaker]:
    return db.scalar(select(Speaker).where(Speaker.workspace == workspace, Speaker.name_key == name_key(clean_name(name))))


def add_speaker(db: DbSession, workspace: str, name: str, notes: str = "") -> Speaker:
    """A new speaker in `db`, flushed (a duplicate name raises here); the caller commits."""
    speaker = Speaker(workspace=workspace, name=clean_name(name), notes=clean_notes(notes))
    db.add(speaker)
    flush_or_conflict(db, duplicate(speaker.name))
    return speaker


def create_speaker(db: DbSession, workspace: str, name: str, notes: str = "") -> Speaker:
    speaker = add_speaker(db, workspace, name, notes)
    db.commit()
    return speaker


def consented_names(db: DbSession, workspace: str, limit: int = 200) -> list[str]:
    """Names of the speakers who can be a recording's participants (consent given), by name."""
    return list(db.scalars(select(Speaker.name).where(Speaker.workspace == workspace, Speaker.consent == "given")
                           .order_by(Speaker.name).limit(limit)))


def voiceprints(db: DbSession, workspace: str, speaker_id: str) -> list[Voiceprint]:
    get_speaker(db, workspace, speaker_id)
    return list(db.scalars(select(Voiceprint).where(Voiceprint.speaker_id == speaker_id).order_by(Voiceprint.id)))


def update_speaker(db: DbSession, workspace: str, speaker_id: str, name: Optional[str] = None,
                   notes: Optional[str] = None, actor: str = "") -> Speaker:
    """Rename a speaker or change its notes; a new name is written to the audit log (`rename`, by
    id only) as `actor` in the same transaction."""
    speaker = get_speaker(db, workspace, speaker_id)
    if name is not None and clean_name(name) != speaker.name:
        speaker.name = clean_name(name)
        audit.record(db, workspace, actor or "unknown", "rename", speaker.id)
    if notes is not None:
        speaker.notes = clean_notes(notes)
    flush_or_conflict(db, duplicate(speaker.name))
    db.commit()
    return speaker
