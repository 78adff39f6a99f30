"""Diarization: who speaks when, and one embedding per speaker.

Backends share one interface, `diarize(samples, regions, min_speakers, max_speakers)`:
- `embedded` (default, offline): overlapping 1.6 s windows over the VAD's speech regions, embedded
  with the GE2E encoder, clustered (see `cluster.py`), then voted back onto 20 ms frames so each
  stretch of speech gets the speaker whose windows cover it most.
- `pyannote` (production, GPU): pyannote's pipeline through WhisperX (`diarize_pyannote.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol

import numpy as np

from hearback.cluster import cluster_windows
from hearback.decode import SAMPLE_RATE
from hearback.embed import SpeakerEmbedder, normalise
from hearback.errors import ConfigError
from hearback.result import Diarization, SpeechRegion, Turn
from hearback.settings import Settings

WINDOW = 1.6
HOP = 0.2
FRAME = 0.02
MIN_TURN = 0.5  # a speaker run shorter than this is absorbed by its neighbours

Progress = Callable[[float], None]


class Diarizer(Protocol):
    name: str
    embedder_name: str
    embedding_dim: int

    def describe(self) -> dict: ...

    def diarize(self, samples: np.ndarray, regions: list[SpeechRegion], min_speakers: Optional[int],
                max_speakers: Optional[int], progress: Optional[Progress] = None) -> Diarization: ...



def embed_voice(diarizer: Diarizer, samples: np.ndarray, regions: list[SpeechRegion]) -> tuple[np.ndarray, float, int]:
    """A voiceprint from a sample of one person: (vector, seconds of speech, voices heard).

    The sample is diarized like any recording; the vector is the dominant voice's, so a few words
    from someone else in the background do not pollute it (the caller warns when voices > 1).
    """
    seconds = float(sum(r.end - r.start for r in regions))
    result = diarizer.diarize(samples, regions, None, None)
    if not result.embeddings:
        return np.zeros(diarizer.embedding_dim, np.float32), seconds, 0
    dominant = max(result.speech_time, key=result.speech_time.get)
    return result.embeddings[dominant], seconds, len(result.embeddings)


def load_diarizer(settings: Settings) -> Diarizer:
    if settings.diarization_backend == "embedded":
        from hearback.embed import Ge2eEmbedder

        return EmbeddedDiarizer(Ge2eEmbedder())
    if settings.diarization_backend == "pyannote":
        from hearback.diarize_pyannote import PyannoteDiarizer

        return PyannoteDiarizer(settings)
    raise ConfigError(f"HEARBACK_DIARIZATION_BACKEND={settings.diarization_backend!r}: use embedded or pyannote")


def speaker_label(index: int) -> str:
    return f"SPEAKER_{index:02d}"


class EmbeddedDiarizer:
    name = "embedded"

    def __init__(self, embedder: SpeakerEmbedder):
        self.embedder = embedder
        self.embedder_name = embedder.name
        self.embedding_dim = embedder.dim

    def describe(self) -> dict:
        return {"backend": self.name, "embedder": self.embedder.name, "dimension": self.embedder.dim}

    def diarize(self, samples: np.ndarray, regions: list[SpeechRegion], min_speakers: Optional[int],
                max_speakers: Optional[int], progress: Optional[Progress] = None) -> Diarization:
        windows = self.embed(samples, regions, progress=progress)
        return self.cluster(windows, regions, min_speakers, max_speakers)

    def embed(self, samples: np.ndarray, regions: list[SpeechRegion], offset: float = 0.0, first_region: int = 0,
              progress: Optional[Progress] = None) -> "SpeakerWindows":
        """Embed the speaker windows of `regions` (recording time) from `samples`, which start
        `offset` seconds into the recording; region ids count from `first_region`. A long
        recording is embedded block by block and the blocks' windows are joined before `cluster`."""
        end = offset + len(samples) / SAMPLE_RATE
        windows, region_ids = speaker_windows(regions, end, not_before=offset)
        embeddings = embed_windows(self.embedder, samples, regions, windows, region_ids, progress, offset=offset)
        return SpeakerWindows(windows, region_ids + first_region, embeddings)

    def cluster(self, found: "SpeakerWindows", regions: list[SpeechRegion], min_speakers: Optional[int],
                max_speakers: Optional[int]) -> Diarization:
        windows, region_ids, embeddings = found.windows, found.region_ids, found.embeddings
        if not windows:
            return Diarization([], {}, self.embedder.name)
        starts = np.array([w[0] for w in windows])
        clustering = cluster_windows(embeddings, starts, region_ids, min_speakers, max_speakers)
        turns = frames_to_turns(windows, clustering.labels, regions)
        order = _first_appearance(turns)
        turns = [Turn(t.start, t.end, speaker_label(order[int(t.speaker)])) for t in turns]
        vectors = {
            speaker_label(order[k]): normalise(embeddings[clustering.labels == k].mean(axis=0))
            for k in np.unique(clustering.labels) if k in order
        }
        speech = {label: 0.0 for label in vectors}
        for t in turns:
            speech[t.speaker] += t.end - t.start
        details = {"windows": len(windows), "turn_coherence": round(clustering.coherence, 3),
                   "coherence_pairs": clustering.pairs}
        return Diarization(turns, dict(sorted(vectors.items())), self.embedder.name, speech, details)


