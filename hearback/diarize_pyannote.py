"""The production diarization backend: pyannote's pipeline through WhisperX, on the GPU.

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

from hearback.diarize import Progress
from hearback.embed import normalise
from hearback.errors import ConfigError
from hearback.result import Diarization, SpeechRegion, Turn
from hearback.settings import Settings

log = logging.getLogger(__name__)


class PyannoteDiarizer:
    name = "pyannote"
    embedding_dim = 256

    def __init__(self, settings: Settings):
        os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
        try:
            import torch
            from whisperx.diarize import DiarizationPipeline
        except ImportError:
            raise ConfigError("HEARBACK_DIARIZATION_BACKEND=pyannote needs: pip install 'hearback[whisperx]'") from None
        self.settings = settings
        self.embedder_name = f"pyannote:{os.path.basename(settings.diarization_model.rstrip('/'))}"
        started = time.perf_counter()
        try:
            self.pipeline = DiarizationPipeline(model_name=settings.diarization_model, token=settings.hf_token or None,
                                                device=torch.device(settings.device),
                                                cache_dir=str(settings.model_cache_dir))
        except Exception as exc:
            raise ConfigError(f"cannot load the pyannote pipeline {settings.diarization_model!r}: {exc} "
                              "(gated models need HF_TOKEN, or bake the pipeline into the image)") from None
        log.info("loaded pyannote %s in %.1f s", settings.diarization_model, time.perf_counter() - started)

    def describe(self) -> dict:
        return {"backend": self.name, "embedder": self.embedder_name, "model": self.settings.diarization_model}

    def diarize(self, samples: np.ndarray, regions: list[SpeechRegion], min_speakers: Optional[int],
                max_speakers: Optional[int], progress: Optional[Progress] = None) -> Diarization:
        frame, vectors = self.pipeline(samples, min_speakers=min_speakers, max_speakers=max_speakers,
                                       return_embeddings=True)
        turns = [Turn(float(row.start), float(row.end), str(row.speaker)) for row in frame.itertuples()]
        embeddings = {label: normalise(np.asarray(v, np.float32)) for label, v in (vectors or {}).items()
                      if v is not None and np.all(np.isfinite(v))}
        if embeddings:
            self.embedding_dim = len(next(iter(embeddings.values())))
        speech: dict[str, float] = {}
        for t in turns:
            speech[t.speaker] = speech.get(t.speaker, 0.0) + t.end - t.start
        if progress:
            progress(1.0)
        return Diarization(sorted(turns, key=lambda t: t.start), embeddings, self.embedder_name, speech)
