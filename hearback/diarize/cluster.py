"""Group the speaker windows of one recording into speakers.

Average-linkage agglomerative clustering on cosine distance, cut where the average similarity
between two groups falls under the embedder's `same_voice` (calibrated on the tuning half of the
development set with `bench/diarization_eval.py`; README, "Diarization"). A cut at a fixed
similarity decides the speaker count by itself, one speaker included, so no separate "is there a
second voice?" test is needed; `min_speakers`/`max_speakers` move the cut when given.

Tried on the same tuning set and left out: spectral clustering with an eigen-gap count (more
speakers merged), centring on the recording's mean (one voice split in two), smoothing each
window with its neighbours (lower purity at turn changes).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from hearback.diarize.linkage import FREE, average_linkage
from hearback.vectors import unit

MAX_CLUSTER_POINTS = 2000  # linkage is quadratic in memory: longer recordings cluster a sample
# Cluster sizes are in windows' worth of speech (`weights`): a window of a short piece counts less
MIN_CLUSTER_WINDOWS = 3  # fewer windows (about 2 s of speech) is an outlier, not a speaker ...
MIN_CLUSTER_SHARE = 0.03  # ... and on long recordings, under 3 % of the speech ...
MAX_MIN_CLUSTER = 20  # ... up to 20 windows (15 s): a brief speaker of a long meeting is kept
MAX_SPEAKERS = 20


def cluster_windows(embeddings: np.ndarray, same_voice: float, min_speakers: Optional[int] = None,
                    max_speakers: Optional[int] = None, weights: Optional[np.ndarray] = None,
                    tags: Optional[np.ndarray] = None, people: Optional[np.ndarray] = None,
                    floor: float = -1.0) -> np.ndarray:
    """One speaker index (0..k-1) per window. `weights`: how much speech each window stands for,
    in full windows (a window of a short stretch of speech stands for less); a cluster's size, when
    small ones are folded, is the sum of its windows' weights. `tags`: the participant each window
    is tied to (`anchors.py`) or FREE; tied windows of one participant end in one cluster, never
    shared with another participant's, and joined by other windows only when their average cosine
    with the participant's voice (`people`, one unit row each) is at least `floor`."""
    n = len(embeddings)
    tags = np.full(n, FREE, int) if tags is None else np.asarray(tags, int)
    low = max(1, min_speakers or 1, len(np.unique(tags[tags != FREE])))
    high = max(low, min(max_speakers or MAX_SPEAKERS, n))
    if n < 2 or high == 1:
        return np.zeros(n, int)
    x = unit(embeddings)
    sample = _sample_indices(n, tags)
    if (tags == FREE).all():
        tree = linkage(x[sample], method="average", metric="cosine")
        labels = fcluster(tree, 1.0 - same_voice, criterion="distance") - 1
        found = len(np.unique(labels))
        if not low <= found <= high:
            labels = fcluster(tree, min(max(found, low), high, len(sample)), criterion="maxclust") - 1
    else:
        labels = average_linkage(x[sample], same_voice, low, high, tags[sample], people, floor)
    labels = _assign_all(x, sample, _dense(labels), tags)
    weights = np.ones(n) if weights is None else np.asarray(weights, float)
    owners = {int(labels[i]): int(tags[i]) for i in np.flatnonzero(tags != FREE)}
    return _fold_small(x, labels, weights, keep_at_least=low, owners=owners, people=people, floor=floor)


def centroids(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The unit mean of each cluster, in label order."""
    return unit(np.stack([x[labels == k].mean(axis=0) for k in range(int(labels.max()) + 1)]))


def _fold_small(x: np.ndarray, labels: np.ndarray, weights: np.ndarray, keep_at_least: int,
                owners: Optional[dict[int, int]] = None, people: Optional[np.ndarray] = None,
                floor: float = -1.0) -> np.ndarray:
    """Give the windows of clusters too small to be a speaker to the nearest larger cluster; a
    participant's cluster (`owners`: label -> person) stays whatever its size, and takes a small
    cluster only if it is close enough to the participant's voice (else the small one stays)."""
    owners = owners or {}
    ks = np.unique(labels)
    counts = np.bincount(labels, weights)[ks]
    smallest = float(np.clip(MIN_CLUSTER_SHARE * weights.sum(), MIN_CLUSTER_WINDOWS, MAX_MIN_CLUSTER))
    big = ks[counts >= smallest]
    if len(big) == len(ks) or (len(big) == 0 and not owners):
        return _dense(labels)
    keep = set(owners) | set(big) | set(ks[np.argsort(-counts)][:keep_at_least])
    kept = np.array(sorted(keep))
    means = unit(np.stack([x[labels == k].mean(axis=0) for k in kept]))
    out = labels.copy()
    for k in ks:
        if k in keep:
            continue
        members = labels == k
        allowed = np.array([c not in owners or people is None
                            or float(x[members].mean(axis=0) @ people[owners[c]]) >= floor for c in kept])
        if allowed.any():
            scores = np.where(allowed[None, :], x[members] @ means.T, -np.inf)
            out[members] = kept[np.argmax(scores, axis=1)]
    return _dense(out)


def _dense(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0..k-1 in order of first appearance."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse]


def _sample_indices(n: int, tags: np.ndarray, cap: int = MAX_CLUSTER_POINTS) -> np.ndarray:
    """Evenly spaced indices: clustering a capped sample keeps memory flat on long recordings.
    The sample keeps a window of each participant tied to any, so that each has its cluster."""
    if n <= cap:
        return np.arange(n)
    tied = [int(np.flatnonzero(tags == t)[0]) for t in np.unique(tags[tags != FREE])]
    return np.unique(np.concatenate([np.linspace(0, n - 1, cap).round().astype(int), tied]).astype(int))


def _assign_all(x: np.ndarray, sample: np.ndarray, sample_labels: np.ndarray, tags: np.ndarray) -> np.ndarray:
    """Labels for every window: a window outside the sample joins its participant's cluster when
    it is tied to one, else its nearest cluster."""
    if len(sample) == len(x):
        return sample_labels
    means = centroids(x[sample], sample_labels)
    out = np.argmax(x @ means.T, axis=1)
    for t in np.unique(tags[tags != FREE]):
        out[tags == t] = sample_labels[np.flatnonzero(tags[sample] == t)[0]]
    return out
