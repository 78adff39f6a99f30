"""The jobs table and its repository functions on a `db`, each one unit of work where it writes."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Optional

from sqlalchemy import JSON, Float, ForeignKey, String, Text, and_, case, or_, select, update
from sqlalchemy.orm import Mapped, Session as DbSession, mapped_column

from database.base import Base, new_id
from database.clock import now
from database.engine import get_owned
from hearback.errors import NotFoundError


class Job(Base):
    """A transcription job of the service: state, progress, request, result."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace: Mapped[str] = mapped_column(String(100), default="default")
    session_id: Mapped[Optional[str]] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"), default=None)
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    stage: Mapped[str] = mapped_column(String(50), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")
    # the error's `code` and `details` (hearback.errors), so that a page can word it in its language
    error_code: Mapped[str] = mapped_column(String(50), default="")
    error_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    audio_path: Mapped[str] = mapped_column(String(1000), default="")
    webhook_url: Mapped[str] = mapped_column(String(2000), default="")
    webhook_attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    audio_expires_at: Mapped[Optional[datetime]] = mapped_column(default=None, index=True)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # audio kept/deleted, ...
    # the last steps the progress went through ({"percent", "stage"}), for a page that polls less often
    progress_trail: Mapped[Optional[list[dict[str, Any]]]] = mapped_column(JSON, default=list)
    webhook_state: Mapped[str] = mapped_column(String(20), default="")  # "", "sending:<t>", "sent", "failed"
    # the token of the run that holds the job (written when a run claims it): a run writes only while it is its own
    run_id: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    finished_at: Mapped[Optional[datetime]] = mapped_column(default=None)


class JobState(str, Enum):
    """Where a job is in its life (its `stage` says what it is doing while it runs)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


ENDED = (JobState.DONE.value, JobState.FAILED.value)


TRAIL_STEPS = 16  # the steps of its progress a job keeps for the pages


def get_job(db: DbSession, workspace: str, job_id: str) -> Job:
    return get_owned(db, Job, job_id, workspace,
                     NotFoundError(f"no transcription job with id {job_id!r}", "job_not_found"))


def add_job(db: DbSession, workspace: str, session_id: str, request: dict[str, Any], webhook_url: str) -> Job:
    """A new queued job in `db`, flushed so it has its id; the caller commits."""
    job = Job(workspace=workspace, session_id=session_id, state=JobState.QUEUED.value, request=request,
              webhook_url=webhook_url)
    db.add(job)
    db.flush()
    return job


def unfinished_jobs(db: DbSession, older_than: float = 0.0) -> list[str]:
    """Jobs queued or running (a stopped service's, or submitted `older_than` seconds ago), oldest first."""
    query = select(Job.id).where(Job.state.not_in(ENDED))
    if older_than:
        query = query.where(Job.created_at <= now() - timedelta(seconds=older_than))
    return list(db.scalars(query.order_by(Job.created_at)))


def update_job(db: DbSession, job_id: str, **values: Any) -> None:
    job = db.get(Job, job_id)
    for key, value in values.items():
        setattr(job, key, value.value if isinstance(value, Enum) else value)
    db.commit()


def claim_run(db: DbSession, job_id: str, **values: Any) -> Optional[str]:
    """A new run of the job, which from now on holds it (a run before it writes nothing more): its
    token, with `values` written; None when the job ended (`done` and `failed` are final)."""
    run_id = new_id()
    claimed = db.execute(update(Job).where(Job.id == job_id, Job.state.not_in(ENDED))
                         .values(run_id=run_id, **_plain_values(values)))
    db.commit()
    return run_id if claimed.rowcount == 1 else None


def update_run(db: DbSession, job_id: str, run_id: str, commit: bool = True, **values: Any) -> bool:
    """Write `values` if the job is still run `run_id`'s and has not ended (compare-and-set); the
    progress in the row only moves forward. False, and nothing written, otherwise."""
    values = _plain_values(values)
    if "progress" in values or "stage" in values:
        trail = _trail(db, job_id, run_id, values)
        if trail is not None:
            values["progress_trail"] = trail
    if "progress" in values:
        values["progress"] = case((Job.progress > values["progress"], Job.progress), else_=values["progress"])
    written = db.execute(update(Job).where(Job.id == job_id, Job.run_id == run_id, Job.state.not_in(ENDED))
                         .values(**values))
    if commit:
        db.commit()
    return written.rowcount == 1


def percent(progress: float) -> int:
    """The whole percent a page shows: never rounded up to a step not reached."""
    return int(100 * progress + 1e-9)


def _trail(db: DbSession, job_id: str, run_id: str, values: dict[str, Any]) -> Optional[list[dict[str, Any]]]:
    """The job's trail with this write's step added (the last TRAIL_STEPS kept); None when the
    run does not hold the job. A job handed back to the queue starts a new trail."""
    row = db.execute(select(Job.progress_trail, Job.progress, Job.stage)
                     .where(Job.id == job_id, Job.run_id == run_id)).first()
    if row is None:
        return None
    if values.get("state") == JobState.QUEUED.value:
        return []
    trail = list(row.progress_trail or [])
    step = {"percent": percent(max(row.progress, values.get("progress", row.progress))),
            "stage": values.get("stage", row.stage)}
    if step["stage"] == JobState.FAILED.value or (trail and trail[-1] == step):
        return trail
    return [*trail, step][-TRAIL_STEPS:]


def holds(db: DbSession, job_id: str, run_id: str) -> bool:
    """Whether run `run_id` still holds the job (no other run claimed it, it has not ended)."""
    return db.scalar(select(Job.id).where(Job.id == job_id, Job.run_id == run_id, Job.state.not_in(ENDED))) is not None


def _plain_values(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value.value if isinstance(value, Enum) else value for key, value in values.items()}


def add_event(db: DbSession, job_id: str, event: str, detail: str, run_id: Optional[str] = None) -> bool:
    """Something that happened to the job's audio (kept, staged, deleted), for its owner to see;
    with `run_id`, only while that run holds the job (False, nothing written, otherwise)."""
    job = db.get(Job, job_id)
    if job is None or (run_id is not None and (job.run_id != run_id or job.state in ENDED)):
        return False
    events = [*job.events, {"at": now().isoformat(timespec="seconds"), "event": event, "detail": detail}]
    query = update(Job).where(Job.id == job_id)
    if run_id is not None:
        query = query.where(Job.run_id == run_id, Job.state.not_in(ENDED))
    written = db.execute(query.values(events=events)).rowcount == 1
    db.commit()
    return written


# A job's webhook_state: "" until claimed; "sending:<unix seconds>" while one replica delivers it
# (a claim that old is expired: that replica died, another may take it); then "sent" or "failed".
SENDING = "sending:"
WEBHOOK_RECOVERY = timedelta(days=1)  # webhooks of jobs that ended longer ago are not sent late


def claim_webhook(db: DbSession, job_id: str, lease_seconds: float, clock=time.time) -> bool:
    """True for the one caller (of every replica and every run of the job) that sends its webhook
    now: no one claimed it yet, or the replica that did let its claim expire (it died mid-send)."""
    at = int(clock())
    claimed = db.execute(update(Job).where(Job.id == job_id, _claimable(at, lease_seconds))
                         .values(webhook_state=f"{SENDING}{at:010d}"))
    db.commit()
    return claimed.rowcount == 1


def end_webhook(db: DbSession, job_id: str, delivered: bool) -> None:
    db.execute(update(Job).where(Job.id == job_id).values(webhook_state="sent" if delivered else "failed"))
    db.commit()


def unsent_webhooks(db: DbSession, lease_seconds: float, clock=time.time) -> list[str]:
    """Ended jobs (of the last WEBHOOK_RECOVERY) whose webhook was never claimed or whose sender
    died: a replica killed between a job's end and its delivery."""
    at = int(clock())
    query = select(Job.id).where(Job.state.in_(ENDED), Job.webhook_url != "",
                                 Job.finished_at >= now() - WEBHOOK_RECOVERY,
                                 Job.finished_at <= now() - timedelta(seconds=lease_seconds),
                                 _claimable(at, lease_seconds))
    return list(db.scalars(query.order_by(Job.finished_at)))


def _claimable(at: int, lease_seconds: float):
    expired = f"{SENDING}{at - int(lease_seconds):010d}"  # fixed width: strings compare as the times do
    return or_(Job.webhook_state == "", and_(Job.webhook_state.like(f"{SENDING}%"), Job.webhook_state < expired))


def add_webhook_attempt(db: DbSession, job_id: str, attempt: dict[str, Any]) -> None:
    job = db.get(Job, job_id)
    job.webhook_attempts = [*job.webhook_attempts, attempt]
    db.commit()


def audio_past_retention(db: DbSession) -> list[str]:
    return list(db.scalars(select(Job.id).where(Job.audio_expires_at.is_not(None), Job.audio_expires_at <= now())))


def kept_audio(db: DbSession, workspace: str, session_id: str) -> Optional[Path]:
    """The session's audio while the retention setting keeps it on this service's disk."""
    stored = db.scalar(select(Job.audio_path).where(Job.session_id == session_id, Job.workspace == workspace))
    return Path(stored) if stored and Path(stored).exists() else None
