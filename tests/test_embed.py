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


def test_campp_on_the_cpu_embeds_windows_sixteen_at_a_time_with_the_same_vectors(pipeline, monkeypatch):
    """Batches of 8-16 windows cost less per window than batches padded to 64 on a CPU
    (bench/embed_batch.py); the vectors of a meeting's windows do not depend on the batching."""
    embedder = pipeline.diarizer.embedder
    samples = decode(audio("voices/meetings/trn00.flac")).samples
    starts = np.arange(0.0, len(samples) / SAMPLE_RATE - embedder.window_seconds, embedder.window_hop)
    features = embedder.window_features(samples, [(s, s + embedder.window_seconds) for s in starts])
    assert len(features) == 39 and embedder.batch_sizes == (8, 16)
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
