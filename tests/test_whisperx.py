"""The WhisperX backend against the real whisperx 3.8.6, on real speech.

- Transcription: the bundled Whisper base, loaded by `whisperx.load_model` from its local
  CTranslate2 directory with WhisperX's bundled VAD, decoded by Hearback's language-per-chunk
  decoder over WhisperX's model; English (jfk.flac) and French (a voice prompt), words and times.
- Alignment: with real wav2vec2 checkpoints when `HEARBACK_ALIGN_MODEL_DIR` names them; this machine
  has none (they are downloads), so `whisperx.load_align_model` and `whisperx.align` then run on a
  small wav2vec2 made by the test (random weights, the real loading and alignment code): the word
  times it gives are not judged, only that every word comes back placed inside its segment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import whisperx_parts
from conftest import audio
from whisperx_parts import not_run

wx_settings, wx_pipeline = whisperx_parts.wx_settings, whisperx_parts.wx_pipeline  # the shared fixtures

FRENCH = "voices/prompts/armelle_fr_dir-intro.flac"


@pytest.fixture(scope="module")
def english(wx_pipeline):
    from hearback.pipeline import Options

    return wx_pipeline.transcribe_file(audio("jfk.flac"), Options(language="auto"))


def test_whisperx_loads_the_local_model_with_its_bundled_vad(wx_pipeline):
    from faster_whisper import WhisperModel
    from whisperx.asr import FasterWhisperPipeline
    from whisperx.vads import Pyannote

    asr = wx_pipeline.asr
    assert isinstance(asr.loaded, FasterWhisperPipeline) and isinstance(asr.loaded.model, WhisperModel)
    assert isinstance(asr.loaded.vad_model, Pyannote)  # WhisperX's VAD, loaded offline from its package
    assert Path(asr.ref.location).is_dir() and (Path(asr.ref.location) / "model.bin").exists()
    assert asr.describe()["backend"] == "whisperx" and asr.describe()["name"] == "base"


def test_english_words_and_times(english):
    text = english.text.lower()
    assert "my fellow americans" in text and "ask not what your country can do for you" in text
    words = [w for s in english.segments for w in s.words]
    assert len(words) >= 20 and english.language == "en"
    assert all(0.0 <= w.start <= w.end <= english.duration + 0.05 for w in words)
    assert all(a.start <= b.start for a, b in zip(words, words[1:]))
    first = next(w for w in words if "fellow" in w.word.lower())
    assert 0.5 < first.start < 2.5  # "fellow" is said at about 1.2 s
    assert 9.0 < words[-1].end < 11.1  # "...for your country." ends at about 10.4 s
    assert english.model["asr"]["backend"] == "whisperx" and english.speakers == ["SPEAKER_00"]


def test_french_is_heard_and_transcribed_in_french(wx_pipeline):
    from hearback.pipeline import Options

    transcript = wx_pipeline.transcribe_file(audio(FRENCH), Options(language="auto"))
    assert transcript.language == "fr", transcript.text
    text = transcript.text.lower()
    assert any(word in text for word in ("vous", "bienvenue", "appel", "annuaire", "répertoire")), text
    words = [w for s in transcript.segments for w in s.words]
    assert len(words) >= 5 and all(0.0 <= w.start <= w.end <= transcript.duration + 0.05 for w in words)


# ---------------------------------------------------------------- alignment


def _tiny_wav2vec2(folder: Path) -> None:
    """A wav2vec2 CTC checkpoint laid out as a Hugging Face folder (what the image bakes per
    language), small and randomly initialised: the real loading and alignment code runs on it."""
    import torch
    from transformers import (Wav2Vec2Config, Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC,
                              Wav2Vec2Processor)

    folder.mkdir(parents=True)
    letters = list("abcdefghijklmnopqrstuvwxyz'éèêàâçùûôîï") + ["|"]
    vocab = {"<pad>": 0, "<unk>": 1, **{c: i + 2 for i, c in enumerate(letters)}}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "vocab.json"), unk_token="<unk>", pad_token="<pad>",
                                     word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    torch.manual_seed(0)
    config = Wav2Vec2Config(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, conv_dim=(32,) * 7, num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=4, pad_token_id=0)
    Wav2Vec2ForCTC(config).save_pretrained(folder)


def _punkt_tab(tmp: Path) -> None:
    """NLTK's sentence splitter data, which `whisperx.align` loads (and downloads when missing). The
    real data is a download (the image bakes it); when it is not here, an untrained Punkt model
    (no abbreviations learned: sentences end at . ! ?) is laid out in its place."""
    import nltk

    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
        return
    except LookupError:
        not_run("NLTK punkt_tab", "not on this machine (a download): an untrained Punkt model stands in for it")
    for language in ("english", "french"):
        folder = tmp / "tokenizers" / "punkt_tab" / language
        folder.mkdir(parents=True)
        for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
            (folder / name).write_text("")
    nltk.data.path.insert(0, str(tmp))


@pytest.fixture(scope="module")
def aligned(wx_pipeline, wx_settings, tmp_path_factory):
    """jfk.flac through a WhisperX backend that aligns: with real checkpoints when
    HEARBACK_ALIGN_MODEL_DIR names them, else with the small model made here."""
    from dataclasses import replace

    from hearback.asr.whisperx import WhisperXAsr
    from hearback.pipeline import Options, Pipeline

    tmp = tmp_path_factory.mktemp("align")
    real = os.environ.get("HEARBACK_ALIGN_MODEL_DIR", "")
    if real:
        folder = real
    else:
        not_run("wav2vec2 alignment (accuracy of word times)",
                "no HEARBACK_ALIGN_MODEL_DIR: its checkpoints are downloads; whisperx.load_align_model and "
                "whisperx.align ran on a randomly initialised wav2vec2 made by the test")
        folder = str(tmp / "models")
        _tiny_wav2vec2(tmp / "models" / "en")
    _punkt_tab(tmp / "nltk")
    settings = replace(wx_settings, alignment_model_dir=folder)
    asr = WhisperXAsr(settings, loaded=wx_pipeline.asr.loaded)
    pipeline = Pipeline(settings, asr=asr, diarizer=wx_pipeline.diarizer, segmentation=wx_pipeline.segmentation)
    return pipeline.transcribe_file(audio("jfk.flac"), Options(language="en")), asr, bool(real)


def test_alignment_places_every_word_inside_its_segment(aligned, english):
    transcript, asr, real = aligned
    assert asr.describe()["alignment"] == ["en"]
    whisper_words = [w.word.strip() for s in english.segments for w in s.words]
    words = [w for s in transcript.segments for w in s.words]
    assert [w.word.strip() for w in words] == whisper_words  # the same words, with wav2vec2's times
    for segment in transcript.segments:
        assert all(segment.start - 0.01 <= w.start <= w.end <= segment.end + 0.01 for w in segment.words)
    assert all(a.start <= b.start + 1e-6 for a, b in zip(words, words[1:]))
    if real:  # real checkpoints: wav2vec2's times agree with Whisper's within a few tenths of a second
        whisper = [w for s in english.segments for w in s.words]
        gaps = sorted(abs(a.start - b.start) for a, b in zip(words, whisper))
        assert gaps[len(gaps) // 2] < 0.3


def test_a_language_without_alignment_model_keeps_whispers_times(aligned, english):
    """French has no folder under the alignment directory here: its words keep Whisper's times, said once in the log."""
    _, asr, real = aligned
    if real and (Path(asr.settings.alignment_model_dir) / "fr").exists():
        pytest.skip("HEARBACK_ALIGN_MODEL_DIR has a French model")
    assert asr._aligner("fr") is None and "fr" not in asr.describe()["alignment"]


