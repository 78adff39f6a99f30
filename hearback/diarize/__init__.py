"""Diarization: who speaks when, and one embedding per speaker.

Every backend diarizes a recording as a `DiarizationRun`, fed block by block while the audio is
decoded (so memory stays flat however long the recording) and finished once at the end:
- `embedded` (default, offline): speaker windows embedded as they come (CAM++ by default), then
  clustered (`cluster.py`), turned into turns (`windows.py`), overlaps added (`overlap.py`);
- `pyannote` (production, GPU): pyannote's pipeline reads the recording from its file at the end
  for the turns; the per-speaker embeddings come from the same windows, so voiceprints are the
  same whichever backend ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Protocol, Sequence

import numpy as np

from hearback.diarize.labels import Source
from hearback.embedders import SpeakerEmbedder, load_embedder
from hearback.errors import ConfigError
from hearback.progress import StepProgress
from hearback.result import Diarization, SpeechRegion, Voices
from hearback.segmentation import Activity
from hearback.settings import Settings

if TYPE_CHECKING:
    from hearback.diarize.anchors import Participant

BACKENDS = ("embedded", "pyannote")


class DiarizationRun(Protocol):
    """One recording being diarized."""

    def feed(self, samples: np.ndarray, regions: list[SpeechRegion], offset: float,
             activity: Optional[Activity] = None, progress: Optional[StepProgress] = None) -> None:
        """A block of 16 kHz `samples` starting `offset` seconds in, its speech regions (recording
        time) and, when segmentation-3.0 ran, what it heard (overlaps, local speaker tracks)."""

    def voices(self) -> Voices:
        """Pieces of the speech of the block fed last and a number for who speaks in each, as that
        block alone tells (empty where the backend cannot tell before `finish`)."""

    def finish(self, regions: list[SpeechRegion], min_speakers: Optional[int], max_speakers: Optional[int],
               progress: Optional[StepProgress] = None, participants: Sequence["Participant"] = ()) -> Diarization:
        """Turns and one embedding per speaker, for the whole recording. `participants`: the
        voiceprints of the people the recording expects, which anchor the clustering where the
        backend can (`anchors.py`); the clusters they own are in `Diarization.owners`."""


class Diarizer(Protocol):
    name: str
    embedder: SpeakerEmbedder

    def describe(self) -> dict: ...

    def begin(self, source: Source = None) -> DiarizationRun: ...


def load_diarizer(settings: Settings) -> Diarizer:
    embedder = load_embedder(settings.embedder, settings.device, settings.bundled_models_dir,
                             str(settings.model_cache_dir), settings.embedder_runtime)
    if settings.diarization_backend == "embedded":
        from hearback.diarize.embedded import EmbeddedDiarizer

        return EmbeddedDiarizer(embedder)
    if settings.diarization_backend == "pyannote":
        from hearback.diarize.pyannote import PyannoteDiarizer

        return PyannoteDiarizer(settings, embedder)
    raise ConfigError(f"HEARBACK_DIARIZATION_BACKEND={settings.diarization_backend!r}: "
                      f"use one of {', '.join(BACKENDS)}")

