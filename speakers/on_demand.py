"""The pipeline a long-running service shares, loaded on first use.

Enrolment embeds samples with it, identification compares with the embedder it runs, and local
transcription jobs run on it; a service that never needs it (RunPod jobs, no enrolment yet)
starts without loading any model.
"""

from __future__ import annotations

import threading
from typing import Optional

from hearback.pipeline import Pipeline
from service.settings import Settings
from speakers.identification import Embedder


class OnDemandPipeline:
    def __init__(self, settings: Settings, pipeline: Optional[Pipeline] = None):
        self.settings = settings
        self._pipeline = pipeline
        self._lock = threading.Lock()

    def get(self) -> Pipeline:
        with self._lock:
            if self._pipeline is None:
                self._pipeline = Pipeline(self.settings).load()
            return self._pipeline

    @property
    def loaded(self) -> bool:
        """Whether the models are in memory (a job's page says "loading the models" until then)."""
        with self._lock:
            return self._pipeline is not None

    @property
    def embedder(self) -> Embedder:
        return Embedder.of(self.get())

    @property
    def running(self) -> Embedder:
        """The running embedder, without loading a model when none is loaded yet (listings)."""
        with self._lock:
            loaded = self._pipeline
        return Embedder.of(loaded) if loaded is not None else Embedder.configured(self.settings)
