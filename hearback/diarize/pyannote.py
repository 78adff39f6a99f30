"""The production diarization backend: pyannote's pipeline on the GPU, for the turns.

pyannote decides who speaks when, reading the recording from its file at the end (it never holds
the decoded recording in memory: its inference reads one chunk at a time). The per-speaker
embeddings are the embedded backend's: the speaker windows are embedded block by block as the
audio is decoded (CAM++ by default), and each pyannote speaker's vector is the mean of the windows
inside its turns. With one identity embedder everywhere, a voice enrolled once on the CPU service
names speakers in the GPU worker's transcripts too.

`HEARBACK_DIARIZATION_MODEL` names the pipeline (default `pyannote/speaker-diarization-community-1`,
gated: needs `HF_TOKEN` at build time) or a local directory with its `config.yaml`, which is how the
Docker image carries it. pyannote's usage telemetry is switched off unless the environment says
otherwise: a self-hosted service should not report home.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from hearback.diarize.labels import Source, speaker_label
from hearback.diarize.anchors import Participant
from hearback.diarize.embedded import WindowRun, summarise
from hearback.embedders import SpeakerEmbedder
from hearback.errors import ConfigError
from hearback.progress import StepProgress
from hearback.result import Diarization, SpeechRegion, Turn
from hearback.settings import Settings
from hearback.vectors import unit

log = logging.getLogger(__name__)


class PyannoteDiarizer:
    name = "pyannote"

    def __init__(self, settings: Settings, embedder: SpeakerEmbedder, pipeline=None):
        """`pipeline` is a pyannote `Pipeline` (loaded from the settings when not given): called with
        {"uri", "audio"} (a path) or {"waveform", "sample_rate"}, it returns an annotation of turns."""
        self.settings = settings
        self.embedder = embedder
        self.pipeline = pipeline or load_pipeline(settings)

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.settings.diarization_model, "embedder": self.embedder.name,
                "dimension": self.embedder.dim, "source": self.embedder.source, "runtime": self.embedder.runtime}

    def begin(self, source: Source = None) -> "PyannoteRun":
        return PyannoteRun(self, source)


class PyannoteRun(WindowRun):
    def __init__(self, diarizer: PyannoteDiarizer, source: Source):
        super().__init__(diarizer.embedder)
        self.diarizer, self.source = diarizer, source

    def finish(self, regions: list[SpeechRegion], min_speakers: Optional[int], max_speakers: Optional[int],
               progress: Optional[StepProgress] = None, participants: Sequence[Participant] = ()) -> Diarization:
        """pyannote's clustering takes no anchors: participants are named after it, one to one."""
        turns = run_pipeline(self.diarizer.pipeline, self.source, min_speakers, max_speakers)
        names = {spk: speaker_label(i) for i, spk in enumerate(dict.fromkeys(t.speaker for t in turns))}
        turns = [Turn(t.start, t.end, names[t.speaker]) for t in turns]
        if progress:
            progress(0.9)
        embeddings = self._speaker_vectors(turns)
        return summarise(turns, embeddings, self.embedder.name, {"windows": len(self.found)})

    def _speaker_vectors(self, turns: list[Turn]) -> dict[str, np.ndarray]:
        """Each speaker's mean window embedding, over windows whose centre lies in its turns alone."""
        if not len(self.found):
            return {}
        centres = np.array([(a + b) / 2 for a, b in self.found.windows])
        owner = np.full(len(centres), "", object)
        for t in turns:
            inside = (centres >= t.start) & (centres < t.end)
            owner[inside & (owner == "")] = t.speaker
            owner[inside & (owner != "") & (owner != t.speaker)] = "-"  # in an overlap: nobody's
        return {label: unit(self.found.embeddings[owner == label].mean(axis=0))
                for label in sorted(set(owner) - {"", "-"})}


def run_pipeline(pipeline, source: Source, min_speakers: Optional[int], max_speakers: Optional[int]) -> list[Turn]:
    args, kwargs = call_arguments(source, min_speakers, max_speakers)
    output = pipeline(*args, **kwargs)
    annotation = getattr(output, "speaker_diarization", output)  # pyannote 4 wraps the annotation
    return sorted((Turn(float(seg.start), float(seg.end), str(label))
                   for seg, _, label in annotation.itertracks(yield_label=True)), key=lambda t: t.start)


def call_arguments(source: Source, min_speakers: Optional[int], max_speakers: Optional[int]) -> tuple[tuple, dict]:
    """What the pipeline is called with (its `apply`'s arguments; the contract test binds them to
    the installed pyannote.audio): the file, or the samples when the recording came as samples."""
    if isinstance(source, np.ndarray):
        import torch

        item = {"waveform": torch.from_numpy(source[None]), "sample_rate": 16000}
    elif source is not None:
        item = {"uri": Path(source).stem, "audio": str(source)}
    else:
        raise ValueError("the pyannote backend needs the recording's file or samples")
    return (item,), {"min_speakers": min_speakers, "max_speakers": max_speakers}


def from_pretrained_arguments(settings: Settings) -> tuple[tuple, dict]:
    """What `pyannote.audio.Pipeline.from_pretrained` is given (checked like `call_arguments`)."""
    return (settings.diarization_model,), {"token": settings.hf_token or None,
                                           "cache_dir": str(settings.model_cache_dir)}


def load_pipeline(settings: Settings):
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
    try:
        import torch
        from pyannote.audio import Pipeline
    except ImportError:
        raise ConfigError("HEARBACK_DIARIZATION_BACKEND=pyannote needs: pip install 'hearback[whisperx]'") from None
    started = time.perf_counter()
    try:
        args, kwargs = from_pretrained_arguments(settings)
        pipeline = Pipeline.from_pretrained(*args, **kwargs)
    except Exception as exc:
        raise ConfigError(f"cannot load the pyannote pipeline {settings.diarization_model!r}: {exc} "
                          "(gated models need HF_TOKEN, or bake the pipeline into the image)") from None
    if pipeline is None:
        raise ConfigError(f"cannot load the pyannote pipeline {settings.diarization_model!r} "
                          "(gated models need HF_TOKEN, or bake the pipeline into the image)")
    pipeline.to(torch.device(settings.device))
    log.info("loaded pyannote %s in %.1f s", settings.diarization_model, time.perf_counter() - started)
    return pipeline
