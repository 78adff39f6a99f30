"""The service's transcription jobs: submitted here, run by whichever replica the queue hands them to.

A job's transcript comes from the transcriber chosen at start (local pipeline or RunPod), is
identified against the enrolled voices and stored as its session; then the audio is released
(deleted, or kept for playback) and the webhook sent. Running a job is idempotent: a job run
again after a crash finds its stored transcript and only finishes what was left (state, audio,
one webhook). The queue is procrastinate on PostgreSQL (replicas, leases) and a thread on SQLite
(one process); `stop` hands queued and running jobs back instead of finishing them.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Optional

from database.clock import now
from database.engine import Database
from hearback.embedders import guest_threshold, identify_threshold, participant_threshold
from hearback.errors import HearbackError
from hearback.progress import Stage, forward_only
from jobs import retention, submission, summaries, webhooks
from jobs.audio import AudioSource
from jobs.storage import AudioStorage
from jobs.submission import JobRequest, Upload
from jobs.table import (ENDED, Job, JobState, add_event, claim_run, get_job, holds, percent, unfinished_jobs,
                        update_run)
from jobs.transcribers import HandedBack, JobContext, LeaseLost, Transcriber
from service.settings import Settings
from sessions.groups import participant_voiceprints
from sessions.transcripts import is_stored, mark_failed, store_transcript
from speakers.enrichment import Guard
from speakers.matching import Matcher
from speakers.on_demand import OnDemandPipeline

log = logging.getLogger(__name__)
WEBHOOK_DRAIN_SECONDS = 5.0  # a stopping replica waits this long for its webhooks in flight
PROGRESS_STEP = 0.01  # progress is written to the database when it moved this much, or the stage changed
# Where a job's bar stands: the pipeline fills 0..PIPELINE_SHARE (its own 0..1 scaled), then the
# runner names the voices, stores the transcript and the audio, and writes the summary.
PIPELINE_SHARE = 0.95
IDENTIFYING_PROGRESS = 0.96
STORING_PROGRESS = 0.98
SUMMARIZING_PROGRESS = 0.99
WAIT_POLL_SECONDS = 0.1  # `wait`: how often the job's state is read
STOP_SECONDS = 30.0  # `stop`: the most a running job may take to let go
HOLD_CHECK_SECONDS = 1.0  # a progress report not written checks this often that the run still holds its job


def choose_queue(settings: Settings):
    """procrastinate when the database is PostgreSQL (several replicas may share it), else a thread."""
    if settings.database.startswith("postgresql"):
        from jobs.pg_queue import ProcrastinateQueue

        return ProcrastinateQueue(settings)
    from jobs.thread_queue import ThreadQueue

    return ThreadQueue()


class JobRunner:
    def __init__(self, settings: Settings, database: Database, matcher: Matcher, models: OnDemandPipeline,
                 transcriber: Transcriber, storage: Optional[AudioStorage]):
        self.settings, self.database, self.matcher, self.models = settings, database, matcher, models
        self.transcriber, self.storage = transcriber, storage
        self.uploads = Path(settings.data_dir) / "uploads"
        self.queue = choose_queue(settings)
        self.stopping = threading.Event()
        self.current: Optional[str] = None  # the job this replica is running (for /status)

    def start(self) -> "JobRunner":
        self.stopping.clear()
        self.queue.start(self.run, self.sweep, self.unfinished)
        return self

    def unfinished(self, older_than: float = 0.0) -> list[str]:
        """Jobs left queued or running (submitted at least `older_than` seconds ago)."""
        with self.database.open() as db:
            return unfinished_jobs(db, older_than)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Take no new job; the running one is handed back at its next progress report."""
        self.stopping.set()
        self.queue.stop(timeout)
        left = webhooks.drain(WEBHOOK_DRAIN_SECONDS)
        if left:
            log.warning("%d webhook delivery(ies) still in flight at stop: they are lost", left)

    def submit(self, request: JobRequest, upload: Optional[Upload] = None) -> Job:
        """Queue a transcription of an uploaded file or of `request.audio_url`."""
        submission.check(request, upload, self.settings, self.storage)
        with self.database.open() as db:
            job = submission.store(db, self.settings, self.uploads, request, upload, self.storage,
                                   self.models.running.name)
        try:
            self.queue.put(job.id)
        except Exception:  # the job is stored: the queue's next look for unqueued jobs finds it
            log.warning("job %s stored but not queued yet; it will be", job.id, exc_info=True)
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
        purged = retention.purge_sessions(self.database, self.storage, self.settings.session_retention_days)
        webhooks.send_unsent(self.database, self.settings)
        return retention.sweep(self.database, self.storage) + purged

    def run(self, job_id: str) -> None:
        """Run one job to its end; safe to call again for a job that ran before (idempotent). The
        run claims the job (a new token): a run before it, on a replica that lost its lease, writes
        nothing more and stops at its next progress report (`LeaseLost`)."""
        with self.database.open() as db:
            job = db.get(Job, job_id)
            run = job is not None and job.state not in ENDED and claim_run(
                db, job_id, state=JobState.RUNNING, stage=Stage.STARTING,
                progress_trail=[{"percent": percent(job.progress), "stage": Stage.STARTING.value}])
            stored = bool(run) and is_stored(db, job.session_id)  # read after the claim: a run before may have stored it
        if job is None:
            return
        if run:
            self.current = job_id
            try:
                self._work(job, run, stored)
            except LeaseLost:
                log.warning("job %s: another run took it over (this replica lost its lease); left to it", job_id)
                raise
            finally:
                self.current = None
        webhooks.notify(self.database, self.settings, self.get_any(job_id))

    def get_any(self, job_id: str) -> Job:
        with self.database.open() as db:
            return db.get(Job, job_id)

    def _work(self, job: Job, run: str, stored: bool) -> None:
        job_id = job.id
        context = JobContext(job_id, _ProgressWriter(self.database, job_id, run, self.stopping),
                             self._recorder(job_id, run))
        error, code, details = "", "", {}
        try:
            if not stored:
                request = JobRequest(**job.request)
                with self.database.open() as db:
                    expected = participant_voiceprints(db, request.participants, self.models.running.name)
                transcript = self.transcriber.transcribe(AudioSource.of(job, self.storage), request.options, context,
                                                         expected)
                self._update(job_id, run, stage=Stage.IDENTIFYING, progress=IDENTIFYING_PROGRESS)
                with self.database.open() as db:  # one transaction: the job's row stays this run's until it commits
                    if not update_run(db, job_id, run, commit=False, stage=Stage.STORING):
                        raise LeaseLost(job_id)
                    store_transcript(db, self.matcher, job.workspace, job.session_id, transcript,
                                     self.models.embedder, identify_threshold(self.settings), Guard.of(self.settings),
                                     request.participants, max(participant_threshold(self.settings),
                                                               guest_threshold(self.settings)))
        except LeaseLost:
            raise
        except HandedBack:
            log.info("job %s handed back: this replica is stopping", job_id)
            self._update(job_id, run, state=JobState.QUEUED, stage=Stage.QUEUED)
            raise
        except HearbackError as exc:
            error, code = submission.shown_to_user(str(exc), job), exc.code
            details = {k: submission.shown_to_user(v, job) if isinstance(v, str) else v for k, v in exc.details.items()}
        except Exception as exc:
            log.exception("job %s failed", job_id)
            error, code = f"internal error ({type(exc).__name__}); the service log has the details", "internal_error"
        with self.database.open() as db:
            if not holds(db, job_id, run):  # its audio may be another run's input now
                raise LeaseLost(job_id)
        if not error:  # the transcript is in; the audio is kept or deleted now
            self._update(job_id, run, stage=Stage.STORING, progress=STORING_PROGRESS)
        retention.release(self.database, self.storage, self.settings.audio_retention_hours, job_id)
        if error:
            self._fail(job, run, error, code, details)
        else:
            if JobRequest(**job.request).summary:  # before the job ends, so that its webhook carries the summary
                self._update(job_id, run, stage=Stage.SUMMARIZING, progress=SUMMARIZING_PROGRESS)
                summaries.after_transcript(self.database, self.settings, job.workspace, job.session_id)
            self._update(job_id, run, state=JobState.DONE, stage=Stage.DONE, progress=1.0, finished_at=now())

    def _update(self, job_id: str, run: str, **values) -> None:
        """Write `values` for run `run`; LeaseLost when the job is no longer its own (or ended)."""
        with self.database.open() as db:
            if not update_run(db, job_id, run, **values):
                raise LeaseLost(job_id)

    def _recorder(self, job_id: str, run: str):
        def record(event: str, detail: str) -> None:
            with self.database.open() as db:
                if not add_event(db, job_id, event, detail, run):
                    raise LeaseLost(job_id)

        return record

    def _fail(self, job: Job, run: str, message: str, code: str = "", details: Optional[dict] = None) -> None:
        """The job and its session marked failed, if run `run` still holds the job (`done` stays
        done); the error kept as text (the API's English) and as a code with its values (for the
        web pages to word it in the reader's language)."""
        with self.database.open() as db:
            if not update_run(db, job.id, run, commit=False, state=JobState.FAILED, stage=Stage.FAILED,
                              error=message, error_code=code, error_details=_plain(details or {}),
                              finished_at=now()):
                log.warning("job %s: not marked failed (%s): it ended, or another run holds it", job.id, message)
                return
            mark_failed(db, job.session_id)
            db.commit()
        log.info("job %s failed: %s", job.id, message)


