"""The embedded diarization backend: speaker windows, clustering, turns, overlaps. Offline, CPU."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from hearback.diarize.labels import Source, speaker_label
import hearback.diarize.anchors as anchors
from hearback.diarize.anchors import Participant, anchored_tags, group_owners, voices
from hearback.diarize.cluster import centroids, cluster_windows
from hearback.diarize.overlap import add_overlaps
from hearback.diarize.windows import (SpeakerWindows, cut_at, embed_windows, frames_to_turns, speaker_windows,
                                      window_weights)
from hearback.embedders import SpeakerEmbedder
from hearback.progress import StepProgress
from hearback.result import Diarization, SpeechRegion, Turn, Voices
from hearback.decode import SAMPLE_RATE
from hearback.segmentation import Activity


class EmbeddedDiarizer:
    name = "embedded"

    def __init__(self, embedder: SpeakerEmbedder):
        self.embedder = embedder

    def describe(self) -> dict:
        return {"backend": self.name, "embedder": self.embedder.name, "dimension": self.embedder.dim,
                "source": self.embedder.source, "runtime": self.embedder.runtime}

    def begin(self, source: Source = None) -> "WindowRun":
        return WindowRun(self.embedder)


class WindowRun:
    """Windows embedded block by block; clustered once the whole recording has been seen."""

    def __init__(self, embedder: SpeakerEmbedder):
        self.embedder = embedder
        self.found = SpeakerWindows()
        self.overlaps: list[tuple[float, float]] = []
        self.regions_seen = 0
        self.last_block: tuple[list[SpeechRegion], int] = ([], 0)  # its pieces, and its first window

    def feed(self, samples: np.ndarray, regions: list[SpeechRegion], offset: float,
             activity: Optional[Activity] = None, progress: Optional[StepProgress] = None) -> None:
        e = self.embedder
        end = offset + len(samples) / SAMPLE_RATE
        pieces = cut_at(regions, activity.changes) if activity is not None else regions
        windows, ids = speaker_windows(pieces, end, e.window_seconds, e.window_hop, not_before=offset)
        vectors = embed_windows(e, samples, pieces, windows, ids, progress, offset=offset)
        weights = window_weights(pieces, ids, e.window_hop)
        self.last_block = (pieces, len(self.found))
        self.found.extend(SpeakerWindows(windows, ids + self.regions_seen, vectors, weights))
        self.regions_seen += len(pieces)
        if activity is not None and regions:
            done = regions[-1].end
            self.overlaps += [o for o in activity.overlaps() if o[0] < done]

    def voices(self) -> Voices:
        """Who speaks in each piece of the block fed last, as far as that block alone tells (its
        windows clustered on their own): the ASR hears a block voice by voice, while the speakers of
        the whole recording are settled by `finish`."""
        pieces, first = self.last_block
        if not pieces or first >= len(self.found):
            return []
        ids = self.found.region_ids[first:] - (self.regions_seen - len(pieces))
        labels = cluster_windows(self.found.embeddings[first:], self.embedder.same_voice,
                                 weights=self.found.weights[first:])
        return list(zip(pieces, piece_voices(len(pieces), ids, labels, self.found.weights[first:])))

    def finish(self, regions: list[SpeechRegion], min_speakers: Optional[int], max_speakers: Optional[int],
               progress: Optional[StepProgress] = None,
               participants: Sequence[Participant] = ()) -> Diarization:
        if not len(self.found):
            return Diarization([], {}, self.embedder.name)
        tags = anchored_tags(self.found.embeddings, participants)
        labels = cluster_windows(self.found.embeddings, self.embedder.same_voice, min_speakers, max_speakers,
                                 self.found.weights, tags, voices(participants), anchors.FIT_FLOOR)
        turns = add_overlaps(frames_to_turns(self.found.windows, labels, regions, self.embedder.window_seconds),
                             self.overlaps)
        order = _first_appearance(turns)
        turns = [Turn(t.start, t.end, speaker_label(order[int(t.speaker)])) for t in turns]
        vectors = centroids(self.found.embeddings, labels)
        embeddings = {speaker_label(order[k]): vectors[k] for k in range(len(vectors)) if k in order}
        details = {"windows": len(self.found), "overlaps": len(self.overlaps)}
        owners = {}
        if tags is not None:
            owners = {speaker_label(order[k]): participants[p].key
                      for k, p in group_owners(labels, tags).items() if k in order}
            details["anchored_windows"] = int((tags >= 0).sum())
        return summarise(turns, embeddings, self.embedder.name, details, owners)


def piece_voices(pieces: int, piece_ids: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> list[int]:
    """Each piece's voice: the label most of its windows' weight has; a piece too short for a
    window takes its nearest neighbour's with one."""
    votes = np.zeros((pieces, int(labels.max()) + 1))
    np.add.at(votes, (piece_ids, labels), weights + 1e-6)
    have = np.flatnonzero(votes.sum(axis=1) > 0)
    if not len(have):
        return [0] * pieces
    return [int(np.argmax(votes[i] if votes[i].sum() > 0 else votes[have[np.argmin(np.abs(have - i))]]))
            for i in range(pieces)]


def summarise(turns: list[Turn], embeddings: dict[str, np.ndarray], embedder: str, details: dict,
              owners: Optional[dict[str, str]] = None) -> Diarization:
    """A `Diarization` with each speaker's seconds of speech."""
    speech = {label: 0.0 for label in embeddings}
    for t in turns:
        speech[t.speaker] = speech.get(t.speaker, 0.0) + t.end - t.start
    return Diarization(turns, dict(sorted(embeddings.items())), embedder, speech, details, owners or {})


def _first_appearance(turns: list[Turn]) -> dict[int, int]:
    order: dict[int, int] = {}
    for t in turns:
        order.setdefault(int(t.speaker), len(order))
    return order