# ---------------------------------------------------------------- pyannote diarization


def test_pyannote_diarization_when_its_pipeline_is_here(wx_settings):
    """The pyannote backend end to end, when HEARBACK_DIARIZATION_MODEL names a local pipeline
    folder (the image's /models/speaker-diarization-community-1); it is gated, so not here."""
    from dataclasses import replace

    from hearback.pipeline import Options, Pipeline

    folder = os.environ.get("HEARBACK_DIARIZATION_MODEL", "")
    if not (folder and (Path(folder) / "config.yaml").exists()):
        not_run("pyannote diarization pipeline", f"HEARBACK_DIARIZATION_MODEL={folder or '(unset)'} is not a local "
                "folder with config.yaml (community-1 is gated: a download); the pyannote backend's calls were bound "
                "to pyannote.audio's signatures instead")
        return
    settings = replace(wx_settings, whisper_model="tiny.en", diarization_backend="pyannote", diarization_model=folder)
    transcript = Pipeline(settings).load().transcribe_file(audio("pyannote_sample.wav"), Options(language="en"))
    assert transcript.model["diarization"]["backend"] == "pyannote"
    assert len(transcript.speakers) == 2, transcript.speakers  # the sample's two voices
    first = next(s for s in transcript.segments if s.start > 6.0)
    assert 6.0 < first.start < 8.0  # the reference's first turn starts at 6.69 s
