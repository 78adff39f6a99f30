"""A transcription request: checked before anything is queued, then stored as a pending session
and a queued job in one transaction (with the uploaded file, if any, moved under the service's
data directory, or streamed to the bucket with HEARBACK_UPLOAD_STORAGE=s3 so that replicas on
other machines can read it). Errors name the user's file, never a server path."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Optional, Sequence
from urllib.parse import urlsplit

from sqlalchemy.orm import Session as DbSession

from hearback.errors import InputError, check_length, check_text
from hearback.fetch import input_name, shown_to_user as shown_as, within_allowlist
from hearback.pipeline import Options
from hearback.summary.client import check as check_summary
from jobs.audio import save_upload
from jobs.storage import AudioStorage
from jobs.table import Job, add_job
from service.settings import Settings
from sessions.groups import resolve_participants
from sessions.tables import Session
from sessions.transcripts import add_session

# the columns' sizes: a longer value is a 422 naming the field, never the database's error (a 500)
TITLE_LENGTH: int = Session.__table__.c.title.type.length
TAG_LENGTH: int = Session.__table__.c.tag.type.length
WEBHOOK_LENGTH: int = Job.__table__.c.webhook_url.type.length


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
    filename: Optional[str] = None  # the uploaded file's name, as the user named it: errors name it
    summary: bool = False  # a summary by the language model once the transcript is stored
    # who the recording expects: names or speaker ids as asked, then (stored) the speakers' ids
    participants: list[str] = field(default_factory=list)
    group: Optional[str] = None  # a group's name or id as asked, then (stored) its id

    @property
    def options(self) -> Options:
        return Options(self.language, self.min_speakers, self.max_speakers)


@dataclass
class Upload:
    """An uploaded file, already streamed to `path` (a temporary file the submission takes over)."""

    filename: str
    path: Path
    size: int


def check(request: JobRequest, upload: Optional[Upload], settings: Settings, storage: Optional[AudioStorage]) -> None:
    """Refuse a request that could never run, before it is queued."""
    if bool(upload) == bool(request.audio_url):
        raise InputError("send exactly one of an uploaded file or audio_url", "one_audio")
    request.options.checked()
    url = request.audio_url or ""
    if url.startswith("s3://"):
        if storage is None:
            raise InputError("s3:// audio needs the service's S3 storage: set HEARBACK_S3_BUCKET", "s3_not_configured")
        storage.key_of(url)
    elif url and not url.lower().startswith(("http://", "https://")):
        raise InputError("audio_url must be an http(s) URL or s3://bucket/key", "bad_audio_url")
    if request.webhook_url and not request.webhook_url.lower().startswith(("http://", "https://")):
        raise InputError("webhook_url must be an http(s) URL", "bad_webhook_url")
    if request.webhook_url and settings.webhook_allowlist:
        check_webhook_target(request.webhook_url, settings.webhook_allowlist)
    for name, value in (("title", request.title), ("tag", request.tag), ("audio_url", request.audio_url),
                        ("webhook_url", request.webhook_url), ("file name", upload and upload.filename)):
        check_text(name, value or "")
    for name, value, limit in (("title", request.title, TITLE_LENGTH), ("tag", request.tag, TAG_LENGTH),
                               ("webhook_url", request.webhook_url, WEBHOOK_LENGTH)):
        check_length(name, value or "", limit)
    if upload and upload.size > settings.max_bytes:
        raise InputError(f"the file is over the limit of {settings.max_bytes} bytes", "file_too_large",
                         limit=settings.max_bytes)
    if upload and not upload.size:
        raise InputError("the uploaded file is empty", "upload_empty")
    if upload and settings.upload_storage == "s3" and storage is None:
        raise InputError("HEARBACK_UPLOAD_STORAGE=s3 needs the service's S3 storage: set HEARBACK_S3_BUCKET",
                         "s3_not_configured")
    if request.summary:
        check_summary(settings)  # no language model configured: refused now, not after the transcription
    recorded_at(request)


def check_webhook_target(url: str, allowlist: tuple[str, ...]) -> None:
    """Refuse a webhook_url outside HEARBACK_WEBHOOK_ALLOWLIST: without it, any key holder could
    make the service knock on internal addresses and ports."""
    host = urlsplit(url).hostname or ""
    if not within_allowlist(host, allowlist):
        raise InputError(f"webhook_url {host or url!r} is not in HEARBACK_WEBHOOK_ALLOWLIST: give a receiver it lists, "
                         "or ask the administrator to add it", "webhook_not_allowed", field="webhook_url", host=host)


def split_names(values: Sequence[str]) -> list[str]:
    """Participants as given: each value may hold several names separated by commas."""
    return [name.strip() for value in values for name in (value or "").split(",") if name.strip()]


def recorded_at(request: JobRequest) -> Optional[datetime]:
    if not request.recorded_at:
        return None
    try:
        return datetime.fromisoformat(request.recorded_at)
    except ValueError:
        raise InputError(f"recorded_at {request.recorded_at!r} is not a date: use YYYY-MM-DD or an ISO 8601 "
                         "time", "bad_date", field="recorded_at") from None


def store(db: DbSession, settings: Settings, uploads: Path, request: JobRequest, upload: Optional[Upload],
          storage: Optional[AudioStorage] = None, embedder: str = "") -> Job:
    """The session and the job, committed together once the upload is in place (under `uploads`,
    or in the bucket): a failure leaves no orphan session behind. The participants and group are
    resolved first (`embedder`: the one whose voiceprints they need), so that an unknown name
    stores nothing."""
    _not_another_jobs(db, request, storage)
    group, people = resolve_participants(db, settings.workspace, request.participants, request.group, embedder)
    request.participants, request.group = [p.id for p in people], group.id if group else None
    session = add_session(db, settings.workspace, request.title, request.tag, recorded_at(request))
    session.group_id, session.participants = request.group, request.participants
    if upload:
        request.filename = upload.filename
    fields = {k: v for k, v in asdict(request).items() if v is not None}
    job = add_job(db, settings.workspace, session.id, fields, request.webhook_url or "")
    try:
        if upload and settings.upload_storage == "s3":
            job.request = {**fields, "audio_url": storage.put_upload(upload.path, job.id, upload.filename)}
        elif upload:
            job.audio_path = str(save_upload(uploads, job.id, upload.filename, upload.path))
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return job


def _not_another_jobs(db: DbSession, request: JobRequest, storage: Optional[AudioStorage]) -> None:
    """Refuse an s3:// source that is another job's object (its upload, its staged copy): a job
    reads, and deletes when it ends, only what was uploaded for it."""
    url = request.audio_url or ""
    if storage is not None and storage.key_of(url) and db.get(Job, storage.owner_of(url)) is not None:
        raise InputError(f"{url} is the audio of another job: upload the file again (POST /uploads) and give that",
                         "s3_other_job", field="audio_url")


def shown_to_user(message: str, job: Job) -> str:
    """An error about a job's audio, naming the user's file (or URL) instead of the service's
    temporary or stored file."""
    shown = job.request.get("filename") or input_name(job.request.get("audio_url") or "") or "the uploaded file"
    for server_name in (job.audio_path, Path(job.audio_path).name if job.audio_path else ""):
        if server_name:
            message = message.replace(server_name, shown)
    return shown_as(message, shown)
