"""Every output format, checked with independent parsers (srt, webvtt-py, json)."""

import html
import io
import json

import numpy as np
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
    """JSON out, `Transcript.from_dict` back in: the same transcript, word scores and embeddings included."""
    data = json.loads(render(conversation, "json"))
    assert data["transcription"]["text"] == conversation.text
    assert data["speakers"] == ["SPEAKER_00", "SPEAKER_01"]
    back = Transcript.from_dict(data)
    assert back.to_dict() == conversation.to_dict()
    assert [(w.word, w.speaker) for s in back.segments for w in s.words] == \
        [(w.word, w.speaker) for s in conversation.segments for w in s.words]
    scores = [w.probability for s in back.segments for w in s.words]
    assert scores == [round(w.probability, 3) for s in conversation.segments for w in s.words]
    assert len(set(scores)) > 10  # the recogniser's scores, not a default
    assert back.embedder == conversation.embedder and set(back.speaker_embeddings) == set(conversation.speaker_embeddings)
    for label, vector in conversation.speaker_embeddings.items():
        assert back.speaker_embeddings[label].dtype == np.float32
        assert np.allclose(back.speaker_embeddings[label], vector, atol=1e-6)


def test_txt_has_one_paragraph_per_turn(conversation):
    turns = []  # (speaker, texts) of consecutive segments of one speaker
    for seg in conversation.segments:
        if turns and turns[-1][0] == seg.speaker:
            turns[-1][1].append(seg.text.strip())
        else:
            turns.append((seg.speaker, [seg.text.strip()]))
    lines = render(conversation, "txt").splitlines()
    assert len(turns) > 2 and len(lines) == len(turns)
    for line, (speaker, texts) in zip(lines, turns):
        assert line.split("] ", 1)[1] == f"{speaker}: {' '.join(texts)}"
    assert "Sheila" in render(conversation, "txt")


def test_awkward_text_is_escaped_in_vtt():
    words = [Word("a<b", 0.0, 0.5, speaker="Zoë & co"), Word(" -->x", 0.5, 1.0, speaker="Zoë & co")]
    transcript = Transcript([Segment(0.0, 1.0, "a<b -->x", words, "Zoë & co")], "en", 1.0, speakers=["Zoë & co"])
    text = render(transcript, "vtt")
    cue = text.splitlines()[-1]
    assert text.count("-->") == 1 and "<" not in cue.removeprefix("<v ")  # only the timing line's arrow, one tag
    captions = webvtt.from_buffer(io.StringIO(text))
    assert len(captions) == 1
    assert html.unescape(captions[0].text) == "a<b -->x" and html.unescape(captions[0].voice) == "Zoë & co"


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


FORGER = "Eve\n\n99\n00:00:01,000 --> 00:00:09,000\nBob"  # a name that tries to start a cue of its own


def test_a_name_or_text_with_line_breaks_and_arrows_forges_no_cue_or_line():
    import io

    import srt
    import webvtt

    from hearback.formats import to_srt, to_txt, to_vtt

    segments = [{"start": 1.0, "end": 2.0, "text": "hello\r\n\r\n7\n00:00:03,000 --> 00:00:04,000\nforged",
                 "speaker": FORGER},
                {"start": 3.0, "end": 4.0, "text": "second", "speaker": "Ann\u2028[00:00:09] Mallory"}]
    cues = list(srt.parse(to_srt(segments)))
    assert [c.index for c in cues] == [1, 2] and all("\n" not in c.content for c in cues)
    assert cues[0].content.startswith("[Eve 99 00:00:01,000 -> 00:00:09,000 Bob] hello")
    captions = webvtt.from_buffer(io.StringIO(to_vtt(segments)))
    assert len(captions) == 2 and all("\n" not in c.text for c in captions)
    lines = to_txt(segments).splitlines()
    assert len(lines) == 2 and lines[1].startswith("[00:00:03] Ann [00:00:09] Mallory: second")


def test_a_name_carries_no_markup_into_srt_or_vtt():
    """Issue 25: SRT kept `<b>` from a name, and players render SRT's HTML-like tags and `{\\...}`
    overrides. Tags are stripped from names in SRT (a lone `<` becomes an inert `‹`), and
    WebVTT's voice span holds only entities."""
    from hearback.formats import to_srt, to_vtt

    segments = [{"start": 1.0, "end": 2.0, "text": "hello", "speaker": "<b>Alice</b> <font color=red>A.</font>"},
                {"start": 3.0, "end": 4.0, "text": "second", "speaker": "{\\an8}Bob <3 >_<"}]
    cues = list(srt.parse(to_srt(segments)))
    assert [c.content for c in cues] == ["[Alice A.] hello", "[Bob ‹3 >_‹] second"]
    vtt = to_vtt(segments)
    assert "<b>" not in vtt and "<v &lt;b&gt;Alice&lt;/b&gt; &lt;font color=red&gt;A.&lt;/font&gt;>hello" in vtt
