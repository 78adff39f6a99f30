"""The RunPod worker through the real RunPod SDK: --test_input, and its local API server driven
over HTTP on 127.0.0.1 (/runsync, /run + /status), audio served from loopback."""

import base64
import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import ROOT, audio, clip, start_worker, write_wav

from hearback.decode import Audio


def worker_env(tmp_path: Path, **extra) -> dict:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {**os.environ, "HEARBACK_DATA_DIR": str(tmp_path / "data"), "TMPDIR": str(tmp_path / "tmp"),
            "HEARBACK_URL_ALLOWLIST": "127.0.0.1", "HEARBACK_MAX_BYTES": "3000000", **extra}


def leftovers(tmp: Path) -> list[str]:
    """Downloaded or decoded audio left behind (onnxruntime's own `.ses` session file is not ours)."""
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("hearback-"))


# `python handler.py` with the RunPod SDK's log lines left whole: the SDK prints a --test_input job's
# result as the repr of a dict on one log line, and cuts the middle out of lines over 4096 characters.
UNCUT_HANDLER = ("import runpy, sys; from runpod.serverless.modules import rp_logger; "
                 "rp_logger.MAX_MESSAGE_LENGTH = 1 << 40; sys.argv[0] = 'handler.py'; "
                 "runpy.run_path('handler.py', run_name='__main__')")


def printed_result(stdout: str) -> dict:
    """The job result the SDK printed (`INFO   | Job result: {...}`), as the dict it was (a numpy
    scalar in it, printed `np.float64(1.0)`, read as its value)."""
    import ast

    class Scalars(ast.NodeTransformer):
        def visit_Call(self, node):
            if ast.unparse(node.func) in ("np.float64", "np.float32", "np.int64") and len(node.args) == 1:
                return node.args[0]
            return node

    lines = [line for line in stdout.splitlines() if line.startswith("INFO   | Job result: ")]
    assert len(lines) == 1, stdout[-3000:]
    tree = ast.parse(lines[0].removeprefix("INFO   | Job result: "), mode="eval")
    return ast.literal_eval(Scalars().visit(tree))


