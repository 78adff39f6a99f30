"""Speaker windows: fixed-length stretches of speech, each embedded on its own, and the way back
from window labels to speaker turns.

Windows lie inside the VAD's speech regions (a region shorter than a window gets one window
centred on it, borrowing a little context). Embedding works region by region, so one feature
computation serves all the overlapping windows of a region, and the encoder runs on large batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from hearback.decode import SAMPLE_RATE
from hearback.embedders import SpeakerEmbedder
from hearback.progress import StepProgress
from hearback.result import SpeechRegion, Turn
from hearback.vectors import label_runs

FRAME = 0.02  # seconds per vote frame when window labels become turns
MIN_TURN = 0.5  # a speaker run shorter than this is absorbed by its neighbours
MIN_REGION = 0.3  # shorter speech regions get no window (a click, a breath)
EMBED_BATCH = 256
MIN_PIECE = 0.5  # seconds: a region is not cut into pieces shorter than this


@dataclass
class SpeakerWindows:
    """Embedded windows of a recording: (start, end) in recording time, the speech region each
    came from, and one L2-normalised row per window. Blocks of a long recording are appended."""

    windows: list[tuple[float, float]] = field(default_factory=list)
    region_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    embeddings: Optional[np.ndarray] = None
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))  # speech each stands for, in full windows

    def extend(self, other: "SpeakerWindows") -> None:
        if not other.windows:
            return
        self.windows += other.windows
        self.region_ids = np.concatenate([self.region_ids, other.region_ids])
        self.weights = np.concatenate([self.weights, other.weights])
        self.embeddings = other.embeddings if self.embeddings is None else np.concatenate(
            [self.embeddings, other.embeddings])

    def __len__(self) -> int:
        return len(self.windows)


def speaker_windows(regions: list[SpeechRegion], duration: float, length: float, hop: float,
                    not_before: float = 0.0) -> tuple[list[tuple[float, float]], np.ndarray]:
    """`length`-second windows every `hop` seconds inside each region, and the region of each."""
    windows: list[tuple[float, float]] = []
    ids: list[int] = []
    for r, region in enumerate(regions):
        span = region.end - region.start
        if span < MIN_REGION:
            continue
        if span <= length:
            centre = (region.start + region.end) / 2
            starts = [min(max(not_before, centre - length / 2), max(not_before, duration - length))]
        else:
            starts = [region.start + i * hop for i in range(int(np.floor((span - length) / hop)) + 1)]
            if starts[-1] + length < region.end - 0.05:
                starts.append(region.end - length)
        windows += [(s, s + length) for s in starts]
        ids += [r] * len(starts)
    return windows, np.array(ids, dtype=int)


def cut_at(regions: list[SpeechRegion], changes: list[float], margin: float = MIN_PIECE) -> list[SpeechRegion]:
    """`regions` cut where segmentation heard one voice hand over to another, so that no window
    straddles two speakers; a cut closer than `margin` to a region's edge or the last cut is skipped."""
    out: list[SpeechRegion] = []
    for region in regions:
        start = region.start
        for moment in changes:
            if start + margin <= moment <= region.end - margin:
                out.append(SpeechRegion(start, moment))
                start = moment
        out.append(SpeechRegion(start, region.end))
    return out


def window_weights(regions: list[SpeechRegion], region_ids: np.ndarray, hop: float) -> np.ndarray:
    """How much speech each window stands for, in full windows: one hop of a long region, all of a
    region shorter than a hop."""
    spans = np.array([r.end - r.start for r in regions]) if regions else np.zeros(0)
    return np.minimum(spans[region_ids] / hop, 1.0) if len(region_ids) else np.zeros(0)


