"""Shared fixtures: the real recordings of ../shared/audio, one loaded pipeline per test session,
ffmpeg-made variants of the recordings, and a plain HTTP server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT.parent / "shared" / "audio"


def audio(name: str) -> Path:
    path = AUDIO / name
    if not path.exists():
        pytest.fail(f"test recording {path} is missing: the tests need ../shared/audio (see README)")
    return path


def ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is not installed: run scripts/test, which installs it")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


# Every test runs on the same date, whatever the day or time zone it runs in: the service's clock
# (database.clock) reads this moment when a test starts and ticks on from there.
TODAY = datetime(2026, 6, 15, 9, 30)


@pytest.fixture(autouse=True)
def fixed_clock():
    from database.clock import starting_at

    with starting_at(TODAY):
        yield


@pytest.fixture(scope="session", autouse=True)
def shared_model_cache(tmp_path_factory):
    """One model cache for the session's processes, whatever data folder each test gives them: the
    joined Whisper base and CAM++'s ONNX export are made once (HEARBACK_MODEL_CACHE_DIR)."""
    if os.environ.get("HEARBACK_MODEL_CACHE_DIR"):
        yield os.environ["HEARBACK_MODEL_CACHE_DIR"]
        return
    folder = str(tmp_path_factory.mktemp("model-cache"))
    os.environ["HEARBACK_MODEL_CACHE_DIR"] = folder
    yield folder
    os.environ.pop("HEARBACK_MODEL_CACHE_DIR", None)


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    from service.settings import Settings

    # One model cache for the session: the joined Whisper base is verified once.
    return Settings.from_env(data_dir=tmp_path_factory.mktemp("hearback-data"))


@pytest.fixture(scope="session")
def pipeline(settings):
    from hearback.pipeline import Pipeline

    return Pipeline(settings).load()


@pytest.fixture(scope="session")
def http_root(tmp_path_factory):
    """A directory served over HTTP on 127.0.0.1; yields (directory, base URL)."""
    root = tmp_path_factory.mktemp("served")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.startswith("/redirect-to/"):
                self.send_response(302)
                self.send_header("Location", self.path[len("/redirect-to/"):].replace("__", "://", 1))
                self.end_headers()
                return
            if self.path.startswith("/slow"):
                self.send_response(200)
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                threading.Event().wait(5)
                return
            super().do_GET()

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # clients that hang up on purpose (time-out tests) are not errors

    server = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def write_wav(path: Path, samples, rate: int = 16000) -> Path:
    """16-bit PCM WAV of float samples in [-1, 1]."""
    import wave

    import numpy as np

    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def clip(name: str, start: float, end: float):
    """Seconds `start`..`end` of a shared recording, decoded to 16 kHz mono."""
    from hearback.decode import decode

    samples = decode(audio(name)).samples
    return samples[int(start * 16000):int(end * 16000)]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory):
    """The small test model behind a real llama.cpp server on 127.0.0.1 (tests/llm_server.py),
    shared by the summary tests and stopped at the end."""
    from llm_server import LlamaServer

    server = LlamaServer(free_port(), tmp_path_factory.mktemp("llm") / "server.log").start()
    yield server
    server.stop()


def database_urls() -> list:
    """SQLite always; PostgreSQL when DATABASE_TEST_URL names one (CI does): a loud skip otherwise."""
    import os

    url = os.environ.get("DATABASE_TEST_URL")
    postgres = pytest.param(url, id="postgresql") if url else pytest.param(
        None, id="postgresql", marks=pytest.mark.skip(
            reason="PostgreSQL NOT TESTED: set DATABASE_TEST_URL=postgresql+psycopg://user@host/db (CI sets it)"))
    return [pytest.param("sqlite", id="sqlite"), postgres]


