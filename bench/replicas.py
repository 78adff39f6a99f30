"""Jobs per minute with 1, 2 and 3 replicas (`hearback serve` processes) sharing one PostgreSQL.

Two paths: the embedded pipeline in each replica (on a 2-core machine the figure is bounded by
the CPU, not by the queue), and the RunPod path, where the replicas only hand jobs to an endpoint
and poll it: real workers (`handler.py`, one per replica, as RunPod would scale them) behind the
RunPod SDK's local server, with the tests' stand-in for RunPod's routing (`tests/conftest.py`:
`start_worker`, `Translator`), since RunPod's cloud cannot be reached here; those workers share
the same 2 cores. Each run: a fresh database, the replicas started, a
warm-up of two jobs per replica (models loaded), then JOBS clips of 3-5 s cut from jfk.flac,
submitted round-robin; the time from the first submission to the last job done.

    python bench/replicas.py [--database postgresql+psycopg://postgres@127.0.0.1:5432/test] [--jobs 30]

The database is emptied (DROP SCHEMA public): give a throwaway one.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import itertools
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import KEY, Translator, free_port, fresh_database, jfk_clips, start_service, start_worker  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "replicas.md"
CORES = os.cpu_count() or 1
WARM_UP_PER_REPLICA = 2


def run_jobs(ports: list[int], files: list[Path]) -> float:
    """Submit `files` round-robin, wait for every job; seconds from the first submission to the last end."""
    started = time.monotonic()
    jobs = []
    for i, path in enumerate(files):
        r = httpx.post(f"http://127.0.0.1:{ports[i % len(ports)]}/transcriptions", headers={"X-API-Key": KEY},
                       files={"audio": (path.name, path.read_bytes(), "audio/mpeg")}, data={"language": "en"},
                       timeout=60)
        r.raise_for_status()
        jobs.append(r.json()["id"])
    pending = set(jobs)
    while pending:
        for job in list(pending):
            state = httpx.get(f"http://127.0.0.1:{ports[0]}/transcriptions/{job}", headers={"X-API-Key": KEY}).json()
            if state["state"] == "failed":
                raise SystemExit(f"job {job} failed: {state['error']}")
            if state["state"] == "done":
                pending.discard(job)
        time.sleep(0.2)
    return time.monotonic() - started


def measure(replicas: int, database: str, files: list[Path], folder: Path, **env: str) -> float:
    fresh_database(database, folder)
    env = {"DATABASE_URL": database, "HEARBACK_DATA_DIR": str(folder / "data"),
           "HEARBACK_CPU_THREADS": str(max(1, CORES // replicas)), **env}
    processes = []
    try:
        ports = [free_port() for _ in range(replicas)]
        processes = [start_service(port, folder / f"replica-{port}.log", **env) for port in ports]
        run_jobs(ports, files[:WARM_UP_PER_REPLICA * replicas])
        seconds = run_jobs(ports, files)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
    return len(files) / seconds * 60


class Spread(Translator):
    """The routing stand-in over several workers, in turn: RunPod runs one worker per job at a
    time, and the SDK's local server runs one job at a time (it answers nothing else meanwhile)."""

    workers: list = []
    turn = itertools.count()

    def do_POST(self):
        self.worker = self.workers[next(self.turn) % len(self.workers)]
        super().do_POST()


@contextlib.contextmanager
def runpod_stand_in(folder: Path, workers: int):
    """`workers` real workers behind the SDK's local server, and the routing stand-in; yields its URL."""
    started = [start_worker({**os.environ, "HEARBACK_DATA_DIR": str(folder / "worker"),
                             "HEARBACK_CPU_THREADS": str(max(1, CORES // workers))}, folder / f"worker{i}.log")
               for i in range(workers)]
    Spread.workers = [base for _, base in started]
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Spread)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{proxy.server_address[1]}"
    finally:
        proxy.shutdown()
        for worker, _ in started:
            worker.terminate()
            worker.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=os.environ.get("DATABASE_TEST_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--only", choices=("embedded", "runpod"), help="measure one path only")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = jfk_clips(folder, args.jobs)
        for replicas in (1, 2, 3) if args.only != "runpod" else ():
            rows.append(("embedded pipeline", replicas, measure(replicas, args.database, files, folder)))
            print(rows[-1], flush=True)
        for replicas in (1, 2, 3) if args.only != "embedded" else ():
            with runpod_stand_in(folder, replicas) as endpoint:
                rows.append((f"RunPod stand-in ({replicas} local worker{'s' if replicas > 1 else ''})", replicas,
                             measure(replicas, args.database, files, folder, RUNPOD_ENDPOINT_ID="bench",
                                     RUNPOD_API_KEY="bench", RUNPOD_ENDPOINT_BASE_URL=endpoint)))
            print(rows[-1], flush=True)
    table = ["| path | replicas | jobs per minute |", "|---|---|---|"]
    table += [f"| {path} | {n} | {rate:.1f} |" for path, n, rate in rows]
    note = (f"{args.jobs} clips of 3-5 s (jfk.flac), Whisper base int8, {CORES} cores; load average "
            f"{load:.2f} at the start")
    text = "\n".join(table) + f"\n\n{note}\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
