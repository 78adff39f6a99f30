"""Three replicas (`hearback serve` processes) on one PostgreSQL database: 30 jobs submitted across
them, one replica killed with `kill -9` in the middle of a job and started again, another stopped (it
hands its job back); every job is done exactly once (one session, one set of utterances), none fails, and
every job's webhook arrives (twice only for the one the killed replica was sending as it died). A voice enrolled
on one replica is named by another at once; a deleted one no longer is."""

from __future__ import annotations

import http.server
import json
import os
import signal
import threading
import time

import httpx
import pytest

from conftest import KEY, clip, free_port, fresh_database, jfk_clips, start_service, wait_until, wav_bytes

from jobs.runner import STOP_SECONDS

pytestmark = pytest.mark.slow  # several service replicas: the slow tier

JOBS = 30
LEASE = "4"  # HEARBACK_JOB_LEASE_SECONDS: a dead replica's job is taken over after this
ALL_DONE_SECONDS = 600
# Webhook tries kept short: a webhook the killed replica had claimed (or not yet) is sent by a sweep
# once its claim's lease (jobs.webhooks.lease: every try, every backoff, a margin) has run out
WEBHOOK_ENV = {"HEARBACK_WEBHOOK_ATTEMPTS": "2", "HEARBACK_WEBHOOK_TIMEOUT": "2", "HEARBACK_WEBHOOK_BACKOFF": "0.5"}


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    url = os.environ.get("DATABASE_TEST_URL")
    if not url:
        pytest.skip("PostgreSQL NOT TESTED: set DATABASE_TEST_URL=postgresql+psycopg://user@host/db (CI sets it)")
    return fresh_database(url, tmp_path_factory.mktemp("pg"))


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver on 127.0.0.1: when each job's deliveries came (monotonic times)."""

    arrivals: dict = {}

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).arrivals.setdefault(json.loads(body)["job_id"], []).append(time.monotonic())
        self.send_response(200)
        self.end_headers()