def fresh_database(url: str, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the PostgreSQL test database emptied."""
    if url == "sqlite":
        return f"sqlite:///{tmp_path / 'hearback.db'}"
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


# ------------------------------------------------- the speaker service's shared helpers

KEY = "test-key-123"  # the API key of every test service
CONSENT = {"consent": "true"}  # an enrolment's consent, as a form field (JSON bodies take {"consent": True})
EMBEDDER = "campp-3dspeaker-zh-en-192"  # the default embedder, which the test pipeline runs

# Enrolment parts and test parts of the same real voices never overlap.
ENROL = {
    "Kennedy": ("jfk.flac", 5.5, 11.0),
    "Reader": ("multilingual.mp3", 15.0, 29.0),
    "Sheila": ("pyannote_sample.wav", 21.75, 27.8),
}


def wav_bytes(samples) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        return write_wav(Path(d) / "x.wav", samples).read_bytes()


def meeting():
    """A recording of other parts of the enrolled voices plus three voices never enrolled, and
    who speaks when (None: a stranger)."""
    import numpy as np

    from hearback.decode import decode

    pause = np.zeros(12000, np.float32)
    parts = [("Kennedy", clip("jfk.flac", 0.0, 5.5)), ("Sheila", clip("pyannote_sample.wav", 14.45, 17.95)),
             ("Reader", clip("multilingual.mp3", 0.0, 14.5)),
             (None, decode(audio("stereo_diarization.wav"), channel=0).samples),
             (None, clip("hotwords.mp3", 0.0, 4.0)), (None, decode(audio("stereo_diarization.wav"), channel=1).samples)]
    samples, truth, t = [], [], 0.0
    for who, piece in parts:
        truth.append((t, t + len(piece) / 16000, who))
        samples += [piece, pause]
        t += (len(piece) + len(pause)) / 16000
    return np.concatenate(samples), truth


def enrol(client, name: str) -> str:
    """Create speaker `name` through the API and enrol its part of ENROL; returns its id."""
    sid = client.post("/speakers", json={"name": name}).json()["id"]
    file, start, end = ENROL[name]
    r = client.post(f"/speakers/{sid}/enrol", files={"audio": (f"{name}.wav", wav_bytes(clip(file, start, end)), "audio/wav")},
                    data=CONSENT)
    assert r.status_code == 201, r.text
    return sid


def transcribe(client, samples, **form) -> dict:
    r = client.post("/transcriptions", files={"audio": ("meeting.wav", wav_bytes(samples), "audio/wav")},
                    data={"language": "en", **form})
    assert r.status_code == 202, r.text
    job = r.json()
    runner = client.app.state.runner
    done = runner.wait(job["id"], timeout=300)
    assert done.state == "done", done.error
    status = client.get(f"/transcriptions/{job['id']}").json()
    assert status["progress"] == 1.0 and status["result_url"].endswith("/result")
    return client.get(f"/transcriptions/{job['id']}/result").json() | {"job_id": job["id"]}


def service_client(settings, pipeline):
    """A TestClient on the whole service (enter it to start the job runner), with the API key."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    return TestClient(create_app(settings, pipeline), headers={"X-API-Key": KEY})


# ------------------------------------------------- a RunPod endpoint on loopback (real worker)
# RunPod's cloud cannot exist here. The real worker runs with the SDK's local API server, and this
# translator stands in for RunPod's routing layer: `/{endpoint}/run` and `GET /{endpoint}/status/{id}`
# go to the local server's `/run` and `POST /status/{id}`.



class Translator(http.server.BaseHTTPRequestHandler):
    """RunPod's routing, on loopback: `/run` queues the job and answers at once, as RunPod does;
    the job then runs on the worker (its local server runs a job when its status is asked), and
    `GET /status` answers IN_PROGRESS until the worker is done."""

    worker = ""
    base = ""
    seen: list = []
    bodies: list = []  # (method, path, JSON body) of every POST, as the SDK sent it
    results: dict = {}

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.seen.append((self.command, self.path, self.headers.get("Authorization")))
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.bodies.append((self.command, self.path, json.loads(body or b"null")))
        action = self.path.strip("/").split("/")[1]
        response = httpx.post(f"{self.worker}/{action}", content=body,
                              headers={"Content-Type": "application/json"}, timeout=600)
        if action == "run" and response.status_code == 200:
            job_id = response.json()["id"]

            def finish() -> None:
                type(self).results[job_id] = httpx.post(f"{self.worker}/status/{job_id}", timeout=600).content

            threading.Thread(target=finish, daemon=True).start()
        self._answer(response.status_code, response.content)

    def do_GET(self):
        self.seen.append((self.command, self.path, self.headers.get("Authorization")))
        job_id = self.path.strip("/").split("/")[-1]
        done = self.results.get(job_id)
        self._answer(200, done or json.dumps({"id": job_id, "status": "IN_PROGRESS"}).encode())


def start_worker(env: dict, log_path: Path) -> tuple[subprocess.Popen, str]:
    """`python handler.py --rp_serve_api` on 127.0.0.1 (the RunPod SDK's local server), once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "handler.py", "--rp_serve_api", "--rp_api_host", "127.0.0.1", "--rp_api_port", str(port)],
        cwd=ROOT, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    return answering(process, f"{base}/openapi.json", log_path, "the worker"), base


def answering(process: subprocess.Popen, url: str, log_path: Path, what: str) -> subprocess.Popen:
    """`process` once `url` answers 200 (within 3 minutes: models may load first)."""
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    process.kill()
    pytest.fail(f"{what} did not start: {log_path.read_text()[-3000:]}")


def wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    """The first true value of `condition()`, asked every `interval` seconds; the test fails,
    naming `what`, when none came within `timeout` seconds. (Wait on the event, not a guess of how long.)"""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:g} s")
        time.sleep(interval)


@contextlib.contextmanager
def uvicorn_thread(app):
    """`app` under uvicorn on a free port of 127.0.0.1, in a thread, until the block ends (real
    sockets: what is read, and when, is visible); yields the port."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), 60, "uvicorn listening")
    assert server.started, "uvicorn did not start (see its log above)"
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def runpod_endpoint(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rp")
    env = {**os.environ, "HEARBACK_DATA_DIR": str(tmp / "data"), "HEARBACK_URL_ALLOWLIST": "127.0.0.1"}
    worker, base = start_worker(env, tmp / "worker.log")
    Translator.worker = base
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Translator)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    import runpod

    previous = runpod.endpoint_url_base
    runpod.endpoint_url_base = f"http://127.0.0.1:{proxy.server_address[1]}"
    Translator.base = runpod.endpoint_url_base
    yield Translator
    runpod.endpoint_url_base = previous
    proxy.shutdown()
    worker.terminate()
    worker.wait(30)




# ------------------------------------------------- `hearback serve` as a process of its own


def start_service(port: int, log_path: Path, **env: str) -> subprocess.Popen:
    """`hearback serve` on 127.0.0.1:`port` with the API key and `env` (HEARBACK_DATA_DIR at
    least), once its /health answers."""
    environment = {**os.environ, "HEARBACK_API_KEY": KEY, **env}
    if "DATABASE_URL" not in env:
        environment.pop("DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=ROOT,
                               env=environment, stdout=open(log_path, "a"), stderr=subprocess.STDOUT)
    return answering(process, f"http://127.0.0.1:{port}/health", log_path, "hearback serve")


def jfk_clips(folder: Path, count: int) -> list[Path]:
    """`count` clips of 3 to 5 s cut from jfk.flac by ffmpeg (MP3): short real jobs."""
    made = []
    for i in range(count):
        path = folder / f"clip{i}.mp3"
        ffmpeg("-ss", str(i % 6), "-t", str(3 + i % 3), "-i", str(audio("jfk.flac")), str(path))
        made.append(path)
    return made


# The production backends' tests need whisperx, in .venv-whisperx (tests/whisperx_parts.py).
from whisperx_parts import WHISPERX, WHISPERX_TESTS, report  # noqa: E402

collect_ignore = [] if WHISPERX else WHISPERX_TESTS


def pytest_terminal_summary(terminalreporter):
    report(terminalreporter)
