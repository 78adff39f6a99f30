"""Two replicas on PostgreSQL, one paused (SIGSTOP) in the middle of a job for longer than its
lease, then resumed (SIGCONT) while the other runs the job it took over (issue 25): the job ends
once, `done`; its progress, polled all along, never goes back; the resumed replica writes nothing
(it lets go at its next progress report); neither replica logs a traceback."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest

from conftest import KEY, audio, free_port, fresh_database, start_service, wait_until

pytestmark = pytest.mark.slow  # two service replicas: the slow tier

LEASE = "3"  # HEARBACK_JOB_LEASE_SECONDS


def test_a_replica_paused_past_its_lease_lets_go_and_the_job_ends_once(tmp_path):
    url = os.environ.get("DATABASE_TEST_URL")
    if not url:
        pytest.skip("PostgreSQL NOT TESTED: set DATABASE_TEST_URL=postgresql+psycopg://user@host/db (CI sets it)")
    env = {"DATABASE_URL": fresh_database(url, tmp_path), "HEARBACK_DATA_DIR": str(tmp_path / "data"),
           "HEARBACK_JOB_LEASE_SECONDS": LEASE, "WHISPER_MODEL": "tiny.en", "HEARBACK_CPU_THREADS": "1"}
    paused, other = free_port(), free_port()
    logs = {port: tmp_path / f"replica-{port}.log" for port in (paused, other)}
    processes = {paused: start_service(paused, logs[paused], **env)}  # alone: it takes the job
    api = {port: httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": KEY}, timeout=60)
           for port in (paused, other)}
    try:
        r = api[paused].post("/transcriptions", data={"language": "en"}, files={
            "audio": ("long.mp3", audio("multilingual.mp3").read_bytes(), "audio/mpeg")})
        assert r.status_code == 202, r.text
        job = r.json()["id"]
        processes[other] = start_service(other, logs[other], **env)
        def well_into(status: dict) -> bool:  # running, with much left to do (not ended before the pause)
            return status["state"] == "running" and 0.1 < status["progress"] < 0.8

        wait_until(lambda: well_into(api[paused].get(f"/transcriptions/{job}").json()), 120,
                   "the first replica well into the job")
        seen, polling = [], threading.Event()

        def poll() -> None:  # the job's progress as a client sees it, all along
            while not polling.is_set():
                seen.append(api[other].get(f"/transcriptions/{job}").json())
                time.sleep(0.1)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        os.kill(processes[paused].pid, signal.SIGSTOP)
        try:
            wait_until(lambda: api[other].get("/status").json()["running"] == job, 60,
                       "the other replica took the job over")
        finally:
            os.kill(processes[paused].pid, signal.SIGCONT)
        wait_until(lambda: api[paused].get(f"/transcriptions/{job}").json()["state"] in ("done", "failed"), 300,
                   "the job ended")
        time.sleep(2 * float(LEASE))  # what the resumed replica would still write
        polling.set()
        poller.join(10)
        final = api[other].get(f"/transcriptions/{job}").json()
        assert final["state"] == "done" and not final["error"]
        progress = [s["progress"] for s in seen]
        assert progress == sorted(progress), "the progress never went back"
        assert [s["state"] for s in seen if s["state"] in ("failed", "queued")] == []
        for port in (paused, other):
            assert "Traceback" not in logs[port].read_text(), logs[port].read_text()[-3000:]
        wait_until(lambda: "another run took it over" in logs[paused].read_text(), 60,
                   "the resumed replica let go at its next progress report")
    finally:
        for client in api.values():
            client.close()
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(60)
