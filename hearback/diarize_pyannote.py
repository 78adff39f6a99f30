"""The production diarization backend: pyannote's pipeline through WhisperX, on the GPU.

pyannote decides who speaks when; the per-speaker embeddings kept in the result are still the
GE2E ones (computed over each speaker's turns). Voiceprints are tied to an embedder, and the
speaker service enrols with GE2E on the CPU: with one identity embedder everywhere, a voice
enrolled once matches in transcripts from the embedded backend and from the GPU worker alike.

`HEARBACK_DIARIZATION_MODEL` names the pipeline (default `pyannote/speaker-diarization-community-1`,
gated: needs `HF_TOKEN` at build time) or a local directory with its `config.yaml`, which is how the
Docker image carries it. pyannote's usage telemetry is switched off unless the environment says
otherwise: a self-hosted service should not report home.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Optional

import numpy as np

from hearback.diarize import Progress, turn_embeddings
from hearback.embed import Ge2eEmbedder, SpeakerEmbedder
from hearback.errors import ConfigError
from hearback.result import Diarization, SpeechRegion, Turn
from hearback.settings import Settings

log = logging.getLogger(__name__)


class PyannoteDiarizer:
    name = "pyannote"

    def __init__(self, settings: Settings, embedder: Optional[SpeakerEmbedder] = None, pipeline=None):
        """`pipeline` is WhisperX's DiarizationPipeline (loaded from the settings when not given):
        called with (samples, min_speakers=, max_speakers=), it returns a frame of turns with
        `start`, `end` and `speaker` columns."""
        self.settings = settings
        self.embedder = embedder or Ge2eEmbedder()
        self.embedder_name, self.embedding_dim = self.embedder.name, self.embedder.dim
        self.pipeline = pipeline or _load_pipeline(settings)

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.settings.diarization_model,
                "embedder": self.embedder_name, "dimension": self.embedding_dim}

    def diarize(self, samples: np.ndarray, regions: list[SpeechRegion], min_speakers: Optional[int],
                max_speakers: Optional[int], progress: Optional[Progress] = None) -> Diarization:
        frame = self.pipeline(samples, min_speakers=min_speakers, max_speakers=max_speakers)
        turns = [Turn(float(row.start), float(row.end), str(row.speaker)) for row in frame.itertuples()]
        if progress:
            progress(0.8)
        embeddings = turn_embeddings(self.embedder, samples, turns)
        speech: dict[str, float] = {}
        for t in turns:
            speech[t.speaker] = speech.get(t.speaker, 0.0) + t.end - t.start
        if progress:
            progress(1.0)
        return Diarization(sorted(turns, key=lambda t: t.start), embeddings, self.embedder_name, speech)


def _load_pipeline(settings: Settings):
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
    try:
        import torch
        from whisperx.diarize import DiarizationPipeline
    except ImportError:
        raise ConfigError("HEARBACK_DIARIZATION_BACKEND=pyannote needs: pip install 'hearback[whisperx]'") from None
    started = time.perf_counter()
    try:
        pipeline = DiarizationPipeline(model_name=settings.diarization_model, token=settings.hf_token or None,
                                       device=torch.device(settings.device), cache_dir=str(settings.model_cache_dir))
    except Exception as exc:
        raise ConfigError(f"cannot load the pyannote pipeline {settings.diarization_model!r}: {exc} "
                          "(gated models need HF_TOKEN, or bake the pipeline into the image)") from None
    log.info("loaded pyannote %s in %.1f s", settings.diarization_model, time.perf_counter() - started)
    return pipeline
