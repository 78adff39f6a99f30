"""The production backends' tests run in their own environment, `.venv-whisperx` (made by
`scripts/setup-whisperx`: whisperx 3.8.6 pins torch 2.8, which cannot share `.venv`): the files
`tests/test_whisperx*.py`. scripts/test runs them there after the main suite; where whisperx is not
installed they are not collected, and the run says so.

Nothing there downloads (`HF_HUB_OFFLINE=1`). What needs a model that is not on this machine
(wav2vec2 alignment checkpoints, a pyannote diarization pipeline) runs when its folder is given
(`HEARBACK_ALIGN_MODEL_DIR`, `HEARBACK_DIARIZATION_MODEL`); otherwise the run ends with a
"NOT RUN FOR REAL" list naming each part and why, and the contract tests check the calls.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import pytest

WHISPERX = importlib.util.find_spec("whisperx") is not None
WHISPERX_TESTS = sorted(p.name for p in Path(__file__).parent.glob("test_whisperx*.py"))
NOT_RUN: list[str] = []  # parts that could not run for real, and why: listed at the end of the run

if WHISPERX:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")


def not_run(part: str, why: str) -> None:
    """Say loudly that `part` did not run for real: a warning now, a line in the run's summary."""
    line = f"{part}: {why}"
    if line not in NOT_RUN:
        NOT_RUN.append(line)
    warnings.warn(f"NOT RUN FOR REAL: {line}", UserWarning, stacklevel=2)


def report(terminalreporter) -> None:
    """The end of a run: what was not collected here, or what could not run for real."""
    if not WHISPERX:
        terminalreporter.write_sep("-", f"{len(WHISPERX_TESTS)} files run in .venv-whisperx, not here", yellow=True)
        terminalreporter.write_line("tests/test_whisperx*.py need whisperx: scripts/test runs them there after this "
                                    "suite (by hand: scripts/setup-whisperx; PYTHONPATH=. .venv-whisperx/bin/python "
                                    "-m pytest tests/test_whisperx*.py)")
    elif NOT_RUN:
        terminalreporter.write_sep("!", "NOT RUN FOR REAL (their calls are checked by tests/test_whisperx_contract.py)",
                                   red=True, bold=True)
        for line in NOT_RUN:
            terminalreporter.write_line(f"  {line}", red=True)


@pytest.fixture(scope="module")
def wx_settings(tmp_path_factory):
    """WhisperX with the bundled Whisper base (`WHISPER_MODEL=base`: joined into a local
    CTranslate2 directory, which `whisperx.load_model` loads)."""
    from hearback.settings import Settings

    return Settings.from_env(asr_backend="whisperx", whisper_model="base", data_dir=tmp_path_factory.mktemp("wx-data"),
                             cpu_threads=2)


@pytest.fixture(scope="module")
def wx_pipeline(wx_settings):
    from hearback.pipeline import Pipeline

    return Pipeline(wx_settings).load()
