"""Group speaker-window embeddings of one recording into speakers.

GE2E embeddings of one recording share a large common part (the channel, the room, the average
voice): two telephone speakers can sit at cosine 0.88 while halves of one studio speaker sit at
0.86. So clustering runs on embeddings centred on the recording's own mean, where the speakers
separate. Centring also turns a lone speaker's windows into noise around zero, which would split
any monologue; whether there is more than one speaker is therefore decided apart, on how
turn-like the best two-way split is: a real second speaker owns long runs of consecutive windows,
while a split of one voice by what is being said flickers. The thresholds are calibrated on the
real recordings of ../shared/audio with `bench/diarization_eval.py` (see the README).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

# Calibrated with bench/diarization_eval.py on ../shared/audio (see README, "Diarization").
SINGLE_SPEAKER_COHERENCE = 0.66
COHERENCE_LAG = 0.8  # seconds between the two windows compared: half-overlapping 1.6 s windows
MIN_COHERENCE_PAIRS = 10  # below this there is too little speech to hear a second voice
MIN_CLUSTER_SHARE = 0.05
SAME_VOICE_COSINE = 0.90  # raw-space centroids this close are one voice split by content
SAME_VOICE_COSINE_SHORT = 0.85  # the same, when a cluster has too few windows for a steady mean
SHORT_CLUSTER_WINDOWS = 20
MIN_SPLIT_WINDOWS = 5  # a voice found inside a cluster needs about 2.5 s of speech
CLEARLY_DISTINCT_COSINE = 0.70  # raw-space centroids this far apart are different people
MAX_CLUSTER_POINTS = 1500


@dataclass
class Clustering:
    labels: np.ndarray  # one int per window, 0..k-1
    coherence: float  # turn coherence of the best two-way split (1: clean turns)
    pairs: int = 0  # window pairs the coherence was measured on


def cluster_windows(
    embeddings: np.ndarray,
    starts: np.ndarray,
    region_ids: np.ndarray,
    min_speakers: Optional[int] = None,
    max_speakers: Optional[int] = None,
) -> Clustering:
    """Label each window with a speaker index, honouring the speaker-count bounds.

    `starts` are the windows' start times and `region_ids` the VAD region each came from: windows
    COHERENCE_LAG apart in one region are the pairs whose agreement measures turn coherence.
    """
    n = len(embeddings)
    if n == 0:
        return Clustering(np.zeros(0, int), 1.0)
    low = max(1, min_speakers or 1)
    high = max(low, min(max_speakers or 8, n))
    if n < 2 or high == 1:
        return Clustering(np.zeros(n, int), 1.0)

    centred = _centre(embeddings)
    sample = _sample_indices(n)
    tree = linkage(centred[sample], method="average", metric="cosine")

    def labels_for(k: int) -> np.ndarray:
        sample_labels = fcluster(tree, k, criterion="maxclust") - 1
        return _assign_all(centred, sample, sample_labels)

    two_way = labels_for(2)
    coherence, pairs = turn_coherence(two_way, starts, region_ids)
    if low == 1 and (pairs < MIN_COHERENCE_PAIRS or coherence < SINGLE_SPEAKER_COHERENCE):
        return Clustering(np.zeros(n, int), coherence, pairs)
    fixed = low == high
    best = _best_k(embeddings, centred, labels_for, max(2, low), high, fixed)
    labels = _drop_small(centred, best, keep_at_least=max(low, 2))
    if not fixed:
        labels = _split_mixed(embeddings, labels, high)
    return Clustering(_merge_same_voice(embeddings, labels, keep_at_least=low), coherence, pairs)


def turn_coherence(labels: np.ndarray, starts: np.ndarray, region_ids: np.ndarray,
                   lag: float = COHERENCE_LAG) -> tuple[float, int]:
    """Cohen's kappa of label agreement between windows `lag` seconds apart in one speech region,
    and the number of such pairs."""
    later = np.searchsorted(starts, starts + lag - 1e-3)
    ok = later < len(starts)
    first, second = np.flatnonzero(ok), later[ok]
    keep = (region_ids[second] == region_ids[first]) & (np.abs(starts[second] - starts[first] - lag) < 0.05)
    first, second = first[keep], second[keep]
    if len(first) == 0:
        return 0.0, 0
    agree = float(np.mean(labels[first] == labels[second]))
    shares = np.bincount(labels) / len(labels)
    chance = float(np.sum(shares ** 2))
    kappa = 1.0 if chance >= 1.0 else (agree - chance) / (1.0 - chance)
    return kappa, len(first)


def _best_k(embeddings: np.ndarray, centred: np.ndarray, labels_for, low: int, high: int,
            fixed: bool) -> np.ndarray:
    """Going up from `low` speakers, keep splitting while the split is worth it.

    A further split is kept when it separates the windows at least as well as the last one
    (silhouette), or when every cluster it leaves is a clearly different voice in the raw space
    (all centroid cosines under CLEARLY_DISTINCT_COSINE): the silhouette alone undervalues a
    speaker who talks briefly. Either way the new clusters must hold MIN_CLUSTER_SHARE of the
    windows, so peeling off a few outlier windows never counts as a new speaker.
    """
    best = labels_for(low)
    if fixed:
        return best
    best_score = _silhouette(centred, best)
    for k in range(low + 1, high + 1):
        labels = labels_for(k)
        counts = np.bincount(labels)
        if len(counts) < k or counts.min() < MIN_CLUSTER_SHARE * len(labels):
            break
        score = _silhouette(centred, labels)
        if score < best_score and _closest_pair(embeddings, labels) >= CLEARLY_DISTINCT_COSINE:
            break
        best, best_score = labels, max(score, best_score)
    return best


def _split_mixed(embeddings: np.ndarray, labels: np.ndarray, high: int) -> np.ndarray:
    """Ask each cluster on its own whether it holds a second, clearly different voice.

    Centring on the whole recording lets loud differences (a studio voice against a telephone
    line) hide others (a brief speaker lumped with a telephone line); centred on its own mean, a
    cluster shows them. A split is kept only when its halves are clearly different voices in the
    raw space: a looser test (turn-like halves under the same-voice bar) split one voice in two
    on hour-long recordings.
    """
    labels = labels.copy()
    queue = list(np.unique(labels))
    while queue and len(np.unique(labels)) < high:
        k = queue.pop(0)
        members = np.flatnonzero(labels == k)
        if len(members) < 2 * MIN_SPLIT_WINDOWS:
            continue
        local = _centre(embeddings[members])
        sample = _sample_indices(len(members))
        halves = _assign_all(local, sample, fcluster(linkage(local[sample], "average", "cosine"), 2, "maxclust") - 1)
        if np.bincount(halves, minlength=2).min() < MIN_SPLIT_WINDOWS:
            continue
        a = _unit(embeddings[members[halves == 0]].mean(axis=0))
        b = _unit(embeddings[members[halves == 1]].mean(axis=0))
        if float(a @ b) < CLEARLY_DISTINCT_COSINE:
            new = labels.max() + 1
            labels[members[halves == 1]] = new
            queue += [k, new]
    return labels


def _closest_pair(embeddings: np.ndarray, labels: np.ndarray) -> float:
    """Highest cosine between the raw mean embeddings of two clusters."""
    centroids = np.stack([_unit(embeddings[labels == k].mean(axis=0)) for k in np.unique(labels)])
    sims = centroids @ centroids.T
    np.fill_diagonal(sims, -1.0)
    return float(sims.max())


def _silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette on cosine distance, on at most 1000 points (it is quadratic)."""
    idx = _sample_indices(len(x), 1000)
    x, labels = x[idx], labels[idx]
    ks = np.unique(labels)
    if len(ks) < 2:
        return -1.0
    dist = 1.0 - x @ x.T
    mean_to = np.stack([dist[:, labels == k].mean(axis=1) for k in ks], axis=1)
    own = np.searchsorted(ks, labels)
    counts = np.array([(labels == k).sum() for k in ks])
    a = mean_to[np.arange(len(x)), own] * counts[own] / np.maximum(counts[own] - 1, 1)
    mean_to[np.arange(len(x)), own] = np.inf
    b = mean_to.min(axis=1)
    return float(np.mean((b - a) / np.maximum(np.maximum(a, b), 1e-9)))


