"""The n8n workflows of integrations/n8n, run by a real n8n on 127.0.0.1.

n8n comes from the npm registry: `scripts/install-n8n` installs it into .cache/n8n (its `xlsx`
dependency points at a CDN this machine cannot reach, so it is overridden with the registry's
build, and native modules that would download prebuilt binaries are built from source or left
out). The workflows are imported with n8n's CLI, n8n is started, the workflow's webhook is
triggered, and the test checks that Hearback received the job and that n8n wrote the named
transcript. The RunPod workflow talks to the real worker through the loopback translator of
test_runpod_jobs.py (RunPod's cloud cannot exist here).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import KEY, ROOT, audio, clip, free_port, write_wav

pytestmark = pytest.mark.slow  # n8n installed and run: the slow tier

N8N_HOME = ROOT / ".cache" / "n8n"
N8N = N8N_HOME / "node_modules" / ".bin" / "n8n"
WORKFLOWS = ROOT / "integrations" / "n8n"


def words(text: str) -> str:
    """The text lower-cased without the recogniser's commas, full stops and question marks."""
    return re.sub(r"[,.?!]", "", text.lower())


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 240) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} never came up; its log:\n" + log.read_text()[-4000:])
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"{url} did not answer within {seconds} s; log:\n" + log.read_text()[-4000:])


@pytest.fixture(scope="module")
def n8n_binary(tmp_path_factory):
    """n8n installed as a fresh machine installs it: with an empty HOME (no npm or node-gyp cache),
    so a step that needs more than the npm registry fails here, not on a user's machine."""
    if not N8N.exists():
        home = tmp_path_factory.mktemp("empty-home")
        env = {**os.environ, "HOME": str(home), "npm_config_cache": str(home / ".npm")}
        run = subprocess.run([str(ROOT / "scripts" / "install-n8n")], capture_output=True, text=True, timeout=1800,
                             env=env)
        if run.returncode != 0 or not N8N.exists():
            pytest.fail("n8n could not be installed from the npm registry:\n" + run.stdout[-2000:] + run.stderr[-2000:])
    return N8N


@pytest.fixture(scope="module")
def hearback_service(tmp_path_factory, http_root, llm_server):
    """`hearback serve` for real on 127.0.0.1, with Kennedy and the Reader enrolled, and the test
    language model for summaries."""
    tmp = tmp_path_factory.mktemp("n8n-service")
    port = free_port()
    env = {**os.environ, "HEARBACK_DATA_DIR": str(tmp / "data"), "HEARBACK_API_KEY": KEY,
           "HEARBACK_URL_ALLOWLIST": "127.0.0.1", "HEARBACK_MIN_ENROL_SECONDS": "3",
           "HEARBACK_LLM_URL": llm_server.url, "HEARBACK_LLM_JSON_MODE": "json_object_schema"}
    log = tmp / "service.log"
    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=open(log, "w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/health", process, log)
    client = httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=120)
    root, files_base = http_root
    for name, (file, start, end) in {"Kennedy": ("jfk.flac", 5.5, 11.0), "Reader": ("multilingual.mp3", 15.0, 29.0)}.items():
        sid = client.post("/speakers", json={"name": name}).json()["id"]
        sample = write_wav(tmp / f"{name}.wav", clip(file, start, end))
        assert client.post(f"/speakers/{sid}/enrol", files={"audio": (sample.name, sample.read_bytes())}, data={"consent": "true"}).status_code == 201
    import numpy as np

    write_wav(root / "n8n-meeting.wav", np.concatenate([clip("jfk.flac", 0, 5.5), np.zeros(12000, np.float32),
                                                        clip("multilingual.mp3", 0, 14.5)]))
    yield base, client, f"{files_base}/n8n-meeting.wav"
    client.close()
    process.terminate()
    process.wait(30)