def embed_windows(embedder: SpeakerEmbedder, samples: np.ndarray, regions: list[SpeechRegion],
                  windows: list[tuple[float, float]], region_ids: np.ndarray,
                  progress: Optional[StepProgress] = None, offset: float = 0.0) -> np.ndarray:
    """One embedding per window; `samples` start `offset` seconds into the recording."""
    out = np.zeros((len(windows), embedder.dim), np.float32)
    pending: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    done = 0

    def flush() -> None:
        nonlocal done
        index = np.concatenate(rows)
        out[index] = embedder.embed_features(np.concatenate(pending))
        pending.clear()
        rows.clear()
        done += len(index)
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
        rows.append(idx)
        if sum(len(p) for p in pending) >= EMBED_BATCH:
            flush()
    if pending:
        flush()
    return out


def frame_labels(windows: list[tuple[float, float]], labels: np.ndarray, regions: list[SpeechRegion],
                 length: float) -> np.ndarray:
    """The speaker index of every FRAME-sized frame (-1 outside speech): window labels voted onto
    frames, weighted towards each window's centre where its embedding is most reliable, runs
    shorter than MIN_TURN absorbed by their neighbours."""
    if not regions or len(labels) == 0:
        return np.full(0, -1, int)
    k = int(labels.max()) + 1
    n = int(np.ceil(max(r.end for r in regions) / FRAME)) + 1
    votes = np.zeros((n, k), np.float32)
    per_window = int(round(length / FRAME))
    weight = np.hanning(per_window + 2)[1:-1].astype(np.float32)
    for (start, _), label in zip(windows, labels):
        a = int(round(start / FRAME))
        b = min(n, a + per_window)
        votes[a:b, label] += weight[: b - a]
    nearest = _nearest_voted(votes)
    out = np.full(n, -1, int)
    for region in regions:
        a, b = int(round(region.start / FRAME)), min(n, int(round(region.end / FRAME)))
        if b > a:
            out[a:b] = _smooth(nearest[a:b], int(MIN_TURN / FRAME))
    return out


def frames_to_turns(windows: list[tuple[float, float]], labels: np.ndarray, regions: list[SpeechRegion],
                    length: float) -> list[Turn]:
    """Turns (`Turn.speaker` is the cluster index as a string) read off `frame_labels`."""
    per_frame = frame_labels(windows, labels, regions, length)
    turns = [Turn(s * FRAME, e * FRAME, str(lab)) for s, e, lab in label_runs(per_frame) if lab >= 0]
    return merge_adjacent(turns)


def merge_adjacent(turns: list[Turn], gap: float = 0.3) -> list[Turn]:
    """Join consecutive turns of one speaker separated by less than `gap` seconds."""
    out: list[Turn] = []
    for t in sorted(turns, key=lambda t: (t.speaker, t.start)):
        if out and out[-1].speaker == t.speaker and t.start - out[-1].end <= gap:
            out[-1] = Turn(out[-1].start, max(out[-1].end, t.end), t.speaker)
        else:
            out.append(t)
    return sorted(out, key=lambda t: t.start)


def _nearest_voted(votes: np.ndarray) -> np.ndarray:
    """Winning label per frame; a frame no window covered takes the nearest covered frame's."""
    covered = np.flatnonzero(votes.sum(axis=1) > 0)
    labels = np.argmax(votes, axis=1)
    if len(covered) == 0 or len(covered) == len(votes):
        return labels
    if len(covered) == 1:
        return np.full(len(votes), labels[covered[0]])
    frames = np.arange(len(votes))
    position = np.clip(np.searchsorted(covered, frames), 1, len(covered) - 1)
    left, right = covered[position - 1], covered[position]
    return labels[np.where(frames - left <= right - frames, left, right)]


def _smooth(frame_labels: np.ndarray, min_len: int) -> np.ndarray:
    """Absorb runs shorter than `min_len` frames into the longer neighbouring run."""
    out = frame_labels.copy()
    while True:
        runs = label_runs(out)
        short = [i for i, (s, e, _) in enumerate(runs) if e - s < min_len]
        if len(runs) < 2 or not short:
            return out
        i = short[0]
        neighbours = [runs[j] for j in (i - 1, i + 1) if 0 <= j < len(runs)]
        s, e, _ = runs[i]
        out[s:e] = max(neighbours, key=lambda r: r[1] - r[0])[2]
