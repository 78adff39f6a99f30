"""Transcription jobs of the service: a queue, one background worker thread, progress in the
database, and a webhook when a job ends.

A job runs on the embedded pipeline in this process, or on a RunPod endpoint through the `runpod`
SDK when `RUNPOD_ENDPOINT_ID` is set; either way the transcript is then matched against the
enrolled voices and stored as a session. Jobs left queued or running by a stopped service are
queued again when it starts. Webhooks go out on their own threads, so a receiver that never
answers holds up nobody.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from sqlalchemy import select

from hearback.errors import HearbackError, InputError, NotFoundError
from hearback.fetch import downloaded
from hearback.pipeline import Options
from speakers.models import Job, Session, now
from speakers.service import SpeakerService
from speakers.storage import AudioStorage
from speakers.webhooks import Attempt, deliver

log = logging.getLogger(__name__)
PROGRESS_EVERY = 0.02  # write progress to the database at most every 2 %
RUNPOD_INLINE_LIMIT = 9 * 1024 * 1024  # RunPod's /run payload limit is 10 MB
SWEEP_SECONDS = 60.0  # how often expired audio is looked for when no job is waiting


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


class JobRunner:
    def __init__(self, service: SpeakerService):
        self.service = service
        self.settings = service.settings
        self.storage = AudioStorage(self.settings) if self.settings.s3_bucket else None
        self.queue: "queue.Queue[Optional[str]]" = queue.Queue()
        self.thread: Optional[threading.Thread] = None
        self.uploads = Path(self.settings.data_dir) / "uploads"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "JobRunner":
        self.uploads.mkdir(parents=True, exist_ok=True)
        with self.service.db.session() as db:
            pending = db.scalars(select(Job.id).where(Job.state.in_(("queued", "running"))).order_by(Job.created_at)).all()
        for job_id in pending:
            log.info("re-queueing job %s left by a previous run", job_id)
            self.queue.put(job_id)
        self.thread = threading.Thread(target=self._loop, name="hearback-jobs", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self.thread and self.thread.is_alive():
            self.queue.put(None)
            self.thread.join(timeout)

    def result_url(self, job: Job) -> str:
        base = self.settings.public_url or job.request.get("public_url") or ""
        return f"{base.rstrip('/')}/transcriptions/{job.id}/result"

    # ------------------------------------------------------------------ submission

    def submit(self, request: JobRequest, upload: Optional[tuple[str, bytes]] = None) -> Job:
        """Queue a transcription of an uploaded file (name, bytes) or of `request.audio_url`."""
        if bool(upload) == bool(request.audio_url):
            raise InputError("send exactly one of an uploaded file or audio_url")
        Options(request.language, request.min_speakers, request.max_speakers).checked()
        if request.audio_url and request.audio_url.startswith("s3://"):
            if self.storage is None:
                raise InputError("s3:// audio needs the service's S3 storage: set HEARBACK_S3_BUCKET")
            self.storage.key_of(request.audio_url)
        elif request.audio_url and not request.audio_url.lower().startswith(("http://", "https://")):
            raise InputError("audio_url must be an http(s) URL or s3://bucket/key", "bad_audio_url")
        if upload and len(upload[1]) > self.settings.max_bytes:
            raise InputError(f"the file is over the limit of {self.settings.max_bytes} bytes", "file_too_large",
                             limit=self.settings.max_bytes)
        if upload and not upload[1]:
            raise InputError("the uploaded file is empty", "upload_empty")
        session = self.service.create_session(request.title, request.tag, _parse_date(request.recorded_at))
        with self.service.db.session() as db:
            job = Job(workspace=self.service.workspace, session_id=session.id, state="queued",
                      request={k: v for k, v in request.__dict__.items() if v is not None},
                      webhook_url=request.webhook_url or "")
            db.add(job)
            db.flush()
            if upload:
                suffix = Path(upload[0]).suffix[:8] or ".audio"
                path = self.uploads / f"{job.id}{suffix}"
                path.write_bytes(upload[1])
                job.audio_path = str(path)
            db.commit()
        self.queue.put(job.id)
        return job

    def get(self, job_id: str) -> Job:
        with self.service.db.session() as db:
            job = db.get(Job, job_id)
            if job is None or job.workspace != self.service.workspace:
                raise NotFoundError(f"no transcription job with id {job_id!r}", "job_not_found")
            return job

    def kept_audio(self, session_id: str) -> Optional[Path]:
        """The session's audio while the retention setting keeps it on this service's disk."""
        with self.service.db.session() as db:
            stored = db.scalar(select(Job.audio_path).where(Job.session_id == session_id,
                                                            Job.workspace == self.service.workspace))
        return Path(stored) if stored and Path(stored).exists() else None

    def wait(self, job_id: str, timeout: float = 600.0) -> Job:
        """Block until the job ends (for the CLI and tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(job_id)
            if job.state in ("done", "failed"):
                return job
            time.sleep(0.1)
        raise TimeoutError(f"job {job_id} still {job.state} after {timeout} s")

    # ------------------------------------------------------------------ the worker thread

    def _loop(self) -> None:
        while True:
            try:
                job_id = self.queue.get(timeout=SWEEP_SECONDS)
            except queue.Empty:
                self.sweep()
                continue
            if job_id is None:
                return
            try:
                self._run(job_id)
            except Exception:  # never let one job kill the runner
                log.exception("job %s crashed the runner's loop", job_id)

    def _run(self, job_id: str) -> None:
        job = self.get(job_id)
        request = JobRequest(**job.request)
        self._update(job_id, state="running", stage="starting", progress=0.0)
        try:
            with self._audio(job, request) as local:
                transcript = self._transcribe(job_id, local, request)
            self._update(job_id, stage="storing", progress=0.99)
            self.service.store_transcript(job.session_id, transcript)
            self._update(job_id, state="done", stage="done", progress=1.0, finished_at=now())
        except HearbackError as exc:
            self._fail(job, str(exc))
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self._fail(job, f"internal error ({type(exc).__name__}); the service log has the details")
        finally:
            self._release_audio(job_id)
        self._notify(job_id)

    def _transcribe(self, job_id: str, local: Optional[Path], request: JobRequest) -> dict[str, Any]:
        options = Options(request.language, request.min_speakers, request.max_speakers)
        if self.settings.runpod_endpoint_id:
            return self._on_runpod(job_id, local, request)
        last = {"value": -1.0}

        def progress(stage: str, fraction: float) -> None:
            if fraction - last["value"] >= PROGRESS_EVERY or stage == "done":
                last["value"] = fraction
                self._update(job_id, stage=stage, progress=round(min(fraction, 0.98), 3))

        transcript = self.service.pipeline.transcribe_file(local, options, progress=progress)
        return transcript.to_dict()

    def _on_runpod(self, job_id: str, local: Optional[Path], request: JobRequest) -> dict[str, Any]:
        """Send the job to the RunPod endpoint, follow its status, return its transcript."""
        import runpod

        runpod.api_key = self.settings.runpod_api_key or None
        payload: dict[str, Any] = {"language": request.language, "min_speakers": request.min_speakers,
                                   "max_speakers": request.max_speakers}
        payload = {k: v for k, v in payload.items() if v is not None}
        if request.audio_url and request.audio_url.startswith("s3://"):
            # the worker gets a short-lived link, never the storage keys
            payload["audio_url"] = self.storage.presigned_get(self.storage.key_of(request.audio_url))
        elif request.audio_url:
            payload["audio_url"] = request.audio_url
        elif self.storage is not None:
            key = self._stage_upload(job_id, local)
            payload["audio_url"] = self.storage.presigned_get(key)
        else:
            data = local.read_bytes()
            if len(data) > RUNPOD_INLINE_LIMIT:
                raise InputError("uploads over 9 MB cannot be sent to RunPod inline: configure S3 storage "
                                 "(HEARBACK_S3_BUCKET) or give an audio_url")
            payload["audio_base64"] = base64.b64encode(data).decode()
        self._update(job_id, stage="queued on RunPod", progress=0.02)
        remote = runpod.Endpoint(self.settings.runpod_endpoint_id).run(payload)
        while True:
            status = remote.status()
            if status == "COMPLETED":
                return remote.output()
            if status in ("FAILED", "CANCELLED", "TIMED_OUT"):
                raise InputError(f"the RunPod job ended {status}: {_runpod_error(remote)}")
            self._update(job_id, stage=f"RunPod: {status.lower()}")
            time.sleep(1.0)

    @contextlib.contextmanager
    def _audio(self, job: Job, request: JobRequest):
        if request.audio_url and self.settings.runpod_endpoint_id:
            yield None  # the worker fetches it
        elif request.audio_url and request.audio_url.startswith("s3://"):
            self._update(job.id, stage="downloading")
            with self.storage.downloaded(self.storage.key_of(request.audio_url)) as path:
                yield path
        elif request.audio_url:
            self._update(job.id, stage="downloading")
            with downloaded(request.audio_url, self.settings) as fetched:
                yield fetched.path
        else:
            path = Path(job.audio_path)
            if not path.exists():
                raise InputError("the uploaded audio of this job is gone (the service was reset?); submit it again")
            yield path

    # ------------------------------------------------------------------ bookkeeping

    def _update(self, job_id: str, **values: Any) -> None:
        with self.service.db.session() as db:
            job = db.get(Job, job_id)
            for key, value in values.items():
                setattr(job, key, value)
            db.commit()

    def _fail(self, job: Job, message: str) -> None:
        log.info("job %s failed: %s", job.id, message)
        self._update(job.id, state="failed", stage="failed", error=message, finished_at=now())
        with self.service.db.session() as db:
            session = db.get(Session, job.session_id)
            if session is not None:
                session.status = "failed"
            db.commit()

    def _stage_upload(self, job_id: str, local: Path) -> str:
        """Put an uploaded file in the bucket so a RunPod worker can fetch it by a presigned URL."""
        key = f"{self.settings.s3_prefix.strip('/')}/{job_id}{local.suffix}".lstrip("/")
        self.storage.client.upload_file(str(local), self.storage.bucket, key)
        self._event(job_id, "audio staged", f"s3://{self.storage.bucket}/{key}")
        return key

    def _release_audio(self, job_id: str) -> None:
        """Delete the job's audio now, or mark when it may go (retention for playback)."""
        hours = self.settings.audio_retention_hours
        if hours > 0:
            from datetime import timedelta

            self._update(job_id, audio_expires_at=now() + timedelta(hours=hours))
            return
        self._delete_audio(self.get(job_id))

    def _delete_audio(self, job: Job) -> None:
        if job.audio_path:
            Path(job.audio_path).unlink(missing_ok=True)
            self._event(job.id, "audio deleted", job.audio_path)
        for source in self._s3_objects(job):
            error = self.storage.delete(self.storage.key_of(source))
            self._event(job.id, "audio deletion failed" if error else "audio deleted", source + (f": {error}" if error else ""))
        self._update(job.id, audio_expires_at=None)

    def _s3_objects(self, job: Job) -> list[str]:
        if self.storage is None:
            return []
        sources = [e["detail"] for e in job.events if e["event"] == "audio staged"]
        url = job.request.get("audio_url") or ""
        if url.startswith(f"s3://{self.storage.bucket}/"):
            sources.append(url)
        return sources

    def sweep(self) -> int:
        """Delete audio whose retention has passed; returns how many jobs were swept."""
        with self.service.db.session() as db:
            due = db.scalars(select(Job.id).where(Job.audio_expires_at.is_not(None), Job.audio_expires_at <= now())).all()
        for job_id in due:
            self._delete_audio(self.get(job_id))
        return len(due)

    def _event(self, job_id: str, event: str, detail: str) -> None:
        with self.service.db.session() as db:
            job = db.get(Job, job_id)
            job.events = [*job.events, {"at": now().isoformat(timespec="seconds"), "event": event, "detail": detail}]
            db.commit()

    def _notify(self, job_id: str) -> None:
        job = self.get(job_id)
        if not job.webhook_url:
            return
        payload = {"job_id": job.id, "state": job.state, "session_id": job.session_id, "error": job.error or None,
                   "result_url": self.result_url(job) if job.state == "done" else None}
        if job.state == "done":
            result = self.service.transcript(job.session_id)
            payload["speakers"] = result["speakers"]
            payload["identified_speakers"] = result["identified_speakers"]
            payload["result"] = result
        threading.Thread(target=self._deliver, args=(job.id, job.webhook_url, payload), daemon=True).start()

    def _deliver(self, job_id: str, url: str, payload: dict[str, Any]) -> None:
        lock = threading.Lock()

        def record(attempt: Attempt) -> None:
            with lock, self.service.db.session() as db:
                job = db.get(Job, job_id)
                job.webhook_attempts = [*job.webhook_attempts, attempt.to_dict()]
                db.commit()

        deliver(url, payload, self.settings.webhook_secret, attempts=self.settings.webhook_attempts,
                timeout=self.settings.webhook_timeout, backoff=self.settings.webhook_backoff, on_attempt=record)


def _parse_date(value: Optional[str]):
    if not value:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"recorded_at {value!r} is not a date: use YYYY-MM-DD or an ISO 8601 time") from None


def _runpod_error(remote) -> str:
    with contextlib.suppress(Exception):
        return str(remote._fetch_job().get("error", "no error message"))[:500]
    return "no error message"
