"""Every output format, checked with independent parsers (srt, webvtt-py, json)."""

import io
import json

import pytest
import srt
import webvtt

from hearback.errors import InputError
from hearback.formats import check_format, render, timestamp
from hearback.result import Segment, Transcript, Word


@pytest.fixture(scope="module")
def conversation(pipeline):
    from conftest import audio

    return pipeline.transcribe_file(audio("pyannote_sample.wav"))


def test_srt_parses_and_carries_speakers(conversation):
    subtitles = list(srt.parse(render(conversation, "srt")))
    assert len(subtitles) == len(conversation.segments)
    for sub, seg in zip(subtitles, conversation.segments):
        assert abs(sub.start.total_seconds() - seg.start) < 0.002
        assert sub.content == f"[{seg.speaker}] {seg.text}"


def test_vtt_parses_and_carries_voices(conversation):
    captions = webvtt.from_buffer(io.StringIO(render(conversation, "vtt")))
    assert len(captions) == len(conversation.segments)
    for cap, seg in zip(captions, conversation.segments):
        assert cap.voice == seg.speaker
        h, m, sec = cap.start.split(":")
        assert abs(int(h) * 3600 + int(m) * 60 + float(sec) - seg.start) < 0.002
        assert seg.text.split()[0] in cap.text


def test_json_round_trips(conversation):
    data = json.loads(render(conversation, "json"))
    assert data["transcription"]["text"] == conversation.text
    assert data["speakers"] == ["SPEAKER_00", "SPEAKER_01"]


def test_txt_has_one_paragraph_per_turn(conversation):
    lines = render(conversation, "txt").splitlines()
    speakers = [line.split("] ", 1)[1].split(":", 1)[0] for line in lines]
    assert all(a != b for a, b in zip(speakers, speakers[1:]))
    assert set(speakers) == {"SPEAKER_00", "SPEAKER_01"}
    assert "Sheila" in render(conversation, "txt")


def test_awkward_text_is_escaped_in_vtt():
    words = [Word("a<b", 0.0, 0.5, speaker="Zoë & co"), Word(" -->x", 0.5, 1.0, speaker="Zoë & co")]
    transcript = Transcript([Segment(0.0, 1.0, "a<b -->x", words, "Zoë & co")], "en", 1.0, speakers=["Zoë & co"])
    captions = webvtt.from_buffer(io.StringIO(render(transcript, "vtt")))
    assert len(captions) == 1


def test_timestamps():
    assert timestamp(3725.5, ",") == "01:02:05,500"
    assert timestamp(0.0004, ".") == "00:00:00.000"


def test_unknown_format():
    with pytest.raises(InputError, match="json, srt, vtt or txt|json, srt, vtt, txt"):
        check_format("docx")


def test_empty_transcript_renders_in_every_format():
    empty = Transcript([], "fr", 10.0)
    assert list(srt.parse(render(empty, "srt"))) == []
    assert render(empty, "txt") == ""
    assert render(empty, "vtt").startswith("WEBVTT")
