"""The GE2E encoder rebuilt here gives what resemblyzer's own code gives, on real speech."""

import pytest
import numpy as np

from conftest import audio
from hearback.decode import SAMPLE_RATE, decode
from hearback.embedders.ge2e import Ge2eEmbedder, mel_filterbank, mel_power


@pytest.mark.slow
def test_mel_filterbank_and_spectrogram_match_librosa():
    import librosa
    from resemblyzer.audio import wav_to_mel_spectrogram

    assert np.allclose(mel_filterbank(), librosa.filters.mel(sr=16000, n_fft=400, n_mels=40), atol=1e-7)
    samples = decode(audio("jfk.flac")).samples
    ours, theirs = mel_power(samples, mel_filterbank()), wav_to_mel_spectrogram(samples)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= 1e-5 * theirs.max()


def test_encoder_matches_resemblyzer_on_the_same_spectrogram():
    import torch
    from resemblyzer import VoiceEncoder

    samples = decode(audio("jfk.flac")).samples
    mel = mel_power(samples, mel_filterbank())
    batch = np.stack([mel[i:i + 160] for i in range(0, 800, 80)])
    ours = Ge2eEmbedder()._forward(batch)
    with torch.no_grad():
        theirs = VoiceEncoder("cpu", verbose=False)(torch.from_numpy(batch)).numpy()
    assert np.allclose(ours, theirs, atol=1e-5)


def test_embedding_ignores_recording_level_and_separates_voices():
    encoder = Ge2eEmbedder()
    jfk = decode(audio("jfk.flac")).samples
    loud, quiet = encoder.embed_speech(jfk), encoder.embed_speech(jfk * 0.02)
    assert float(loud @ quiet) > 0.999
    assert abs(np.linalg.norm(loud) - 1) < 1e-5
    left = encoder.embed_speech(decode(audio("stereo_diarization.wav"), channel=0).samples)
    right = encoder.embed_speech(decode(audio("stereo_diarization.wav"), channel=1).samples)
    same = encoder.embed_speech(jfk[: 5 * 16000]) @ encoder.embed_speech(jfk[5 * 16000:])
    assert float(same) > float(left @ right) + 0.1
    assert float(left @ loud) < 0.75


def trn00_windows(embedder) -> np.ndarray:
    """The filterbanks of every window of a real 30 s meeting (trn00: several voices)."""
    samples = decode(audio("voices/meetings/trn00.flac")).samples
    starts = np.arange(0.0, len(samples) / SAMPLE_RATE - embedder.window_seconds, embedder.window_hop)
    return embedder.window_features(samples, [(s, s + embedder.window_seconds) for s in starts])


def test_campp_on_the_cpu_embeds_windows_sixteen_at_a_time_with_the_same_vectors(monkeypatch):
    """Batches of 8-16 windows cost less per window than batches padded to 64 on a CPU
    (bench/embed_batch.py); the vectors of a meeting's windows do not depend on the batching."""
    from hearback.embedders.campp import CamppEmbedder

    embedder = CamppEmbedder(runtime="torch")
    features = trn00_windows(embedder)
    assert len(features) == 39 and embedder.batch_sizes == (8, 16) and embedder.runtime.startswith("torch")
    seen = []
    forward = embedder._forward_locked
    monkeypatch.setattr(embedder, "_forward_locked", lambda batch: seen.append(len(batch)) or forward(batch))
    small = embedder.embed_features(features)
    assert seen == [16, 16, 8]  # 39 windows: two full batches, the last 7 padded to 8 (not to 64)
    monkeypatch.setattr(embedder, "batch_sizes", (8, 16, 32, 64))
    one = embedder.embed_features(features)
    assert seen[3:] == [64] and np.abs(small - one).max() < 1e-5
    # the windows are real voices: trn00's speakers come apart (neighbours alike, not all alike)
    neighbours = np.sum(small[:-1] * small[1:], axis=1)
    assert np.median(neighbours) > 0.6 and float((small @ small.T).min()) < 0.3


def test_campp_runs_through_onnx_runtime_on_the_cpu_with_torchs_vectors(pipeline, tmp_path, monkeypatch):
    """The pipeline's CAM++ runs in ONNX Runtime (a quarter less time than torch on 2 cores),
    exported once into the model cache: a second embedder reads the file back, and the vectors are
    torch's."""
    import torch

    from hearback.embedders.campp import CamppEmbedder

    embedder = pipeline.diarizer.embedder
    assert embedder.runtime.startswith("onnxruntime")
    assert pipeline.describe()["diarization"]["runtime"] == embedder.runtime
    features = trn00_windows(embedder)
    reference = CamppEmbedder(runtime="torch").embed_features(features)
    assert np.abs(embedder.embed_features(features) - reference).max() < 1e-4

    first = CamppEmbedder(cache_dir=tmp_path)
    [exported] = tmp_path.glob("campp-*.onnx")
    monkeypatch.setattr(torch.onnx, "export", lambda *a, **k: pytest.fail("exported twice"))
    again = CamppEmbedder(cache_dir=tmp_path)  # reads the file back
    assert again.runtime == first.runtime and exported.stat().st_size > 10**6
    assert np.abs(again.embed_features(features[:5]) - reference[:5]).max() < 1e-4


def test_campp_falls_back_to_torch_when_onnx_cannot_be_used(tmp_path, caplog, monkeypatch):
    """A damaged export is made again; an export that cannot be made leaves torch running (same
    vectors, slower) and says why in the log, instead of failing the transcription."""
    import logging

    from hearback.embedders import onnx_forward
    from hearback.embedders.campp import CamppEmbedder

    in_torch = CamppEmbedder(runtime="torch")
    features = trn00_windows(in_torch)[:4]
    reference = in_torch.embed_features(features)
    damaged = tmp_path / "damaged"
    CamppEmbedder(cache_dir=damaged)
    [path] = damaged.glob("*.onnx")
    path.write_bytes(b"not a model")
    mended = CamppEmbedder(cache_dir=damaged)
    assert mended.runtime.startswith("onnxruntime") and path.stat().st_size > 10**6

    def no_export(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'onnx'")

    monkeypatch.setattr(onnx_forward, "export", no_export)
    with caplog.at_level(logging.WARNING):
        plain = CamppEmbedder(cache_dir=tmp_path / "empty")
    assert plain.runtime.startswith("torch") and "No module named 'onnx'" in caplog.text
    assert np.abs(plain.embed_features(features) - reference).max() < 1e-5
