"""A job's audio after the job: deleted at once, or kept for playback until
HEARBACK_AUDIO_RETENTION_HOURS have passed (then `sweep` deletes it). Every deletion, or its
failure, is recorded in the job's events; a failed deletion never costs the job its result.

Sessions themselves (transcript, clusters, summary) and their jobs and audio are purged once older
than HEARBACK_SESSION_RETENTION_DAYS (off by default), or deleted by a person at any time, each
deletion written to the audit log."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from database import audit
from database.clock import now
from database.engine import Database
from hearback.errors import ConflictError
from jobs.audio import STAGED
from jobs.storage import AudioStorage
from jobs.table import Job, add_event, audio_past_retention, update_job
from sessions.tables import ENDED as ENDED_SESSIONS, Session
from sessions.transcripts import get_session

log = logging.getLogger(__name__)
PURGER = "retention (HEARBACK_SESSION_RETENTION_DAYS)"

DELETED = "audio deleted"
DELETION_FAILED = "audio deletion failed"


def release(database: Database, storage: Optional[AudioStorage], retention_hours: float, job_id: str) -> None:
    """After a job: delete its audio now, or mark when it may go."""
    with database.open() as db:
        if retention_hours > 0:
            update_job(db, job_id, audio_expires_at=now() + timedelta(hours=retention_hours))
            return
        _delete(db, storage, db.get(Job, job_id))


def sweep(database: Database, storage: Optional[AudioStorage]) -> int:
    """Delete the audio whose retention has passed; returns for how many jobs."""
    with database.open() as db:
        due = audio_past_retention(db)
        for job_id in due:
            _delete(db, storage, db.get(Job, job_id))
    return len(due)


def purge_sessions(database: Database, storage: Optional[AudioStorage], days: float,
                   at: Optional[datetime] = None) -> int:
    """Delete the sessions transcribed more than `days` ago (as of `at`, default now), with their jobs
    and audio; returns how many. Sessions still being transcribed are left alone."""
    if days <= 0:
        return 0
    cutoff = (at or now()) - timedelta(days=days)
    with database.open() as db:
        old = list(db.scalars(select(Session).where(Session.created_at < cutoff, Session.status.in_(ENDED_SESSIONS))))
        for session in old:
            remove_session(db, storage, session, PURGER, "purge",
                           created_at=session.created_at.isoformat(timespec="seconds"), days=days)
            log.info("session %s (transcribed %s) purged after %g days", session.id, session.created_at, days)
    return len(old)


def delete_session(database: Database, storage: Optional[AudioStorage], workspace: str, session_id: str,
                   actor: str) -> None:
    """A person deletes a session: its transcript (utterances, clusters), summary and action items,
    its jobs and their audio; written to the audit log. Refused while it is being transcribed."""
    with database.open() as db:
        session = get_session(db, workspace, session_id)
        if session.status not in ENDED_SESSIONS:
            raise ConflictError(f"session {session_id} is still being transcribed: delete it once its job has ended",
                                "session_running")
        remove_session(db, storage, session, actor, "delete")
    log.info("session %s deleted by %s", session_id, actor)


def remove_session(db: DbSession, storage: Optional[AudioStorage], session: Session, actor: str, action: str,
                   **detail) -> None:
    """Delete `session` with its jobs and their audio (the rest goes with it: cascades), in one commit
    with its audit entry."""
    jobs = list(db.scalars(select(Job).where(Job.session_id == session.id)))
    for job in jobs:
        _delete(db, storage, job)
        db.delete(job)
    audit.record(db, session.workspace, actor, action, None, session_id=session.id, jobs=len(jobs), **detail)
    db.delete(session)
    db.commit()


def _delete(db, storage: Optional[AudioStorage], job: Job) -> None:
    if job.audio_path:
        Path(job.audio_path).unlink(missing_ok=True)
        add_event(db, job.id, DELETED, f"upload {job.request.get('filename') or Path(job.audio_path).suffix}")
    for source in _bucket_objects(db, job, storage):
        error = storage.delete(storage.key_of(source))
        add_event(db, job.id, DELETION_FAILED if error else DELETED, source + (f": {error}" if error else ""))
    update_job(db, job.id, audio_expires_at=None)


def _bucket_objects(db: DbSession, job: Job, storage: Optional[AudioStorage]) -> list[str]:
    """The job's objects in our bucket: a staged copy of its upload, its s3:// source."""
    if storage is None:
        return []
    sources = [e["detail"] for e in job.events if e["event"] == STAGED]
    url = job.request.get("audio_url") or ""
    if url.startswith(f"s3://{storage.bucket}/") and _uploaded_for(db, storage, job, url):
        sources.append(url)
    return sources


def _uploaded_for(db: DbSession, storage: AudioStorage, job: Job, url: str) -> bool:
    """Whether the s3:// source is an upload of this job's own (under the upload prefix, not another
    job's object): a job submitted before that rule (issue 25) never deletes anything else."""
    if not storage.is_upload_key(urlsplit(url).path.lstrip("/")):
        return False
    owner = storage.owner_of(url)
    return owner == job.id or db.get(Job, owner) is None