def _drop_small(centred: np.ndarray, labels: np.ndarray, keep_at_least: int) -> np.ndarray:
    """Fold clusters holding under MIN_CLUSTER_SHARE of the windows into their nearest neighbour."""
    while True:
        ks, counts = np.unique(labels, return_counts=True)
        if len(ks) <= keep_at_least or counts.min() >= MIN_CLUSTER_SHARE * len(labels):
            break
        small = ks[np.argmin(counts)]
        centroids = {k: _unit(centred[labels == k].mean(axis=0)) for k in ks if k != small}
        members = np.where(labels == small)[0]
        keys = list(centroids)
        scores = centred[members] @ np.stack([centroids[k] for k in keys]).T
        labels[members] = np.array(keys)[np.argmax(scores, axis=1)]
    _, dense = np.unique(labels, return_inverse=True)
    return dense


def _merge_same_voice(embeddings: np.ndarray, labels: np.ndarray, keep_at_least: int) -> np.ndarray:
    """Merge clusters whose mean raw embeddings are nearly identical.

    Centring magnifies any difference, including one voice's drift across a long read; in the raw
    space the halves of one voice stay above 0.9 while the closest distinct pair measured (two
    telephone speakers) sits at 0.88. The mean of a small cluster is noisier, so two small clusters
    of one voice can fall to 0.86: below SHORT_CLUSTER_WINDOWS the bar is lower.
    """
    labels = labels.copy()
    while len(np.unique(labels)) > keep_at_least:
        ks, counts = np.unique(labels, return_counts=True)
        centroids = np.stack([_unit(embeddings[labels == k].mean(axis=0)) for k in ks])
        short = counts < SHORT_CLUSTER_WINDOWS
        bar = np.where(short[:, None] | short[None, :], SAME_VOICE_COSINE_SHORT, SAME_VOICE_COSINE)
        margin = centroids @ centroids.T - bar
        np.fill_diagonal(margin, -np.inf)
        i, j = np.unravel_index(np.argmax(margin), margin.shape)
        if margin[i, j] < 0:
            break
        labels[labels == ks[j]] = ks[i]
    _, dense = np.unique(labels, return_inverse=True)
    return dense


def _centre(embeddings: np.ndarray) -> np.ndarray:
    centred = embeddings - embeddings.mean(axis=0, keepdims=True)
    return centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-9)


def _sample_indices(n: int, cap: int = MAX_CLUSTER_POINTS) -> np.ndarray:
    """Evenly spaced indices: clustering a capped sample keeps memory flat on long recordings."""
    if n <= cap:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, cap).round().astype(int))


def _assign_all(centred: np.ndarray, sample: np.ndarray, sample_labels: np.ndarray) -> np.ndarray:
    if len(sample) == len(centred):
        return sample_labels
    ks = np.unique(sample_labels)
    centroids = np.stack([_unit(centred[sample][sample_labels == k].mean(axis=0)) for k in ks])
    return ks[np.argmax(centred @ centroids.T, axis=1)]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)
