"""Summaries from the command line (`hearback summarize`, `hearback transcribe --summary`) and from
the RunPod worker (`summary: true`), on the real small model behind a real llama.cpp server."""

from __future__ import annotations

import pytest
import base64
import json
import subprocess
import sys

from conftest import ROOT, audio, free_port
from meetings import ENGLISH, ENGLISH_OWNERS, FRENCH, FRENCH_OWNERS, document
from test_cli import hearback
from test_worker import worker_env


def llm_env(server) -> dict:
    return {"HEARBACK_LLM_URL": server.url, "HEARBACK_LLM_JSON_MODE": "json_object_schema"}


@pytest.mark.slow
def test_summarize_a_transcript_file_to_markdown_and_json(llm_server, tmp_path):
    french = tmp_path / "reunion.json"
    french.write_text(json.dumps({"title": "Rapport", "tag": "client", **document(FRENCH, "fr")}), encoding="utf-8")
    run = hearback("summarize", str(french), "--date", "2026-03-10", env=llm_env(llm_server))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("## Résumé") and "## Actions" in run.stdout
    owners = [line.split("**")[1] for line in run.stdout.splitlines() if line.startswith("- **")]
    assert owners and set(owners) <= set(FRENCH_OWNERS)
    english = tmp_path / "meeting.json"
    english.write_text(json.dumps(document(ENGLISH, "en")), encoding="utf-8")
    out = tmp_path / "summary.json"
    run = hearback("summarize", str(english), "--format", "json", "--date", "2026-03-10", "-o", str(out),
                   env=llm_env(llm_server))
    assert run.returncode == 0, run.stderr
    summary = json.loads(out.read_text())
    assert summary["language"] == "en" and summary["action_items"]
    assert {(i["owner"], i["due"]) for i in summary["action_items"]} <= set(ENGLISH_OWNERS.items())


def test_summarize_refuses_bad_input_with_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("not json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    closed = {"HEARBACK_LLM_URL": f"http://127.0.0.1:{free_port()}/v1"}
    for args, env, message in (
            (["summarize", str(tmp_path / "missing.json")], closed, "no such file"),
            (["summarize", str(tmp_path / "notes.txt")], closed, "is not a JSON transcript"),
            (["summarize", str(tmp_path / "other.json")], closed, 'has no "transcription" object'),
            (["summarize", str(tmp_path / "other.json"), "--date", "13/03"], closed, "is not a date"),
            (["summarize", str(audio("jfk.flac"))], closed, "is not a JSON transcript")):
        run = hearback(*args, env=env)
        assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr, (args, run.stderr)
        assert len(run.stderr.strip().splitlines()) == 1
    meeting = tmp_path / "meeting.json"
    meeting.write_text(json.dumps(document(FRENCH, "fr")))
    run = hearback("summarize", str(meeting), env={"HEARBACK_LLM_URL": ""})
    assert run.returncode == 2 and "set HEARBACK_LLM_URL" in run.stderr
    run = hearback("summarize", str(meeting), env=closed)
    assert run.returncode == 2 and "cannot be reached" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
def test_transcribe_with_a_summary_keeps_the_transcript_whatever_the_summary_does(llm_server, tmp_path):
    down = {"HEARBACK_LLM_URL": f"http://127.0.0.1:{free_port()}/v1", "HEARBACK_DATA_DIR": str(tmp_path / "data")}
    run = hearback("transcribe", str(audio("jfk.flac")), "--summary", "--quiet", env=down)
    assert run.returncode == 0, run.stderr
    output = json.loads(run.stdout)
    assert "fellow Americans" in output["transcription"]["text"]
    assert output["summary"]["state"] == "failed" and output["summary"]["code"] == "llm_unreachable"
    assert "the transcript is kept but the summary failed" in run.stderr

    refused = hearback("transcribe", str(audio("jfk.flac")), "--summary", "--format", "srt", env=down)
    assert refused.returncode == 2 and "--summary-output" in refused.stderr

    summary_file = tmp_path / "summary.md"
    up = {**llm_env(llm_server), "HEARBACK_DATA_DIR": str(tmp_path / "data")}
    run = hearback("transcribe", str(audio("jfk.flac")), "--format", "txt", "--summary-output", str(summary_file),
                   "--quiet", env=up)
    assert run.returncode == 0, run.stderr
    assert "fellow Americans" in run.stdout and "## Summary" in run.stdout
    assert summary_file.read_text().startswith("## Summary")


@pytest.mark.slow
def test_the_worker_adds_a_summary_when_asked(llm_server, tmp_path):
    sample = base64.b64encode(audio("hotwords.mp3").read_bytes()).decode()
    payload = {"input": {"audio_base64": sample, "language": "en", "summary": True}}
    run = subprocess.run([sys.executable, "handler.py", "--test_input", json.dumps(payload)], cwd=ROOT,
                         env=worker_env(tmp_path, **llm_env(llm_server)), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    printed = run.stdout.split("Job result: ", 1)[1]
    assert "'summary': {'state': 'done', 'summary': {'language': 'en'" in printed
    assert "progress: summarizing" in run.stdout

    payload["input"]["summary_kind"] = "campaign"
    run = subprocess.run([sys.executable, "handler.py", "--test_input", json.dumps(payload)], cwd=ROOT,
                         env=worker_env(tmp_path, HEARBACK_LLM_URL=""), capture_output=True, text=True, timeout=600)
    assert run.returncode == 1 and "set HEARBACK_LLM_URL" in run.stdout and "Traceback" not in run.stdout + run.stderr
