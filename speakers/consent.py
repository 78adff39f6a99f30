"""Consent: a voiceprint recognises a person, which in the EU is biometric data and needs their
explicit consent. Every path that stores a voiceprint (an enrolment by upload, browser recording,
URL or command line, a cluster named after the fact, an automatic enrichment) records who consented,
when, how and an optional note, and refuses to go on without it.

A speaker's `consent` state decides whether it is ever matched: only `given` is. Speakers enrolled
before consent was recorded (migration 0006) are `unknown` until someone records it (`attest`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from database import audit
from database.clock import now
from hearback.errors import InputError, check_text
from speakers.tables import ConsentRecord, Speaker

GIVEN, NONE, UNKNOWN, WITHDRAWN = "given", "none", "unknown", "withdrawn"
METHODS = ("upload", "recording", "url", "cli", "named", "enrichment", "attested")
FIELD_LENGTH = 200  # given_by and recorded_by columns


@dataclass(frozen=True)
class Consent:
    """What the caller says about consent: `given` must be true; `by` is who consented (empty:
    the speaker themself), `recorded_by` who entered it (the API key, a web login, a CLI user)."""

    given: bool
    method: str
    by: str = ""
    note: str = ""
    recorded_by: str = ""


def require(consent: Optional[Consent]) -> Consent:
    """The consent, checked; a clear refusal (code `consent_missing`) when it was not given."""
    if consent is None or consent.given is not True:
        raise InputError("a voiceprint is biometric data: the person must consent to their voice being stored and "
                         "recognised. Ask them, then send \"consent\": true (command line: --consent; web page: the "
                         "consent box), with consent_by when someone else consents for them", "consent_missing")
    if consent.method not in METHODS:
        raise InputError(f"consent method {consent.method!r} is not one of {', '.join(METHODS)}", "bad_consent_method",
                         methods=", ".join(METHODS))
    check_text("consent_by", consent.by)
    check_text("consent_note", consent.note, multiline=True)
    if len(consent.by) > FIELD_LENGTH:
        raise InputError(f"consent_by is at most {FIELD_LENGTH} characters", "name_too_long")
    return consent


def record_consent(db: DbSession, speaker: Speaker, consent: Consent, workspace: str) -> ConsentRecord:
    """Store a checked consent for `speaker` (flushed, so voiceprints can point at it); the speaker
    is matched from now on. The caller commits."""
    consent = require(consent)
    row = ConsentRecord(speaker_id=speaker.id, given_by=(consent.by or speaker.name)[:FIELD_LENGTH],
                        method=consent.method, note=consent.note, recorded_by=consent.recorded_by[:FIELD_LENGTH])
    db.add(row)
    speaker.consent = GIVEN
    db.flush()
    audit.record(db, workspace, consent.recorded_by or "unknown", "consent", speaker.id, consent_id=row.id,
                 method=row.method, given_by=row.given_by)
    return row


def standing(db: DbSession, speaker_id: str) -> Optional[ConsentRecord]:
    """The newest consent a person gave for this speaker and did not withdraw (not an enrichment's)."""
    return db.scalar(select(ConsentRecord).where(
        ConsentRecord.speaker_id == speaker_id, ConsentRecord.withdrawn_at.is_(None),
        ConsentRecord.method != "enrichment").order_by(ConsentRecord.id.desc()).limit(1))


def consented(db: DbSession, speaker_ids: list[str]) -> set[str]:
    """Those of `speaker_ids` that may be matched."""
    if not speaker_ids:
        return set()
    return set(db.scalars(select(Speaker.id).where(Speaker.id.in_(speaker_ids), Speaker.consent == GIVEN)))


def withdraw(db: DbSession, speaker: Speaker) -> int:
    """Mark every consent of the speaker withdrawn (an erasure); the caller commits."""
    done = db.execute(update(ConsentRecord).where(ConsentRecord.speaker_id == speaker.id,
                                                  ConsentRecord.withdrawn_at.is_(None)).values(withdrawn_at=now()))
    speaker.consent = WITHDRAWN
    return done.rowcount or 0


def records(db: DbSession, speaker_id: str) -> list[ConsentRecord]:
    return list(db.scalars(select(ConsentRecord).where(ConsentRecord.speaker_id == speaker_id)
                           .order_by(ConsentRecord.id)))


def attest(db: DbSession, workspace: str, speaker_id: str, consent: Consent) -> ConsentRecord:
    """Record a consent for a speaker already enrolled (one of before migration 0006, `unknown`,
    or a withdrawn one enrolled again): it is matched again from now on."""
    from speakers.roster import get_speaker

    row = record_consent(db, get_speaker(db, workspace, speaker_id), consent, workspace)
    db.commit()
    return row
