"""No speech lost when two languages are spoken (issue 12): lookalikes of the five-voice phone
meeting (real voices of the test half of bench/devset.py: four speaking English, one French,
~5 s turns, phone band, 40 kb/s MP3), transcribed with `auto` and with French fixed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from conftest import write_wav

from bench import devset
from hearback.decode import Audio
from hearback.pipeline import Options

pytestmark = pytest.mark.slow  # mixed-language meetings transcribed whole: the slow tier

MIN_WORDS = 3  # a ~5 s turn says more than this; fewer means the turn was lost


@pytest.fixture(scope="module")
def meetings():
    return [devset.phone_meeting(devset.TEST, seed) for seed in (0, 1)]


@pytest.fixture(scope="module")
def heard(pipeline, meetings):
    """(recording, language asked) -> transcript."""
    out = {}
    for rec in meetings:
        out[(rec.name, "auto")] = pipeline.transcribe_audio(Audio(rec.samples), Options(language="auto"))
    out[(meetings[0].name, "fr")] = pipeline.transcribe_audio(Audio(meetings[0].samples), Options(language="fr"))
    return out


def turns_heard(rec, transcript) -> list[tuple[str, str, list[str]]]:
    """Each reference turn: (its language, the language most of its words were heard in, its words)."""
    words = [(w, s.language) for s in transcript.segments for w in s.words]
    out = []
    for start, end, language in rec.languages:
        inside = [(w.word.strip(), lang) for w, lang in words if start <= (w.start + w.end) / 2 <= end]
        most = Counter(lang for _, lang in inside).most_common(1)
        out.append((language, most[0][0] if most else "", [w for w, _ in inside]))
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_auto_transcribes_every_turn_in_its_own_language(meetings, heard, seed):
    rec = meetings[seed]
    transcript = heard[(rec.name, "auto")]
    turns = turns_heard(rec, transcript)
    assert {language for language, _, _ in turns} == {"en", "fr"}
    assert [len(words) >= MIN_WORDS for _, _, words in turns] == [True] * len(turns), turns
    assert [heard_in for _, heard_in, _ in turns] == [language for language, _, _ in turns], turns
    # 0.974 and 0.997 in a process of its own; 0.914 for seed 0 once after the rest of the suite (the
    # speech regions move with the last digits of the models' sums, which the thread count changes)
    assert transcript.quality["speech_covered"] >= 0.90
    assert sum(r["end"] - r["start"] for r in transcript.quality["untranscribed"]) < 2.0
    shares = {s["language"]: s["share"] for s in transcript.languages}
    assert set(shares) == {"en", "fr"} and transcript.language == "en"
    codes = [w["code"] for w in transcript.quality["warnings"]]
    assert codes == ["several_languages"]


def test_french_fixed_loses_no_english_turn_and_says_so(meetings, heard):
    rec = meetings[0]
    transcript = heard[(rec.name, "fr")]
    turns = turns_heard(rec, transcript)
    english = [(heard_in, words) for language, heard_in, words in turns if language == "en"]
    assert len(english) >= 4
    assert all(len(words) >= MIN_WORDS and heard_in == "en" for heard_in, words in english), english
    french = [heard_in for language, heard_in, _ in turns if language == "fr"]
    assert french and set(french) == {"fr"}
    warning = next(w for w in transcript.quality["warnings"] if w["code"] == "other_language")
    assert warning["details"]["language"] == "en" and warning["details"]["asked"] == "fr"
    assert transcript.quality["speech_covered"] >= 0.95


def test_the_command_line_says_the_warnings_on_stderr(meetings, tmp_path):
    path = write_wav(tmp_path / "meeting.wav", meetings[0].samples)
    done = subprocess.run([sys.executable, "-m", "app", "transcribe", str(path), "--language", "fr", "-q",
                           "--format", "txt", "-o", str(tmp_path / "meeting.txt")],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "HEARBACK_DATA_DIR": str(tmp_path / "data")})
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("hearback: warning:")]
    assert any("English" in line and "French was asked" in line for line in lines), done.stderr
    assert any("2 languages heard" in line for line in lines), done.stderr
    assert "Traceback" not in done.stderr