@pytest.fixture(scope="module")
def replicas(postgres, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("replicas")
    env = {"DATABASE_URL": postgres, "HEARBACK_DATA_DIR": str(tmp / "data"), "HEARBACK_JOB_LEASE_SECONDS": LEASE,
           "WHISPER_MODEL": "tiny.en", "HEARBACK_CPU_THREADS": "1", "HEARBACK_MIN_ENROL_SECONDS": "3", **WEBHOOK_ENV}
    ports = [free_port() for _ in range(3)]
    processes = {port: start_service(port, tmp / f"replica-{port}.log", **env) for port in ports}
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()

    def restart(port: int) -> None:
        processes[port] = start_service(port, tmp / f"replica-{port}.log", **env)

    yield ports, processes, restart, f"http://127.0.0.1:{receiver.server_address[1]}/hook", tmp
    receiver.shutdown()
    for process in processes.values():
        process.terminate()
    for process in processes.values():
        process.wait(60)


def api(port: int) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": KEY}, timeout=60)


def test_thirty_jobs_on_three_replicas_one_killed_each_done_once(replicas, postgres):
    ports, processes, restart, hook, tmp = replicas
    jobs = []
    for i, path in enumerate(jfk_clips(tmp, JOBS)):
        with api(ports[i % 3]) as client:
            r = client.post("/transcriptions", files={"audio": (path.name, path.read_bytes(), "audio/mpeg")},
                            data={"language": "en", "title": f"clip {i}", "webhook_url": hook})
            assert r.status_code == 202, r.text
            jobs.append(r.json()["id"])
    victim = ports[0]
    with api(victim) as client:
        deadline = time.time() + 120
        while not (running := client.get("/status").json()["running"]):
            assert time.time() < deadline, "replica 0 never took a job"
            time.sleep(0.05)
    os.kill(processes[victim].pid, signal.SIGKILL)  # in the middle of `running`
    killed = time.monotonic()
    processes[victim].wait(10)
    restart(victim)
    stopping = ports[2]  # a replica stopped in the middle of a job hands it back and exits at once
    with api(stopping) as client:
        deadline = time.time() + 120
        while not (handed_back := client.get("/status").json()["running"]) and time.time() < deadline:
            time.sleep(0.05)
    stopped = time.monotonic()
    processes[stopping].terminate()
    processes[stopping].wait(60)
    assert time.monotonic() - stopped < STOP_SECONDS  # it let go of its job, and finished no queue
    with api(ports[1]) as client:
        deadline = time.time() + ALL_DONE_SECONDS
        while True:
            states = [client.get(f"/transcriptions/{job}").json() for job in jobs]
            if all(s["state"] in ("done", "failed") for s in states) or time.time() > deadline:
                break
            time.sleep(1)
        assert [s["error"] for s in states if s["state"] != "done"] == [], "every job done, none failed"
        sessions = {s["session_id"] for s in states}
        assert len(sessions) == JOBS and client.get("/sessions").json()["total"] == JOBS
        for state in states:
            segments = client.get(f"/sessions/{state['session_id']}/transcript").json()["transcription"]["segments"]
            said = [(s["start"], s["text"]) for s in segments]
            assert said and len(said) == len(set(said)), "one set of utterances"
        assert client.get(f"/transcriptions/{running}").json()["state"] == "done"
        assert handed_back is None or client.get(f"/transcriptions/{handed_back}").json()["state"] == "done"
    # A duplicate run could only come from a queue entry still to do or doing (the killed replica's,
    # put back once its lease runs out); a late webhook only from one not marked sent (one the killed
    # replica claimed waits out its claim's lease). Once neither is left, nothing can deliver again.
    wait_until(lambda: settled(postgres), webhook_lease() + 15 * float(LEASE), "the queue drained and every webhook sent", 0.5)
    assert set(Receiver.arrivals) == set(jobs), "a webhook for every job"
    # Delivery is at least once: only a webhook the killed replica was sending as it died (the
    # receiver had it, the row did not say "sent") goes out again, from a sweep
    twice = {job: times for job, times in Receiver.arrivals.items() if len(times) > 1}
    assert len(twice) <= 1 and all(len(times) == 2 and times[0] < killed for times in twice.values()), twice


def webhook_lease() -> float:
    """Seconds a sweep leaves a claimed webhook to its sender, with the replicas' settings."""
    from jobs.webhooks import lease
    from service.settings import Settings

    return lease(Settings(webhook_attempts=int(WEBHOOK_ENV["HEARBACK_WEBHOOK_ATTEMPTS"]),
                          webhook_timeout=float(WEBHOOK_ENV["HEARBACK_WEBHOOK_TIMEOUT"]),
                          webhook_backoff=float(WEBHOOK_ENV["HEARBACK_WEBHOOK_BACKOFF"])))


def settled(url: str) -> bool:
    """No queue entry is left to do or doing, and every job's webhook is sent."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as db:
            queued = db.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"))
            unsent = db.execute(text("SELECT count(*) FROM jobs WHERE webhook_state <> 'sent'"))
            return queued.scalar() == 0 and unsent.scalar() == 0
    finally:
        engine.dispose()


def test_an_enrolment_on_one_replica_names_on_another_at_once(replicas, pipeline):
    from hearback.decode import decode
    from speakers.identification import Embedder

    ports, _, _, _, tmp = replicas
    sample = tmp / "kennedy-other-part.wav"
    sample.write_bytes(wav_bytes(clip("jfk.flac", 0.0, 5.5)))
    vector, _, _ = pipeline.embed_voice(decode(sample))
    question = {"embedder": Embedder.of(pipeline).name, "embeddings": {"SPEAKER_00": [float(x) for x in vector]}}
    with api(ports[0]) as a, api(ports[1]) as b:
        assert b.post("/identify", json=question).json()["speakers"][0]["name"] is None
        sid = a.post("/speakers", json={"name": "Kennedy"}).json()["id"]
        r = a.post(f"/speakers/{sid}/enrol", files={"audio": ("k.wav", wav_bytes(clip("jfk.flac", 5.5, 11.0)))}, data={"consent": "true"})
        assert r.status_code == 201, r.text
        enrolled = time.monotonic()
        named = b.post("/identify", json=question).json()["speakers"][0]
        assert named["name"] == "Kennedy" and time.monotonic() - enrolled < 5.0, named  # no index rebuild to wait for
        a.patch(f"/speakers/{sid}", json={"name": "J. F. Kennedy"})
        assert b.post("/identify", json=question).json()["speakers"][0]["name"] == "J. F. Kennedy"
        assert a.delete(f"/speakers/{sid}").status_code == 204
        deleted = time.monotonic()
        assert b.post("/identify", json=question).json()["speakers"][0]["name"] is None
        assert time.monotonic() - deleted < 5.0
        assert b.get("/status").json()["voiceprints"] == 0
