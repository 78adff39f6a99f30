"""Chunks for the decoder (issue 23): a voice's turns joined into one Whisper window, decoded
with the real Whisper model, and every word taken back to where it was said in the recording."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import audio

from hearback.asr.chunks import JOIN_SILENCE, Chunk, by_voice, joined, packed, stretches, voice_chunks
from hearback.decode import SAMPLE_RATE, decode
from hearback.vad import speech_regions
from hearback.result import Segment, SpeechRegion, Word


def test_pieces_are_joined_up_to_one_window_and_a_long_one_is_cut():
    pieces = [SpeechRegion(0.0, 10.0), SpeechRegion(20.0, 35.0), SpeechRegion(50.0, 60.0), SpeechRegion(70.0, 135.0)]
    chunks = joined(pieces)
    assert [c.parts for c in chunks] == [
        (SpeechRegion(0.0, 10.0), SpeechRegion(20.0, 35.0)),
        (SpeechRegion(50.0, 60.0),),
        (SpeechRegion(70.0, 100.0),), (SpeechRegion(100.0, 130.0),),
        (SpeechRegion(130.0, 135.0),)]
    assert chunks[0].seconds == pytest.approx(25.0 + JOIN_SILENCE)
    assert chunks[0].speech == pytest.approx(25.0)
    assert all(c.seconds <= 30.0 for c in chunks)
    # a stretch keeps its pauses: the two first regions are 35 s apart end to end, too long for one
    assert [c.parts for c in stretches(pieces[:2])] == [(SpeechRegion(0.0, 10.0),), (SpeechRegion(20.0, 35.0),)]


def test_voices_are_heard_one_after_the_other_each_in_time_order():
    pieces = [SpeechRegion(0, 4), SpeechRegion(4, 9), SpeechRegion(9, 12), SpeechRegion(13, 18), SpeechRegion(19, 21),
              SpeechRegion(22, 23)]
    voices = [1, 0, 1, 0, 2, 2]
    # voice 2's two pieces follow each other: one stretch, with the pause between them
    assert [c.parts for c in by_voice(pieces, voices)] == [
        (SpeechRegion(0, 4), SpeechRegion(9, 12)), (SpeechRegion(4, 9), SpeechRegion(13, 18)), (SpeechRegion(19, 23),)]


def test_times_go_back_to_the_recording_and_a_segment_is_cut_where_two_parts_meet():
    chunk = Chunk((SpeechRegion(10.0, 12.0), SpeechRegion(40.0, 43.0)))
    words = [Word(" Bonjour", 0.2, 0.9), Word(" à", 1.0, 1.2), Word(" tous.", 1.3, 2.1),  # the last one ran into the silence
             Word(" Merci", 2.4, 2.9), Word(" Paul.", 3.0, 3.4)]
    out = chunk.segments_in_recording(Segment(0.2, 3.4, "Bonjour à tous. Merci Paul.", words, None, "fr"))
    assert [s.text for s in out] == ["Bonjour à tous.", "Merci Paul."]
    assert [(w.word, w.start, w.end) for s in out for w in s.words] == [
        (" Bonjour", pytest.approx(10.2), pytest.approx(10.9)), (" à", pytest.approx(11.0), pytest.approx(11.2)),
        (" tous.", pytest.approx(11.3), pytest.approx(12.0)),  # kept inside its part, not in the joining silence
        (" Merci", pytest.approx(40.1), pytest.approx(40.6)), (" Paul.", pytest.approx(40.7), pytest.approx(41.1))]
    assert (out[0].start, out[0].end, out[1].start, out[1].end) == pytest.approx((10.2, 12.0, 40.1, 41.1))
    assert all(s.language == "fr" for s in out)
    one = Chunk.stretch(SpeechRegion(5.0, 9.0)).segments_in_recording(Segment(0.5, 1.5, "Oui.", [Word(" Oui.", 0.5, 1.5)]))
    assert (one[0].start, one[0].words[0].end) == (5.5, 6.5)


def normalised(text: str) -> str:
    return re.sub(r"[^\w' ]", "", text.lower()).strip()


def test_one_voice_joined_around_another_is_decoded_word_for_word_where_it_was_said(pipeline):
    """JFK's sentence cut in two at a pause, five seconds of a French speaker put between the
    halves: his speech regions joined in one chunk come out as the whole sentence, each word where
    it was said, none in the French."""
    jfk = decode(audio("jfk.flac")).samples
    regions = speech_regions(jfk, 0.0)
    cut = (regions[0].end + regions[1].start) / 2  # the pause after "my fellow Americans"
    french = decode(audio("voices/prompts/armelle_fr_dir-intro.flac")).samples[:5 * SAMPLE_RATE]
    assert len(french) == 5 * SAMPLE_RATE
    at = int(cut * SAMPLE_RATE)
    samples = np.concatenate([jfk[:at], french, jfk[at:]]).astype(np.float32)
    gap = (cut, cut + 5.0)
    [chunk, other] = by_voice([*regions[:1], SpeechRegion(gap[0] + 0.2, gap[1] - 0.2), *(r.shifted(5.0) for r in regions[1:])],
                              [0, 1] + [0] * (len(regions) - 1))
    assert other.parts == (SpeechRegion(gap[0] + 0.2, gap[1] - 0.2),)
    decoder = pipeline.asr.decoder
    encoded = decoder.encode(samples, [chunk])
    assert encoded.detections[0].language == "en"
    segments = decoder.decode(encoded, [0], "en")
    heard = [w for s in segments for w in s.words]
    text = " ".join(normalised(w.word) for w in heard)
    assert "my fellow americans ask not what your country can do for you" in text, text
    assert all(not (gap[0] < (w.start + w.end) / 2 < gap[1]) for w in heard), heard  # none in the French
    assert max(w.end for w in heard if "american" in w.word.lower()) <= regions[0].end + 1e-6
    assert min(w.start for w in heard if normalised(w.word) == "country") >= regions[3].start + 5.0 - 1e-6
    assert all(s.end <= cut or s.start >= gap[1] for s in segments), segments  # no segment spans the French


def test_rows_of_two_languages_decode_in_one_batch_as_each_would_alone(pipeline):
    """An English chunk and a French one through one generate call, each in its own language,
    give the very words and times each gives decoded alone (a batch per language cost more)."""
    jfk = decode(audio("jfk.flac")).samples
    french = decode(audio("voices/prompts/armelle_fr_dir-intro.flac")).samples
    samples = np.concatenate([jfk, french]).astype(np.float32)
    chunks = [Chunk.stretch(SpeechRegion(0.0, len(jfk) / SAMPLE_RATE)),
              Chunk.stretch(SpeechRegion(len(jfk) / SAMPLE_RATE, len(samples) / SAMPLE_RATE))]
    decoder = pipeline.asr.decoder
    encoded = decoder.encode(samples, chunks)
    together = decoder.decode(encoded, [0, 1], ["en", "fr"])
    alone = decoder.decode(encoded, [0], "en") + decoder.decode(encoded, [1], "fr")

    def said(segments):
        return [(s.language, w.word, round(w.start, 2), round(w.end, 2)) for s in segments for w in s.words]

    assert said(together) == said(alone)
    english = " ".join(normalised(w) for lang, w, _, _ in said(together) if lang == "en")
    assert "ask not what your country can do for you" in english, english
    french_words = [(w, start) for lang, w, start, _ in said(together) if lang == "fr"]
    assert len(french_words) >= 5 and all(start >= len(jfk) / SAMPLE_RATE - 1e-6 for _, start in french_words)


def test_the_last_part_filled_chunks_of_voices_of_one_language_share_a_window(pipeline, monkeypatch):
    """Two English voices with more than a window of speech each, and a French one: each English
    voice's first window names its language, and the rest of both (part-filled windows) is heard
    in one shared window instead of one each; every word still comes back where it was said."""
    def clip(name: str) -> np.ndarray:
        return decode(audio(name)).samples

    # voice 0: Allison; voice 1: four LibriVox readings, then JFK (numbers as the diarization gives them)
    parts = [(clip("voices/prompts/allison_en_demo-echotest.flac"), 0), (clip("voices/prompts/allison_en_dir-intro.flac"), 0),
             *((clip(f"voices/prompts/librivox_en_{n}.flac"), 1) for n in ("0870", "0890", "0920", "0930")),
             (clip("jfk.flac"), 1), (clip("voices/prompts/armelle_fr_dir-intro.flac"), 2)]
    samples = np.concatenate([p for p, _ in parts]).astype(np.float32)
    voices, at, starts = [], 0.0, []
    for piece, voice in parts:
        starts.append(at)
        voices += [(r, voice) for r in speech_regions(piece, at)]
        at += len(piece) / SAMPLE_RATE
    regions = [r for r, _ in voices]
    windows = [c for _, c in voice_chunks(*zip(*voices))]
    assert len(windows) == 5  # two for each English voice, one for the French
    encoded: list[Chunk] = []
    encode = pipeline.asr.decoder.encode
    monkeypatch.setattr(pipeline.asr.decoder, "encode", lambda s, chunks: encoded.extend(chunks) or encode(s, chunks))

    result = pipeline.asr.transcribe(samples, regions, None, voices=voices)

    def heard_in(chunk: Chunk) -> set[int]:
        return {v for r, v in voices if any(p.start - 1e-6 <= r.start and r.end <= p.end + 1e-6 for p in chunk.parts)}

    # a window for each voice, then the rest of both English voices together (before: one each)
    assert [heard_in(c) for c in encoded[:4]] == [{0}, {1}, {2}, {0, 1}]
    assert encoded[3].parts == packed([windows[1], windows[3]])[0].parts and encoded[3].seconds <= 30.0

    def said(start: float, end: float) -> str:
        return " ".join(normalised(w.word) for s in result.segments for w in s.words if start <= w.start < end)

    assert "echo test" in said(0.0, starts[1])
    assert "welcome to the directory" in said(starts[1], starts[2])
    assert "ask not what your country can do for you" in said(starts[6], starts[7])
    assert {s.language for s in result.segments} == {"en", "fr"}
    assert {s.language for s in result.segments if s.start >= starts[7]} == {"fr"}
    clip_at = lambda t: int(np.searchsorted(starts, t, side="right"))  # noqa: E731
    assert all(clip_at(w.start) == clip_at(w.end - 0.05) for s in result.segments for w in s.words)  # none straddles two