@pytest.mark.slow
def test_test_input_runs_one_job(tmp_path):
    payload = {"input": {"audio_base64": base64.b64encode(audio("hotwords.mp3").read_bytes()).decode(),
                         "language": "en", "output_format": "srt"}}
    run = subprocess.run([sys.executable, "-c", UNCUT_HANDLER, "--test_input", json.dumps(payload)], cwd=ROOT,
                         env=worker_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    out = printed_result(run.stdout)["output"]
    assert out["output_format"] == "srt" and out["speakers"] == ["SPEAKER_00"]
    # Whisper's first capital comes and goes with numpy's last digits (2.4.5 dropped it): the words count.
    text = out["transcription"]["text"]
    assert re.match(r"(?i)then you go into your .* folder again", text.strip()), text
    segments = out["transcription"]["segments"]
    assert segments and all(s["speaker"] == "SPEAKER_00" and s["words"] for s in segments)
    assert 0.0 <= segments[0]["start"] < segments[-1]["end"] <= out["duration"] + 0.01
    cues = out["srt"].strip().split("\n\n")
    assert len(cues) == len(segments)  # one cue per segment, numbered, timed as the segment, its text
    number, timing, said = cues[0].split("\n", 2)
    assert number == "1" and re.fullmatch(r"00:00:00,\d{3} --> 00:00:0\d,\d{3}", timing), cues[0]
    assert said.lower().startswith("[speaker_00] then you go")
    assert leftovers(tmp_path / "tmp") == []


@pytest.mark.slow
def test_test_input_reports_a_bad_job_without_traceback(tmp_path):
    run = subprocess.run([sys.executable, "handler.py", "--test_input", json.dumps({"input": {"language": "fr"}})],
                         cwd=ROOT, env=worker_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert "give exactly one of audio_url or audio_base64" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


# ---------------------------------------------------------------- the local API server, kept warm


@pytest.fixture(scope="module")
def voices(pipeline):
    """Voiceprints from one part of two real voices, and a recording made of other parts of them
    plus a third, never-enrolled voice."""
    kennedy = pipeline.embed_voice(Audio(clip("jfk.flac", 5.5, 11.0)))[0]
    reader = pipeline.embed_voice(Audio(clip("multilingual.mp3", 15.0, 29.0)))[0]
    pause = np.zeros(12000, np.float32)
    recording = np.concatenate([clip("jfk.flac", 0.0, 5.5), pause, clip("multilingual.mp3", 0.0, 14.5), pause,
                                clip("pyannote_sample.wav", 21.8, 27.8)])
    speakers = [{"name": "Kennedy", "embedding": kennedy.tolist(), "model": pipeline.embedder_name},
                {"name": "Reader", "embedding": reader.tolist(), "model": pipeline.embedder_name}]
    return speakers, recording


@pytest.fixture(scope="module")
def served_audio(http_root, voices):
    root, base = http_root
    write_wav(root / "meeting.wav", voices[1])
    (root / "corrupt.wav").write_bytes(b"RIFF" + os.urandom(5000))
    (root / "big.wav").write_bytes(bytes(3_500_000))
    return base


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("worker")
    log_path = tmp / "worker.log"
    process, base = start_worker(worker_env(tmp), log_path)
    client = httpx.Client(base_url=base, timeout=300)
    yield client, log_path, tmp / "tmp"
    client.close()
    process.terminate()
    process.wait(timeout=30)


def runsync(api, **job):
    client = api[0]
    return client.post("/runsync", json={"input": job}).json()


def test_runsync_names_the_enrolled_voices(api, served_audio, voices):
    speakers, _ = voices
    result = runsync(api, audio_url=f"{served_audio}/meeting.wav", language="en", output_format="vtt",
                     speakers=speakers)
    assert result["status"] == "COMPLETED", result
    out = result["output"]
    names = {i["label"]: i for i in out["identified_speakers"]}
    named = sorted(i["name"] for i in names.values() if i["name"])
    assert named == ["Kennedy", "Reader"]
    assert len(out["speakers"]) == 3 and re.fullmatch(r"SPEAKER_\d\d", sorted(out["speakers"])[-1])
    by_name = {}
    for s in out["transcription"]["segments"]:
        by_name.setdefault(s["speaker"], []).append(s["text"].lower())
        assert all(w["speaker"] == s["speaker"] for w in s["words"])
    assert any("fellow americans" in t for t in by_name["Kennedy"])
    assert any("permission" in t for t in by_name["Reader"])
    assert "<v Kennedy>" in out["vtt"] and "<v Reader>" in out["vtt"]
    assert all(0.0 <= i["score"] <= 1.0 for i in names.values())
    assert out["processing_time"] >= sum(v for k, v in out["timings"].items() if k != "decode") - 0.05


def test_run_then_status(api, served_audio):
    client = api[0]
    queued = client.post("/run", json={"input": {"audio_url": f"{served_audio}/meeting.wav", "language": "en"}}).json()
    assert queued["status"] == "IN_PROGRESS"
    done = client.post(f"/status/{queued['id']}").json()
    assert done["status"] == "COMPLETED"
    assert "my fellow americans" in done["output"]["transcription"]["text"].lower()


@pytest.mark.parametrize("job, message", [
    ({"language": "fr"}, "exactly one of audio_url or audio_base64"),
    ({"audio_url": "AUDIO/meeting.wav", "audio_base64": "AAAA"}, "exactly one of audio_url or audio_base64"),
    ({"audio_base64": "%%% not base64 %%%"}, "not valid base64"),
    ({"audio_url": "http://10.1.2.3/meeting.wav"}, "private, loopback or reserved"),
    ({"audio_url": "http://169.254.169.254/latest/meta-data/"}, "private, loopback or reserved"),
    ({"audio_url": "/etc/passwd"}, "unsupported URL scheme"),
    ({"audio_url": "AUDIO/missing.wav"}, "HTTP 404"),
    ({"audio_url": "AUDIO/big.wav"}, "over the limit"),
    ({"audio_url": "AUDIO/corrupt.wav"}, "corrupt|not a readable audio"),
    ({"audio_url": "AUDIO/meeting.wav", "language": "klingon"}, "unknown language"),
    ({"audio_url": "AUDIO/meeting.wav", "output_format": "docx"}, "output_format"),
    ({"audio_url": "AUDIO/meeting.wav", "min_speakers": 5, "max_speakers": 2}, "greater than max_speakers"),
    ({"audio_url": "AUDIO/meeting.wav", "speakers": [{"name": "X", "embedding": [0.1] * 192, "model": "ecapa"}]},
     "embedding model 'ecapa'"),
    ({"audio_url": "AUDIO/meeting.wav", "colour": "blue"}, "colour"),
])
@pytest.mark.slow
def test_each_bad_input_gets_a_clear_error_and_the_worker_goes_on(api, served_audio, job, message):
    job = {k: (v.replace("AUDIO", served_audio) if isinstance(v, str) else v) for k, v in job.items()}
    result = runsync(api, **job)
    assert result["status"] == "FAILED"
    assert re.search(message, result["error"]), result["error"]
    assert "Traceback" not in result["error"]
    good = runsync(api, audio_base64=base64.b64encode(audio("english.wav").read_bytes()).decode(), language="en")
    assert good["status"] == "COMPLETED"


def in_process(settings, pipeline):
    """The worker's job handling on the test session's loaded pipeline (no subprocess, no model load)."""
    from handler import Worker

    worker = Worker.__new__(Worker)
    worker.settings, worker.pipeline = dataclasses.replace(settings, url_allowlist=("127.0.0.1",)), pipeline
    return worker


def test_errors_name_the_users_input_never_the_workers_temporary_file(settings, pipeline, served_audio):
    """Issue 25: `hearback-wuhjbwbn.wav is not a readable ...` named the worker's temporary file."""
    worker = in_process(settings, pipeline)
    garbage = b"RIFF" + bytes(range(256)) * 20
    inline = worker({"id": "a", "input": {"audio_base64": base64.b64encode(garbage).decode()}})["error"]
    fetched = worker({"id": "b", "input": {"audio_url": f"{served_audio}/corrupt.wav?sig=secret"}})["error"]
    assert "hearback-" not in inline + fetched, (inline, fetched)
    assert inline.startswith("the audio_base64 audio is not a readable audio"), inline
    assert fetched.startswith(f"{served_audio}/corrupt.wav is "), fetched
    assert "secret" not in fetched


def test_an_inline_name_with_a_line_break_is_refused(settings, pipeline, voices):
    """Issue 25: the worker's JSON kept raw newlines of names given inline; they are refused as the
    service refuses them, before any work."""
    worker = in_process(settings, pipeline)
    speaker = {**voices[0][0], "name": "Eve\n\n99\n00:00:01,000 --> 00:00:09,000"}
    error = worker({"id": "c", "input": {"audio_url": "http://127.0.0.1:1/never.wav", "speakers": [speaker]}})["error"]
    assert error == "a speaker's name contains the control character U+000A: remove it and send it again", error


def test_models_load_once_and_temp_files_are_removed(api):
    _, log_path, tmp = api
    log = log_path.read_text()
    assert log.count("models loaded in") == 1
    loads = {int(n) for n in re.findall(r"model loads in this worker: (\d+)", log)}
    assert loads == {3}  # ASR, diarizer (CAM++), segmentation-3.0: loaded once, then reused by every job
    assert len(re.findall(r"job \S+ done in", log)) >= 2  # every job before this one (more in the slow tier)
    assert "progress: transcribing" in log and "progress: diarizing" in log and "progress: identifying" in log
    assert leftovers(tmp) == []


def test_image_layout_matches_the_bake_script(tmp_path):
    """The Dockerfile's settings point where docker/bake_models.py puts the models, and the
    build-time check fails loudly on a missing model."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bake_models", ROOT / "docker" / "bake_models.py")
    bake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bake)
    layout = bake.expected(Path("/models"))
    dockerfile = (ROOT / "Dockerfile").read_text()
    # the worker's Whisper is a build argument (large-v3 unless told): its folder follows it
    assert "ARG WHISPER=large-v3" in dockerfile and layout["whisper"].parent == Path("/models/whisper-large-v3")
    assert "WHISPER_MODEL=/models/whisper-${WHISPER}" in dockerfile
    assert f"HEARBACK_DIARIZATION_MODEL={layout['pyannote'].parent}" in dockerfile
    assert f"HEARBACK_ALIGN_MODEL_DIR={layout['align']}" in dockerfile
    assert f"NLTK_DATA={layout['nltk'].parent.parent}" in dockerfile
    assert "--mount=type=secret,id=hf_token" in dockerfile and "ARG HF_TOKEN" not in dockerfile
    assert bake.main([str(tmp_path), "--check"]) == 1
    for path in layout.values():
        target = tmp_path / path.relative_to("/models")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.mkdir() if not target.suffix else target.write_text("x")
    assert bake.main([str(tmp_path), "--check"]) == 0


@pytest.mark.slow
def test_runpod_request_webhook_reaches_a_receiver(api, served_audio):
    """RunPod's own request-level `webhook` (used when n8n talks to the endpoint directly)."""
    import http.server
    import threading

    got = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = api[0]
        hook = f"http://127.0.0.1:{server.server_address[1]}/runpod-done"
        queued = client.post("/run", json={"input": {"audio_url": f"{served_audio}/meeting.wav", "language": "en"},
                                           "webhook": hook}).json()
        assert client.post(f"/status/{queued['id']}").json()["status"] == "COMPLETED"
        deadline = time.time() + 20
        while not got and time.time() < deadline:
            time.sleep(0.1)
    finally:
        server.shutdown()
    assert got and "fellow americans" in got[0]["output"]["transcription"]["text"].lower()
