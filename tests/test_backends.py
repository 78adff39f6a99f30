"""The production backends, as far as this machine allows.

pyannote's diarization pipeline needs a download, so the pyannote backend is driven here with a
stand-in for pyannote's `Pipeline` that replays `pyannote_sample.rttm`, which is pyannote's own
output for that recording: everything after the model (turns, CAM++ identity embeddings from the
speaker windows, assignment, naming) runs for real. WhisperX and pyannote.audio are an optional
extra that is not installed in the main test environment: asking for them must fail with a clear
instruction (`tests/test_whisperx.py` runs them in their own environment).
"""

import pytest
from conftest import audio
from pyannote.core import Annotation, Segment

from bench.evaluation import read_rttm
from hearback.diarize.pyannote import PyannoteDiarizer
from hearback.errors import ConfigError
from hearback.pipeline import Options, Pipeline
from service.settings import Settings


class RttmReplay:
    """Stands in for a pyannote `Pipeline`: returns the reference turns as an Annotation."""

    def __init__(self, path):
        self.turns = read_rttm(path)
        self.calls = []

    def __call__(self, item, min_speakers=None, max_speakers=None):
        self.calls.append((item, min_speakers, max_speakers))
        annotation = Annotation()
        for track, (start, end, speaker) in enumerate(self.turns):
            annotation[Segment(start, end), track] = speaker
        return annotation


@pytest.fixture(scope="module")
def pyannote_pipeline(settings, pipeline):
    replay = RttmReplay(audio("pyannote_sample.rttm"))
    diarizer = PyannoteDiarizer(settings, embedder=pipeline.diarizer.embedder, pipeline=replay)
    return Pipeline(settings, asr=pipeline.asr, diarizer=diarizer, segmentation=pipeline.segmentation), replay


def test_pyannote_turns_drive_assignment_and_identity_embeddings(pyannote_pipeline):
    hearback, replay = pyannote_pipeline
    transcript = hearback.transcribe_file(audio("pyannote_sample.wav"), Options(min_speakers=2, max_speakers=3))
    item, low, high = replay.calls[-1]
    assert (low, high) == (2, 3) and item["audio"].endswith("pyannote_sample.wav")  # the file, not samples
    assert transcript.speakers == ["SPEAKER_00", "SPEAKER_01"]
    text_of = {k: " ".join(s.text for s in transcript.segments if s.speaker == k).lower() for k in transcript.speakers}
    assert "sheila" in text_of["SPEAKER_01"] and "diane" in text_of["SPEAKER_00"]
    vectors = transcript.speaker_embeddings
    assert transcript.embedder == "campp-3dspeaker-zh-en-192" and set(vectors) == {"SPEAKER_00", "SPEAKER_01"}
    assert float(vectors["SPEAKER_00"] @ vectors["SPEAKER_01"]) < 0.75  # one telephone line, two voices
    assert transcript.model["diarization"]["backend"] == "pyannote"


@pytest.mark.slow
def test_voiceprints_from_the_embedded_backend_match_pyannote_clusters(pyannote_pipeline, pipeline):
    """One identity embedder everywhere: a voice enrolled on the CPU service is recognised in a
    transcript whose turns came from pyannote."""
    from hearback.decode import Audio, decode
    from hearback.identify import KnownVoice

    hearback, _ = pyannote_pipeline
    samples = decode(audio("pyannote_sample.wav")).samples
    sheila = pipeline.embed_voice(Audio(samples[int(21.8 * 16000):int(27.8 * 16000)]))[0]
    transcript = hearback.transcribe_file(audio("pyannote_sample.wav"),
                                          voiceprints=[KnownVoice("Sheila", sheila, "campp-3dspeaker-zh-en-192")])
    assert "Sheila" in transcript.speakers and "SPEAKER_00" in transcript.speakers


def test_whisperx_backends_say_how_to_install_them():
    with pytest.raises(ConfigError, match=r"pip install 'hearback\[whisperx\]'"):
        Pipeline(Settings(asr_backend="whisperx")).load()
    with pytest.raises(ConfigError, match=r"hearback\[whisperx\]"):
        Pipeline(Settings(diarization_backend="pyannote")).load()
    with pytest.raises(ConfigError, match="use one of faster-whisper, whisperx"):
        Pipeline(Settings(asr_backend="vosk")).load()


def test_an_unknown_embedder_runtime_is_a_clear_error_and_exports_nothing(tmp_path):
    with pytest.raises(ConfigError, match="HEARBACK_EMBEDDER_RUNTIME='tensorrt': use one of onnx, torch"):
        Pipeline(Settings(embedder_runtime="tensorrt", data_dir=tmp_path)).load()
    assert not list(tmp_path.rglob("*.onnx"))


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
