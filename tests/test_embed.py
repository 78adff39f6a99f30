"""The GE2E encoder rebuilt here gives what resemblyzer's own code gives, on real speech."""

import pytest
import numpy as np

from conftest import audio
from hearback.decode import decode
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
