"""Speaker embeddings: one vector per stretch of speech, comparable by cosine.

The embedded backend uses the GE2E speaker encoder whose weights ship inside the `resemblyzer`
package (256-d, 1.6 s windows of 40-band mel power spectra). Its three-layer LSTM is rebuilt here
and loaded from the shipped `pretrained.pt`, with the mel filterbank computed in numpy: that skips
resemblyzer's import-time dependencies (librosa, numba, webrtcvad: about a second per process and
a fragile install), and lets one spectrogram per speech region serve all its overlapping windows.
`tests/test_embed.py` checks the result against resemblyzer's own code.

GE2E is no longer the default (CAM++ is): on a held-out phone-band meeting its genuine and impostor
scores overlapped. It stays available with `HEARBACK_EMBEDDER=ge2e`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

import numpy as np

from hearback.decode import SAMPLE_RATE
from hearback.embedders.calibration import IDENTIFY_THRESHOLD, SAME_VOICE
from hearback.errors import ConfigError
from hearback.inference import LockedForward
from hearback.vectors import unit

GE2E_NAME = "resemblyzer-ge2e-256"

N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
WINDOW_FRAMES = 160  # 1.6 s, the encoder's training length
TARGET_DBFS = -30.0


class Ge2eEmbedder:
    """GE2E (Wan et al. 2018) speaker encoder with resemblyzer's pretrained weights, on the CPU."""

    name = GE2E_NAME
    dim = 256
    window_seconds = WINDOW_FRAMES * HOP / SAMPLE_RATE
    window_hop = 0.4
    same_voice = SAME_VOICE["ge2e"]
    identify_threshold = IDENTIFY_THRESHOLD["ge2e"]
    source = "resemblyzer 0.1.4 (pretrained.pt)"
    runtime = "torch"

    def __init__(self, weights: Path | None = None, threads: int = 0):
        import torch

        self._torch = torch
        weights = weights or _resemblyzer_weights()
        self._model = _build_ge2e(torch)
        state = torch.load(weights, map_location="cpu", weights_only=True)["model_state"]
        self._model.load_state_dict({k: v for k, v in state.items() if not k.startswith("similarity_")})
        self._model.eval()
        self._mel_basis = mel_filterbank()
        # Diarization runs after the ASR, so the cores are free; 0 means all of them.
        self._forward_locked = LockedForward(self._model, "cpu", threads)

    def window_features(self, samples: np.ndarray, windows: Sequence[tuple[float, float]]) -> np.ndarray:
        if not windows:
            return np.zeros((0, WINDOW_FRAMES, N_MELS), np.float32)
        mel = mel_power(samples, self._mel_basis)
        return np.stack([_frames_of(mel, start) * _gain(samples, start, end) for start, end in windows])

    def embed_features(self, features: np.ndarray, batch: int = 256) -> np.ndarray:
        if len(features) == 0:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate([self._forward(features[i:i + batch]) for i in range(0, len(features), batch)])

    def embed_speech(self, samples: np.ndarray) -> np.ndarray:
        duration = len(samples) / SAMPLE_RATE
        step = self.window_seconds / 2
        starts = np.arange(0.0, max(duration - self.window_seconds, 0.0) + 1e-6, step)
        rows = self.embed_features(self.window_features(samples, [(s, s + self.window_seconds) for s in starts]))
        return unit(rows.mean(axis=0))

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        return self._forward_locked(batch).numpy().astype(np.float32)


def _build_ge2e(torch):
    nn = torch.nn

    class Ge2e(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
            self.linear = nn.Linear(256, 256)

        def forward(self, mels):
            _, (hidden, _) = self.lstm(mels)
            raw = torch.relu(self.linear(hidden[-1]))
            return raw / torch.linalg.norm(raw, dim=1, keepdim=True).clamp_min(1e-8)

    return Ge2e()


def _resemblyzer_weights() -> Path:
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the embedded speaker encoder needs the package resemblyzer==0.1.4 (pip install it)")
    path = Path(list(spec.submodule_search_locations)[0]) / "pretrained.pt"
    if not path.exists():
        raise ConfigError(f"resemblyzer is installed without its weights ({path} is missing); reinstall it")
    return path


def _frames_of(mel: np.ndarray, start: float) -> np.ndarray:
    """WINDOW_FRAMES mel frames from `start`, zero-padded past the end of the spectrogram."""
    first = int(round(start * SAMPLE_RATE / HOP))
    out = mel[first:first + WINDOW_FRAMES]
    if len(out) < WINDOW_FRAMES:
        out = np.pad(out, ((0, WINDOW_FRAMES - len(out)), (0, 0)))
    return out


def mel_power(samples: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """(frames, N_MELS) mel power spectrogram, as librosa.feature.melspectrogram computes it."""
    padded = np.pad(samples.astype(np.float32, copy=False), N_FFT // 2)
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    if n_frames <= 0:
        return np.zeros((0, N_MELS), np.float32)
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n_frames, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0])
    )
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power @ basis.T).astype(np.float32)


def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Slaney-style mel filterbank with area normalisation (librosa's default)."""
    fft_freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_points = np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2), n_mels + 2)
    hz_points = _mel_to_hz(mel_points)
    gaps = np.diff(hz_points)
    ramps = hz_points[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / gaps[:-1, None]
    upper = ramps[2:] / gaps[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (hz_points[2:] - hz_points[:-2]))[:, None]
    return weights.astype(np.float32)


def _hz_to_mel(hz):
    hz = np.asanyarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep, hz / f_sp)


def _mel_to_hz(mel):
    mel = np.asanyarray(mel, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


def _gain(samples: np.ndarray, start: float, end: float) -> np.float32:
    """Power gain bringing a window to -30 dBFS: the encoder's input is linear mel power, so
    without it the same voice recorded 20 dB quieter embeds far away (cosine 0.5 instead of 1)."""
    piece = samples[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]
    power = float(np.mean(np.square(piece, dtype=np.float64))) if len(piece) else 0.0
    if power <= 1e-12:
        return np.float32(1.0)
    return np.float32(10 ** (TARGET_DBFS / 10) / power)
