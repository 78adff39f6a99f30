"""A job's audio after the job: deleted at once, or kept for playback until
HEARBACK_AUDIO_RETENTION_HOURS have passed (then `sweep` deletes it). Every deletion, or its
failure, is recorded in the job's events; a failed deletion never costs the job its result."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Optional

from jobs.audio import STAGED
from jobs.storage import AudioStorage
from jobs.store import add_event, audio_past_retention, update_job
from speakers.db import Database
from speakers.models import Job, now

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


def _delete(db, storage: Optional[AudioStorage], job: Job) -> None:
    if job.audio_path:
        Path(job.audio_path).unlink(missing_ok=True)
        add_event(db, job.id, DELETED, f"upload {job.request.get('filename') or Path(job.audio_path).suffix}")
    for source in _bucket_objects(job, storage):
        error = storage.delete(storage.key_of(source))
        add_event(db, job.id, DELETION_FAILED if error else DELETED, source + (f": {error}" if error else ""))
    update_job(db, job.id, audio_expires_at=None)


def _bucket_objects(job: Job, storage: Optional[AudioStorage]) -> list[str]:
    """The job's objects in our bucket: a staged copy of its upload, its s3:// source."""
    if storage is None:
        return []
    sources = [e["detail"] for e in job.events if e["event"] == STAGED]
    url = job.request.get("audio_url") or ""
    if url.startswith(f"s3://{storage.bucket}/"):
        sources.append(url)
    return sources