def start_n8n(binary: Path, tmp: Path, env_extra: dict) -> tuple[str, subprocess.Popen]:
    port = free_port()
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    env = {**os.environ, "N8N_USER_FOLDER": str(tmp / "n8n-home"), "N8N_PORT": str(port),
           "N8N_LISTEN_ADDRESS": "127.0.0.1", "N8N_HOST": "127.0.0.1", "WEBHOOK_URL": f"http://127.0.0.1:{port}/",
           "N8N_DIAGNOSTICS_ENABLED": "false", "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
           "N8N_TEMPLATES_ENABLED": "false", "N8N_PERSONALIZATION_ENABLED": "false", "N8N_SECURE_COOKIE": "false",
           "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false", "N8N_RESTRICT_FILE_ACCESS_TO": str(out),
           "N8N_RUNNERS_ENABLED": "false", "DB_TYPE": "sqlite", "HEARBACK_OUTPUT_DIR": str(out),
           "EXECUTIONS_DATA_SAVE_ON_SUCCESS": "all", "N8N_EXPRESSION_ENGINE": "legacy", **env_extra}
    for workflow in ("hearback-service.json", "hearback-runpod.json"):
        run = subprocess.run([str(binary), "import:workflow", f"--input={WORKFLOWS / workflow}"], env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    for workflow_id in ("HearbackService01", "HearbackRunpod01"):
        run = subprocess.run([str(binary), "update:workflow", f"--id={workflow_id}", "--active=true"], env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    log = tmp / "n8n.log"
    process = subprocess.Popen([str(binary), "start"], env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    wait_for(f"http://127.0.0.1:{port}/healthz", process, log)
    return f"http://127.0.0.1:{port}", process


def trigger(url: str, payload: dict, seconds: float = 90) -> httpx.Response:
    """POST to a workflow's webhook; n8n registers active workflows' webhooks a little after start."""
    deadline = time.time() + seconds
    while True:
        response = httpx.post(url, json=payload, timeout=30)
        if response.status_code != 404 or time.time() > deadline:
            return response
        time.sleep(1)


def wait_for_file(folder: Path, suffix: str, seconds: float = 300) -> Path:
    deadline = time.time() + seconds
    while time.time() < deadline:
        found = sorted(folder.glob(f"*{suffix}"))
        if found:
            time.sleep(0.5)
            return found[0]
        time.sleep(1)
    pytest.fail(f"n8n wrote no *{suffix} into {folder}")


def test_the_service_workflow_gets_a_named_transcript(n8n_binary, hearback_service, tmp_path):
    base, client, audio_url = hearback_service
    n8n, process = start_n8n(n8n_binary, tmp_path, {"HEARBACK_URL": base, "HEARBACK_API_KEY": KEY})
    try:
        r = trigger(f"{n8n}/webhook/hearback-transcribe", {
            "audio_url": audio_url, "title": "From n8n", "tag": "n8n test", "language": "en",
            "participants": "Kennedy, Reader"})
        assert r.status_code == 200, r.text
        written = wait_for_file(tmp_path / "out", ".txt").read_text()
        summary = wait_for_file(tmp_path / "out", ".summary.md").read_text()  # the post-processing step
    finally:
        process.terminate()
        process.wait(30)
    sessions = client.get("/sessions", params={"tag": "n8n test"}).json()
    assert sessions["total"] == 1 and sessions["items"][0]["title"] == "From n8n"
    names = {s["id"]: s["name"] for s in client.get("/speakers").json()}
    assert {names[i] for i in sessions["items"][0]["participants"]} == {"Kennedy", "Reader"}
    assert summary.startswith("## Summary") and "## Action items" in summary, summary
    assert client.get(f"/sessions/{sessions['items'][0]['id']}/summary").json()["state"] == "done"
    # casing and commas are the recogniser's (they vary with the clip it is given): compare words
    assert "kennedy: and so my fellow americans" in words(written) and "Reader:" in written


def test_the_runpod_workflow_polls_status_to_the_end(n8n_binary, runpod_endpoint, http_root, tmp_path):
    root, served = http_root
    shutil.copy(audio("jfk.flac"), root / "jfk.flac")
    n8n, process = start_n8n(n8n_binary, tmp_path, {
        "RUNPOD_BASE_URL": runpod_endpoint.base, "RUNPOD_ENDPOINT_ID": "hearback-test", "RUNPOD_API_KEY": "rp-key"})
    try:
        r = trigger(f"{n8n}/webhook/hearback-runpod", {"audio_url": f"{served}/jfk.flac", "language": "en"})
        assert r.status_code == 200, r.text
        written = wait_for_file(tmp_path / "out", ".srt").read_text()
    finally:
        process.terminate()
        process.wait(30)
    assert "[speaker_00] and so my fellow americans" in words(written)
    calls = [(method, path.split("/")[2]) for method, path, _ in runpod_endpoint.seen]
    assert ("POST", "run") in calls and ("GET", "status") in calls