def _plain(details: dict) -> dict:
    """Error details as JSON can store them (numbers and text; anything else as its text)."""
    return {k: v if isinstance(v, (int, float, str, bool)) or v is None else
            [x if isinstance(x, (int, float, str)) else str(x) for x in v] if isinstance(v, (list, tuple)) else str(v)
            for k, v in details.items()}


class _ProgressWriter:
    """The pipeline's `(stage, fraction)` callback, written to the job without flooding the
    database; when the replica stops, it hands the job back instead; when another run took the job
    over (or it ended), it raises LeaseLost: a report not written is checked at most every
    HOLD_CHECK_SECONDS."""

    def __init__(self, database: Database, job_id: str, run: str, stopping: threading.Event):
        self.database, self.job_id, self.run, self.stopping = database, job_id, run, stopping
        self._write = forward_only(self._write_now, step=PROGRESS_STEP)
        self._checked = time.monotonic()

    def __call__(self, stage: Stage | str, fraction: float) -> None:
        if self.stopping.is_set():
            raise HandedBack(self.job_id)
        if stage != Stage.DONE:  # the pipeline is done, not the job: the runner says when the job is
            self._write(str(stage), min(fraction, 1.0) * PIPELINE_SHARE)
        if time.monotonic() - self._checked >= HOLD_CHECK_SECONDS:
            with self.database.open() as db:
                if not holds(db, self.job_id, self.run):
                    raise LeaseLost(self.job_id)
            self._checked = time.monotonic()

    def _write_now(self, stage: str, fraction: float) -> None:
        with self.database.open() as db:
            if not update_run(db, self.job_id, self.run, stage=stage, progress=round(fraction, 3)):
                raise LeaseLost(self.job_id)
        self._checked = time.monotonic()
