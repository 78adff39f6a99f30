"""The embedded queue (SQLite, one process): a thread runs the jobs in turn.

Jobs a stopped service left queued or running are queued again when it starts; on stop, queued
jobs are handed back (they stay `queued` in the database for the next start) instead of run.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Callable, Optional

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0  # how often `idle` (expired audio) runs when no job is waiting


class ThreadQueue:
    name = "thread"

    def __init__(self) -> None:
        self.queue: "queue.Queue[Optional[str]]" = queue.Queue()
        self.thread: Optional[threading.Thread] = None

    def start(self, run: Callable[[str], None], idle: Callable[[], object],
              pending: Callable[[], list[str]]) -> None:
        for job_id in pending():
            log.info("re-queueing job %s left by a previous run", job_id)
            self.queue.put(job_id)
        self.thread = threading.Thread(target=self._loop, args=(run, idle), name="hearback-jobs", daemon=True)
        self.thread.start()

    def put(self, job_id: str) -> None:
        self.queue.put(job_id)

    def stop(self, timeout: float) -> None:
        """Hand the queued jobs back and wait (up to `timeout`) for the running one to let go."""
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        if self.thread and self.thread.is_alive():
            self.queue.put(None)
            self.thread.join(timeout)

    def _loop(self, run: Callable[[str], None], idle: Callable[[], object]) -> None:
        while True:
            try:
                job_id = self.queue.get(timeout=SWEEP_SECONDS)
            except queue.Empty:
                idle()
                continue
            if job_id is None:
                return
            try:
                run(job_id)
            except Exception:  # never let one job kill the queue (a handed-back job ends here too)
                log.info("job %s ended without finishing", job_id, exc_info=True)
