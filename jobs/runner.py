"""The job queue: one background thread runs the service's transcription jobs in turn.

A job's transcript comes from the transcriber chosen at start (local pipeline or RunPod), is
identified against the enrolled voices and stored as its session; then the audio is released
(deleted, or kept for playback) and the webhook sent. Jobs a stopped service left queued or
running are queued again when it starts.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Optional

from hearback.errors import HearbackError
from hearback.progress import Stage
from hearback.settings import Settings
from jobs import retention, submission, webhooks
from jobs.audio import AudioSource
from jobs.storage import AudioStorage
from jobs.store import ENDED, JobState, add_event, get_job, unfinished_jobs, update_job
from jobs.submission import JobRequest, Upload
from jobs.transcribers import JobContext, Transcriber
from speakers.db import Database
from speakers.matching import Matcher
from speakers.models import Job, now
from speakers.on_demand import OnDemandPipeline
from speakers.recordings import mark_failed, store_transcript

log = logging.getLogger(__name__)
PROGRESS_STEP = 0.02  # progress is written to the database when it moved this much, or the stage changed
LAST_WORKING_PROGRESS = 0.98  # until the transcript is stored, a job is never shown as finished
STORING_PROGRESS = 0.99
SWEEP_SECONDS = 60.0  # how often expired audio is looked for when no job is waiting
WAIT_POLL_SECONDS = 0.1  # `wait`: how often the job's state is read
STOP_SECONDS = 30.0  # `stop`: how long the running job may take to finish


class JobRunner:
    def __init__(self, settings: Settings, database: Database, matcher: Matcher, models: OnDemandPipeline,
                 transcriber: Transcriber, storage: Optional[AudioStorage]):
        self.settings, self.database, self.matcher, self.models = settings, database, matcher, models
        self.transcriber, self.storage = transcriber, storage
        self.uploads = Path(settings.data_dir) / "uploads"
        self.queue: "queue.Queue[Optional[str]]" = queue.Queue()
        self.thread: Optional[threading.Thread] = None

    def start(self) -> "JobRunner":
        with self.database.open() as db:
            pending = unfinished_jobs(db)
        for job_id in pending:
            log.info("re-queueing job %s left by a previous run", job_id)
            self.queue.put(job_id)
        self.thread = threading.Thread(target=self._loop, name="hearback-jobs", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        if self.thread and self.thread.is_alive():
            self.queue.put(None)
            self.thread.join(timeout)

    def submit(self, request: JobRequest, upload: Optional[Upload] = None) -> Job:
        """Queue a transcription of an uploaded file or of `request.audio_url`."""
        submission.check(request, upload, self.settings, self.storage)
        with self.database.open() as db:
            job = submission.store(db, self.settings, self.uploads, request, upload)
        self.queue.put(job.id)
        return job

    def get(self, job_id: str) -> Job:
        with self.database.open() as db:
            return get_job(db, self.settings.workspace, job_id)

    def wait(self, job_id: str, timeout: float = 600.0) -> Job:
        """Block until the job ends (for the CLI and tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(job_id)
            if job.state in ENDED:
                return job
            time.sleep(WAIT_POLL_SECONDS)
        raise TimeoutError(f"job {job_id} still {job.state} after {timeout} s")

    def sweep(self) -> int:
        return retention.sweep(self.database, self.storage)

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
        self._update(job_id, state=JobState.RUNNING, stage=Stage.STARTING, progress=0.0)
        context = JobContext(job_id, _ProgressWriter(self.database, job_id), self._recorder(job_id))
        try:
            source, options = AudioSource.of(job, self.storage), JobRequest(**job.request).options
            transcript = self.transcriber.transcribe(source, options, context)
            self._update(job_id, stage=Stage.STORING, progress=STORING_PROGRESS)
            with self.database.open() as db:
                store_transcript(db, self.matcher, job.workspace, job.session_id, transcript, self.models.embedder,
                                 self.settings.identify_threshold)
            self._update(job_id, state=JobState.DONE, stage=Stage.DONE, progress=1.0, finished_at=now())
        except HearbackError as exc:
            self._fail(job, str(exc))
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self._fail(job, f"internal error ({type(exc).__name__}); the service log has the details")
        finally:
            retention.release(self.database, self.storage, self.settings.audio_retention_hours, job_id)
        webhooks.notify(self.database, self.settings, self.get(job_id))

    def _update(self, job_id: str, **values) -> None:
        with self.database.open() as db:
            update_job(db, job_id, **values)

    def _recorder(self, job_id: str):
        def record(event: str, detail: str) -> None:
            with self.database.open() as db:
                add_event(db, job_id, event, detail)

        return record

    def _fail(self, job: Job, message: str) -> None:
        log.info("job %s failed: %s", job.id, message)
        with self.database.open() as db:
            mark_failed(db, job.session_id)
            update_job(db, job.id, state=JobState.FAILED, stage=Stage.FAILED, error=message, finished_at=now())


class _ProgressWriter:
    """The pipeline's `(stage, fraction)` callback, written to the job without flooding the database."""

    def __init__(self, database: Database, job_id: str):
        self.database, self.job_id = database, job_id
        self.stage: Optional[str] = None
        self.written = -1.0

    def __call__(self, stage: Stage | str, fraction: float) -> None:
        stage, fraction = str(stage), min(fraction, LAST_WORKING_PROGRESS)
        if stage == self.stage and fraction - self.written < PROGRESS_STEP:
            return
        self.stage, self.written = stage, max(fraction, self.written)
        with self.database.open() as db:
            update_job(db, self.job_id, stage=stage, progress=round(self.written, 3))
