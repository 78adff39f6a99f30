"""The replicas' queue (PostgreSQL): procrastinate hands each job to exactly one replica.

Each replica runs a procrastinate worker (concurrency 1, the pipeline uses every core) on a thread
with its own event loop. A job is claimed in one transaction (`FOR UPDATE SKIP LOCKED`); the
worker's heartbeat is its lease: when a replica dies (`kill -9`), its heartbeat stops and after
HEARBACK_JOB_LEASE_SECONDS any replica puts the job back in the queue, where the next free
replica takes it. `lock=job id` keeps two runs of one job from overlapping; `queueing_lock=job id`
keeps it queued once. A stopping replica takes no new job and hands back the running one at its
next progress report (`HandedBack` is retried at once, elsewhere).

A replica paused longer than its lease (SIGSTOP, a loaded machine) finds on resuming that another
replica pruned its worker's row and put its job back: its worker registers again (procrastinate's
claim would otherwise fail on `procrastinate_jobs_worker_id_fkey` and stop the queue), and it
leaves alone the queue entry another worker now holds (its run stops on `LeaseLost`, runner.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Callable, Optional

from procrastinate.exceptions import ConnectorException
from procrastinate.worker import Worker

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
PRUNED = "procrastinate_jobs_worker_id_fkey"  # a claim by a worker whose row another replica pruned
HEARTBEAT = "UPDATE procrastinate_workers SET last_heartbeat = NOW() WHERE id = %(worker_id)s RETURNING id"
OWNER = "SELECT worker_id, status::text AS status FROM procrastinate_jobs WHERE id = %(job_id)s"
# a job this worker still runs, whose entry the pruning left without a worker: this worker's again
REATTACH = ("UPDATE procrastinate_jobs SET worker_id = %(worker_id)s "
            "WHERE id = %(job_id)s AND status = 'doing' AND worker_id IS NULL")


def conninfo(url: str) -> str:
    """The libpq URL psycopg takes, from SQLAlchemy's `postgresql+psycopg://...`."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}"


class _Worker(Worker):
    """procrastinate's worker (3.10), surviving the pruning of its row by another replica."""

    async def register_again(self) -> None:
        manager = self.app.job_manager
        pruned, self.worker_id = self.worker_id, await manager.register_worker()
        log.warning("this replica's queue worker %s was pruned by another replica (paused longer than the lease); "
                    "registered again as %s", pruned, self.worker_id)
        for context in list(self._running_jobs.values()):
            await self.app.connector.execute_query_async(REATTACH, worker_id=self.worker_id, job_id=context.job.id)

    async def _persist_job_status(self, job, status, retry_decision, context, job_result):
        """The job's end, unless its entry is another worker's now (this one lost its lease)."""
        rows = await self.app.connector.execute_query_all_async(OWNER, job_id=job.id)
        if not rows or rows[0]["status"] not in ("todo", "doing") or rows[0]["worker_id"] not in (None, self.worker_id):
            log.info("queue entry %s: held by another worker now; left to it", job.id)
            return
        try:
            await super()._persist_job_status(job, status, retry_decision, context, job_result)
        except ConnectorException as exc:  # taken over between the look and the write
            log.warning("queue entry %s: its end was not recorded (%s)", job.id, exc.__cause__)


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
        self.worker: Optional[_Worker] = None
        manager = self.app.job_manager
        self._fetch, self._heartbeat = manager.fetch_job, manager.update_heartbeat
        manager.fetch_job, manager.update_heartbeat = self._fetch_job, self._update_heartbeat
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

    async def _fetch_job(self, queues, worker_id: int):
        """procrastinate's claim; when this worker's row was pruned (the claim breaks its foreign
        key), the worker registers again and claims under its new id."""
        try:
            return await self._fetch(queues=queues, worker_id=worker_id)
        except ConnectorException as exc:
            if PRUNED not in str(exc.__cause__) or self.worker is None:
                raise
        await self.worker.register_again()
        return await self._fetch(queues=queues, worker_id=self.worker.worker_id)

    async def _update_heartbeat(self, worker_id: int) -> None:
        """The worker's heartbeat; a worker whose row was pruned registers again."""
        alive = await self.app.connector.execute_query_all_async(HEARTBEAT, worker_id=worker_id)
        if not alive and self.worker is not None and self.worker.worker_id == worker_id:
            await self.worker.register_again()

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
        async with self.app.open_async():
            self.loop = asyncio.get_running_loop()
            self.worker = _Worker(
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
