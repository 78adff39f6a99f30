"""The service sending its jobs to a RunPod endpoint through the `runpod` SDK.

RunPod's cloud API cannot exist here. The real worker runs with the SDK's local API server, and a
small loopback translator stands in for RunPod's routing layer: the SDK's `/{endpoint}/run` and
`GET /{endpoint}/status/{id}` are passed to the local server's `/run` and `POST /status/{id}`.
Everything else is real: the SDK client, the worker, the pipeline, the service's matching.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import ROOT, free_port, write_wav
from test_service import ENROL, KEY, enrol, meeting


class Translator(http.server.BaseHTTPRequestHandler):
    worker = ""
    seen: list = []

    def log_message(self, *args):
        pass

    def _relay(self, method: str, path: str, body: bytes | None):
        self.seen.append((self.command, self.path, self.headers.get("Authorization")))
        response = httpx.request(method, f"{self.worker}{path}", content=body,
                                 headers={"Content-Type": "application/json"}, timeout=600)
        self.send_response(response.status_code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(response.content)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        parts = self.path.strip("/").split("/")  # endpoint, action, [id]
        self._relay("POST", "/" + "/".join(parts[1:]), body)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        self._relay("POST", "/" + "/".join(parts[1:]), None)


@pytest.fixture(scope="module")
def runpod_endpoint(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rp")
    port = free_port()
    log = open(tmp / "worker.log", "w")
    env = {**os.environ, "HEARBACK_DATA_DIR": str(tmp / "data"), "HEARBACK_URL_ALLOWLIST": "127.0.0.1"}
    worker = subprocess.Popen([sys.executable, "handler.py", "--rp_serve_api", "--rp_api_host", "127.0.0.1",
                               "--rp_api_port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    Translator.worker = base
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Translator)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    import runpod

    previous = runpod.endpoint_url_base
    runpod.endpoint_url_base = f"http://127.0.0.1:{proxy.server_address[1]}"
    yield Translator
    runpod.endpoint_url_base = previous
    proxy.shutdown()
    worker.terminate()
    worker.wait(30)
    log.close()


def test_jobs_go_to_runpod_and_come_back_named(runpod_endpoint, pipeline, tmp_path):
    from api.app import create_app
    from hearback.settings import Settings
    from speakers.service import SpeakerService

    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/db.sqlite", api_key=KEY,
                        min_enrol_seconds=3.0, runpod_endpoint_id="hearback-test", runpod_api_key="rp-key")
    with TestClient(create_app(settings, SpeakerService(settings, pipeline=pipeline)),
                    headers={"X-API-Key": KEY}) as client:
        for name in ENROL:
            enrol(client, name)
        samples, _ = meeting()
        wav = write_wav(tmp_path / "meeting.wav", samples).read_bytes()
        job = client.post("/transcriptions", files={"audio": ("m.wav", wav, "audio/wav")},
                          data={"language": "en", "title": "on RunPod"}).json()
        done = client.app.state.runner.wait(job["id"], timeout=300)
        assert done.state == "done", done.error
        result = client.get(f"/transcriptions/{job['id']}/result").json()
    assert {i["name"] for i in result["identified_speakers"] if i["name"]} == set(ENROL)
    assert result["model"]["asr"]["backend"] == "faster-whisper"
    calls = [(m, p.split("/")[2]) for m, p, _ in runpod_endpoint.seen]
    assert ("POST", "run") in calls and ("GET", "status") in calls
    assert all(auth == "Bearer rp-key" for _, _, auth in runpod_endpoint.seen)
    assert all(p.startswith("/hearback-test/") for _, p, _ in runpod_endpoint.seen)