@dataclass
class SpeakerWindows:
    """Embedded speaker windows: (start, end) in recording time, the region each came from."""

    windows: list[tuple[float, float]] = field(default_factory=list)
    region_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0, 256), np.float32))

    def extend(self, other: "SpeakerWindows") -> None:
        self.windows += other.windows
        self.region_ids = np.concatenate([self.region_ids, other.region_ids])
        self.embeddings = np.concatenate([self.embeddings, other.embeddings]) if len(self.embeddings) \
            else other.embeddings


def embed_windows(embedder: SpeakerEmbedder, samples: np.ndarray, regions: list[SpeechRegion],
                  windows: list[tuple[float, float]], region_ids: np.ndarray,
                  progress: Optional[Progress] = None, batch: int = 256, offset: float = 0.0) -> np.ndarray:
    """Features region by region (one spectrogram per region serves its overlapping windows),
    then the encoder on large batches, which is where it runs fastest."""
    out = np.zeros((len(windows), embedder.dim), np.float32)
    pending: list[np.ndarray] = []
    pending_rows: list[np.ndarray] = []
    done = 0

    def flush() -> None:
        nonlocal done
        rows = np.concatenate(pending_rows)
        out[rows] = embedder.embed_features(np.concatenate(pending))
        pending.clear()
        pending_rows.clear()
        done += len(rows)
        if progress:
            progress(done / len(windows))

    order = np.argsort(region_ids, kind="stable")
    bounds = np.searchsorted(region_ids[order], np.arange(len(regions) + 1))
    for r in range(len(regions)):
        idx = order[bounds[r]:bounds[r + 1]]
        if len(idx) == 0:
            continue
        base = max(offset, windows[idx[0]][0])
        stop = max(windows[i][1] for i in idx)
        piece = samples[int((base - offset) * SAMPLE_RATE):int((stop - offset) * SAMPLE_RATE)]
        pending.append(embedder.window_features(piece, [(windows[i][0] - base, windows[i][1] - base) for i in idx]))
        pending_rows.append(idx)
        if sum(len(p) for p in pending) >= batch:
            flush()
    if pending:
        flush()
    return out


def turn_embeddings(embedder: SpeakerEmbedder, samples: np.ndarray, turns: list[Turn]) -> dict[str, np.ndarray]:
    """One L2-normalised embedding per speaker label, from windows over that speaker's turns."""
    duration = len(samples) / SAMPLE_RATE
    regions = [SpeechRegion(t.start, t.end) for t in turns]
    windows, region_ids = speaker_windows(regions, duration)
    vectors = embed_windows(embedder, samples, regions, windows, region_ids)
    out: dict[str, np.ndarray] = {}
    for label in sorted({t.speaker for t in turns}):
        rows = [i for i, r in enumerate(region_ids) if turns[r].speaker == label]
        if rows:
            out[label] = normalise(vectors[rows].mean(axis=0))
    return out


