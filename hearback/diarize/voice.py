"""A voiceprint from a sample of one person (enrolment), made the way transcripts make theirs.

The sample is diarized like any recording and the vector is the dominant voice's mean window
embedding, so a few words from someone else in the background do not pollute it, and the vector
is comparable with the per-speaker vectors of transcripts (both are means of the same windows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hearback.diarize.cluster import centroids, cluster_windows
from hearback.diarize.windows import embed_windows, speaker_windows
from hearback.embedders import SpeakerEmbedder
from hearback.decode import SAMPLE_RATE
from hearback.result import SpeechRegion


@dataclass
class VoiceSample:
    vector: np.ndarray  # L2-normalised; zeros when no speech was heard
    speech_seconds: float
    voices: int  # voices heard in the sample
    consistency: float  # mean cosine of the dominant voice's windows to its mean (1: steady)


def embed_voice(embedder: SpeakerEmbedder, samples: np.ndarray, regions: list[SpeechRegion]) -> VoiceSample:
    seconds = float(sum(r.end - r.start for r in regions))
    windows, ids = speaker_windows(regions, len(samples) / SAMPLE_RATE, embedder.window_seconds, embedder.window_hop)
    if not windows:
        return VoiceSample(np.zeros(embedder.dim, np.float32), seconds, 0, 0.0)
    vectors = embed_windows(embedder, samples, regions, windows, ids)
    labels = cluster_windows(vectors, embedder.same_voice)
    dominant = int(np.argmax(np.bincount(labels)))
    centre = centroids(vectors, labels)[dominant]
    consistency = float(np.mean(vectors[labels == dominant] @ centre))
    return VoiceSample(centre, seconds, int(labels.max()) + 1, consistency)
