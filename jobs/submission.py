"""A transcription request: checked before anything is queued, then stored as a pending session
and a queued job in one transaction (with the uploaded file, if any, on this service's disk)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Optional

from sqlalchemy.orm import Session as DbSession

from hearback.errors import InputError
from hearback.pipeline import Options
from hearback.settings import Settings
from jobs.audio import save_upload
from jobs.storage import AudioStorage
from jobs.store import add_job
from speakers.models import Job
from speakers.recordings import add_session


@dataclass
class JobRequest:
    language: str = "auto"
    min_speakers: Optional[int] = None
    max_speakers: Optional[int] = None
    title: str = ""
    tag: str = ""
    recorded_at: Optional[str] = None
    audio_url: Optional[str] = None
    webhook_url: Optional[str] = None
    public_url: Optional[str] = None  # where the submitter reached the service: links in webhooks

    @property
    def options(self) -> Options:
        return Options(self.language, self.min_speakers, self.max_speakers)


@dataclass
class Upload:
    filename: str
    data: bytes


def check(request: JobRequest, upload: Optional[Upload], settings: Settings, storage: Optional[AudioStorage]) -> None:
    """Refuse a request that could never run, before it is queued."""
    if bool(upload) == bool(request.audio_url):
        raise InputError("send exactly one of an uploaded file or audio_url")
    request.options.checked()
    url = request.audio_url or ""
    if url.startswith("s3://"):
        if storage is None:
            raise InputError("s3:// audio needs the service's S3 storage: set HEARBACK_S3_BUCKET")
        storage.key_of(url)
    elif url and not url.lower().startswith(("http://", "https://")):
        raise InputError("audio_url must be an http(s) URL or s3://bucket/key", "bad_audio_url")
    if request.webhook_url and not request.webhook_url.lower().startswith(("http://", "https://")):
        raise InputError("webhook_url must be an http(s) URL")
    if upload and len(upload.data) > settings.max_bytes:
        raise InputError(f"the file is over the limit of {settings.max_bytes} bytes", "file_too_large",
                         limit=settings.max_bytes)
    if upload and not upload.data:
        raise InputError("the uploaded file is empty", "upload_empty")
    recorded_at(request)


def recorded_at(request: JobRequest) -> Optional[datetime]:
    if not request.recorded_at:
        return None
    try:
        return datetime.fromisoformat(request.recorded_at)
    except ValueError:
        raise InputError(f"recorded_at {request.recorded_at!r} is not a date: use YYYY-MM-DD or an ISO 8601 "
                         "time") from None


def store(db: DbSession, settings: Settings, uploads: Path, request: JobRequest, upload: Optional[Upload]) -> Job:
    """The session and the job, committed together; the upload is written under `uploads`."""
    session = add_session(db, settings.workspace, request.title, request.tag, recorded_at(request))
    job = add_job(db, settings.workspace, session.id, {k: v for k, v in asdict(request).items() if v is not None},
                  request.webhook_url or "")
    if upload:
        job.audio_path = str(save_upload(uploads, job.id, upload.filename, upload.data))
    db.commit()
    return job