def speaker_windows(regions: list[SpeechRegion], duration: float,
                    not_before: float = 0.0) -> tuple[list[tuple[float, float]], np.ndarray]:
    """WINDOW-long windows every HOP seconds inside each region; a short region gets one window
    centred on it (borrowing a little context around it)."""
    windows: list[tuple[float, float]] = []
    ids: list[int] = []
    for r, region in enumerate(regions):
        length = region.end - region.start
        if length < 0.3:
            continue
        if length <= WINDOW:
            centre = (region.start + region.end) / 2
            start = min(max(not_before, centre - WINDOW / 2), max(not_before, duration - WINDOW))
            starts = [start]
        else:
            count = int(np.floor((length - WINDOW) / HOP)) + 1
            starts = [region.start + i * HOP for i in range(count)]
            if starts[-1] + WINDOW < region.end - 0.05:
                starts.append(region.end - WINDOW)
        for s in starts:
            windows.append((s, s + WINDOW))
            ids.append(r)
    return windows, np.array(ids, dtype=int)


def frames_to_turns(windows: list[tuple[float, float]], labels: np.ndarray,
                    regions: list[SpeechRegion]) -> list[Turn]:
    """Vote window labels onto FRAME-sized frames of speech, then read off the runs as turns.

    Votes are weighted towards a window's centre, where its embedding is most reliable.
    """
    if not regions:
        return []
    k = int(labels.max()) + 1
    end = max(r.end for r in regions)
    n = int(np.ceil(end / FRAME)) + 1
    votes = np.zeros((n, k), np.float32)
    frames_per_window = int(round(WINDOW / FRAME))
    weight = np.hanning(frames_per_window + 2)[1:-1].astype(np.float32)
    for (start, _), label in zip(windows, labels):
        a = int(round(start / FRAME))
        b = min(n, a + frames_per_window)
        votes[a:b, label] += weight[: b - a]
    frame_labels = _nearest_voted(votes)
    turns: list[Turn] = []
    for region in regions:
        a, b = int(round(region.start / FRAME)), min(n, int(round(region.end / FRAME)))
        if b <= a:
            continue
        for s, e, lab in _runs(_smooth(frame_labels[a:b], int(MIN_TURN / FRAME))):
            turns.append(Turn((a + s) * FRAME, (a + e) * FRAME, str(lab)))
    return _merge_adjacent(turns)


def _nearest_voted(votes: np.ndarray) -> np.ndarray:
    """Winning label per frame; a frame no window covered takes the nearest covered frame's."""
    covered = np.flatnonzero(votes.sum(axis=1) > 0)
    labels = np.argmax(votes, axis=1)
    if len(covered) == 0 or len(covered) == len(votes):
        return labels
    if len(covered) == 1:
        return np.full(len(votes), labels[covered[0]])
    position = np.clip(np.searchsorted(covered, np.arange(len(votes))), 1, len(covered) - 1)
    left, right = covered[position - 1], covered[position]
    nearest = np.where(np.arange(len(votes)) - left <= right - np.arange(len(votes)), left, right)
    return labels[nearest]


def _smooth(frame_labels: np.ndarray, min_len: int) -> np.ndarray:
    """Absorb runs shorter than `min_len` frames into the longer neighbouring run."""
    out = frame_labels.copy()
    changed = True
    while changed:
        changed = False
        runs = _runs(out)
        if len(runs) < 2:
            break
        for i, (s, e, lab) in enumerate(runs):
            if e - s >= min_len:
                continue
            left = runs[i - 1] if i > 0 else None
            right = runs[i + 1] if i + 1 < len(runs) else None
            neighbour = max((r for r in (left, right) if r), key=lambda r: r[1] - r[0])
            out[s:e] = neighbour[2]
            changed = True
            break
    return out


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    if len(labels) == 0:
        return []
    cuts = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(labels)]])
    return [(int(s), int(e), int(labels[s])) for s, e in zip(starts, ends)]


def _merge_adjacent(turns: list[Turn], gap: float = 0.3) -> list[Turn]:
    out: list[Turn] = []
    for t in turns:
        if out and out[-1].speaker == t.speaker and t.start - out[-1].end <= gap:
            out[-1] = Turn(out[-1].start, t.end, t.speaker)
        else:
            out.append(t)
    return out


def _first_appearance(turns: list[Turn]) -> dict[int, int]:
    order: dict[int, int] = {}
    for t in turns:
        order.setdefault(int(t.speaker), len(order))
    return order
