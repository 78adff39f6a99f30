"""The replicas' queue (PostgreSQL): procrastinate hands each job to exactly one replica.

Each replica runs a procrastinate worker (concurrency 1, the pipeline uses every core) on a thread
with its own event loop. A job is claimed in one transaction (`FOR UPDATE SKIP LOCKED`); the
worker's heartbeat is its lease: when a replica dies (`kill -9`), its heartbeat stops and after
HEARBACK_JOB_LEASE_SECONDS any replica puts the job back in the queue, where the next free
replica takes it. `lock=job id` keeps two runs of one job from overlapping; `queueing_lock=job id`
keeps it queued once. A stopping replica takes no new job and hands back the running one at its
next progress report (`HandedBack` is retried at once, elsewhere).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Callable, Optional

from hearback.errors import ConfigError
from jobs.transcribers import HandedBack
from service.settings import Settings

log = logging.getLogger(__name__)
TASK = "hearback.transcribe"
HEARTBEATS_PER_LEASE = 4  # heartbeats sent within one lease: a few may be late without losing it
START_SECONDS = 30.0  # how long `start` waits for the worker's database connection
DEFER_SECONDS = 30.0
RESTART_SECONDS = 5.0  # after the worker stopped on its own (database gone), before it starts again
REQUEUE_AFTER = 60.0  # a job stored this long ago with no queue entry lost its defer: queue it again
QUEUED = "SELECT lock FROM procrastinate_jobs WHERE status IN ('todo', 'doing') AND task_name = %(task)s"


def conninfo(url: str) -> str:
    """The libpq URL psycopg takes, from SQLAlchemy's `postgresql+psycopg://...`."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}"


class ProcrastinateQueue:
    name = "procrastinate"

    def __init__(self, settings: Settings):
        import procrastinate

        self.settings, self.lease = settings, settings.job_lease_seconds
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(settings.database)))
        self.task = self.app.task(name=TASK, retry=procrastinate.RetryStrategy(retry_exceptions={HandedBack}))(
            self._run)
        self.run: Callable[[str], None] = lambda job_id: None
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.worker = None
        self.ready = threading.Event()
        self.thread: Optional[threading.Thread] = None
        self.failure: Optional[BaseException] = None
        self.stopped = threading.Event()

    def start(self, run: Callable[[str], None], idle: Callable[[], object],
              pending: Callable[[float], list[str]]) -> None:
        """Start the worker; `pending(older_than)` names the unfinished jobs, of which those the
        queue holds no entry for (a submission cut short before its defer) are queued again, now
        and then."""
        self.run, self.idle, self.pending = run, idle, pending
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="hearback-queue", daemon=True)
        self.thread.start()
        if not self.ready.wait(START_SECONDS) or self.failure:
            raise ConfigError(f"the job queue could not start on the database: {self.failure}")
        self._call(self._requeue(0.0))

    def put(self, job_id: str) -> None:
        self._call(self._defer(job_id))

    async def _defer(self, job_id: str) -> None:
        from procrastinate.exceptions import AlreadyEnqueued

        try:
            await self.task.configure(lock=job_id, queueing_lock=job_id).defer_async(job_id=job_id)
        except AlreadyEnqueued:
            pass  # another replica queued it already

    def _call(self, coroutine):
        """Run `coroutine` on the queue's event loop (its database pool lives there)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(DEFER_SECONDS)

    def stop(self, timeout: float) -> None:
        self.stopped.set()
        if self.loop and self.worker:
            self.loop.call_soon_threadsafe(self.worker.stop)
        if self.thread:
            self.thread.join(timeout)

    def _run(self, job_id: str) -> None:
        self.run(job_id)

    async def _main(self) -> None:
        """The worker, started again (after RESTART_SECONDS) whenever it stops without being asked
        to: a lost database connection stops procrastinate's worker."""
        while not self.stopped.is_set():
            try:
                await self._work()
            except Exception as exc:
                if not self.ready.is_set():
                    self.failure = exc
                    self.ready.set()
                    return
                log.exception("the job queue stopped; starting it again")
            if not self.stopped.is_set():
                await asyncio.sleep(RESTART_SECONDS)

    async def _work(self) -> None:
        from procrastinate.worker import Worker

        async with self.app.open_async():
            self.loop = asyncio.get_running_loop()
            self.worker = Worker(
                self.app, concurrency=1, install_signal_handlers=False, listen_notify=True,
                update_heartbeat_interval=self.lease / HEARTBEATS_PER_LEASE, stalled_worker_timeout=self.lease,
                delete_jobs="successful")
            self.ready.set()
            side = asyncio.create_task(self._take_over_stalled())
            try:
                await self.worker.run()
            finally:
                side.cancel()

    async def _requeue(self, older_than: float) -> None:
        rows = await self.app.connector.execute_query_all_async(QUEUED, task=TASK)
        queued = {row["lock"] for row in rows}
        for job_id in await asyncio.to_thread(self.pending, older_than):
            if job_id not in queued:
                log.info("queueing job %s again: the queue held no entry for it", job_id)
                await self._defer(job_id)

    async def _take_over_stalled(self) -> None:
        """Put back the jobs of replicas whose lease ran out, queue jobs whose submission was cut
        short before their defer, and sweep expired audio, every half lease."""
        manager = self.app.job_manager
        while True:
            await asyncio.sleep(self.lease / 2)
            try:
                for job in await manager.get_stalled_jobs(task_name=TASK, seconds_since_heartbeat=self.lease):
                    log.info("job %s: its replica's lease ran out; queued again", job.task_kwargs.get("job_id"))
                    try:
                        await manager.retry_job(job)
                    except Exception:  # another replica put it back first
                        pass
                await manager.prune_stalled_workers(self.lease)
                await self._requeue(REQUEUE_AFTER)
                await asyncio.to_thread(self.idle)
            except Exception:
                log.exception("checking for stalled jobs failed; trying again")
