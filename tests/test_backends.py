"""The production backends, as far as this machine allows.

pyannote's diarization model needs a download, so the pyannote backend is driven here with a
stand-in for WhisperX's DiarizationPipeline that replays `pyannote_sample.rttm`, which is
pyannote's own output for that recording: everything after the model (turns, GE2E identity
embeddings, assignment, naming) runs for real. WhisperX itself is an optional extra that is not
installed in the test environment: asking for it must fail with a clear instruction.
"""

import pandas as pd
import pytest

from conftest import audio
from hearback.diarize_pyannote import PyannoteDiarizer
from hearback.errors import ConfigError
from hearback.evaluation import read_rttm
from hearback.pipeline import Options, Pipeline
from hearback.settings import Settings


class RttmReplay:
    """Stands in for whisperx.diarize.DiarizationPipeline: returns the reference turns."""

    def __init__(self, path):
        self.turns = read_rttm(path)
        self.calls = []

    def __call__(self, samples, min_speakers=None, max_speakers=None):
        self.calls.append((len(samples), min_speakers, max_speakers))
        return pd.DataFrame([{"start": s, "end": e, "speaker": k} for s, e, k in self.turns])


@pytest.fixture(scope="module")
def pyannote_pipeline(settings, pipeline):
    replay = RttmReplay(audio("pyannote_sample.rttm"))
    diarizer = PyannoteDiarizer(settings, embedder=pipeline.diarizer.embedder, pipeline=replay)
    return Pipeline(settings, asr=pipeline.asr, diarizer=diarizer), replay


def test_pyannote_turns_drive_assignment_and_identity_embeddings(pyannote_pipeline):
    hearback, replay = pyannote_pipeline
    transcript = hearback.transcribe_file(audio("pyannote_sample.wav"), Options(min_speakers=2, max_speakers=3))
    assert replay.calls[-1][1:] == (2, 3)
    assert transcript.speakers == ["speaker90", "speaker91"]
    text_of = {k: " ".join(s.text for s in transcript.segments if s.speaker == k).lower() for k in transcript.speakers}
    assert "sheila" in text_of["speaker91"] and "diane" in text_of["speaker90"]
    vectors = transcript.speaker_embeddings
    assert transcript.embedder == "resemblyzer-ge2e-256" and set(vectors) == {"speaker90", "speaker91"}
    assert float(vectors["speaker90"] @ vectors["speaker91"]) < 0.95
    assert transcript.model["diarization"]["backend"] == "pyannote"


def test_voiceprints_from_the_embedded_backend_match_pyannote_clusters(pyannote_pipeline, pipeline):
    """One identity embedder everywhere: a voice enrolled on the CPU service is recognised in a
    transcript whose turns came from pyannote."""
    from hearback.decode import Audio, decode
    from hearback.identify import Voiceprint

    hearback, _ = pyannote_pipeline
    samples = decode(audio("pyannote_sample.wav")).samples
    sheila = pipeline.embed_voice(Audio(samples[int(21.8 * 16000):int(27.8 * 16000)]))[0]
    transcript = hearback.transcribe_file(audio("pyannote_sample.wav"),
                                          voiceprints=[Voiceprint("Sheila", sheila, "resemblyzer-ge2e-256")])
    assert "Sheila" in transcript.speakers and "speaker90" in transcript.speakers


def test_whisperx_backends_say_how_to_install_them():
    with pytest.raises(ConfigError, match=r"pip install 'hearback\[whisperx\]'"):
        Pipeline(Settings(asr_backend="whisperx")).load()
    with pytest.raises(ConfigError, match=r"hearback\[whisperx\]"):
        Pipeline(Settings(diarization_backend="pyannote")).load()
    with pytest.raises(ConfigError, match="use faster-whisper or whisperx"):
        Pipeline(Settings(asr_backend="vosk")).load()


def test_unknown_model_name_fails_clearly_offline(tmp_path):
    with pytest.raises(ConfigError, match="cannot load Whisper model 'no-such-model'"):
        Pipeline(Settings(whisper_model="no-such-model", data_dir=tmp_path)).load()


def test_bundled_base_is_verified_and_reused(tmp_path):
    from hearback.models import VERIFIED_MARKER, bundled_base

    first = bundled_base(tmp_path)
    assert (first / VERIFIED_MARKER).read_text().startswith("905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57")
    stamp = (first / "model.bin").stat().st_mtime_ns
    assert bundled_base(tmp_path) == first and (first / "model.bin").stat().st_mtime_ns == stamp
    # a damaged model.bin is rebuilt from the packages, never loaded
    with open(first / "model.bin", "r+b") as f:
        f.truncate(1000)
    assert (bundled_base(tmp_path) / "model.bin").stat().st_size > 100_000_000
