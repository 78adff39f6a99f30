"""Average-linkage clustering on cosine similarity, with cannot-link constraints.

Windows tied to an expected person (an anchor, `anchors.py`) start grouped by person, and two
groups of different people are never merged; every other window merges freely, as in plain
average linkage. For unit vectors the average cosine between two groups is the dot product of
their sums divided by the product of their sizes, so a group is held as (sum, size) and each
merge costs one row of dot products, not a pass over every pair of windows.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

FREE = -1  # a window tied to nobody
NEVER = -np.inf  # the similarity of two groups that may not merge


def average_linkage(x: np.ndarray, threshold: float, low: int, high: int, tags: np.ndarray,
                    people: Optional[np.ndarray] = None, floor: float = -1.0) -> np.ndarray:
    """One group index per row of `x` (unit rows). Groups merge while their average cosine is at
    least `threshold`, or while there are more than `high` of them; never below `low` groups, and
    never two whose `tags` (person index, or FREE) differ and are both tied to someone. With
    `people` (one unit voice per person index), a free group joins a person's group only if its
    windows' average cosine with that person's voice is at least `floor`: a stranger close to a
    participant's windows in the recording, but not to the participant, stays apart."""
    check = _Fit(people, floor)
    seeds = _seed_groups(tags)
    sums = np.stack([x[members].sum(axis=0) for members in seeds]).astype(np.float64)
    sizes = np.array([len(m) for m in seeds], np.float64)
    group_tags = np.array([tags[m[0]] for m in seeds])
    active = np.ones(len(seeds), bool)
    sim = _similarities(sums, sizes, group_tags, np.arange(len(seeds)), check)
    np.fill_diagonal(sim, NEVER)
    best = sim.argmax(axis=1)
    count = len(seeds)
    parent = np.arange(len(seeds))
    while count > max(low, 1):
        values = np.where(active, sim[np.arange(len(sim)), best], NEVER)
        i = int(values.argmax())
        if values[i] == NEVER or (values[i] < threshold and count <= high):
            break
        j = int(best[i])
        sums[i] += sums[j]
        sizes[i] += sizes[j]
        group_tags[i] = max(group_tags[i], group_tags[j])
        active[j], parent[j] = False, i
        count -= 1
        sim[j, :] = sim[:, j] = NEVER
        row = _similarities(sums, sizes, group_tags, np.array([i]), check)[0]
        row[~active] = NEVER
        row[i] = NEVER
        sim[i, :] = sim[:, i] = row
        stale = active & ((best == i) | (best == j))
        stale[i] = True
        best[stale] = sim[stale].argmax(axis=1)
        better = active & (row > sim[np.arange(len(sim)), best])
        best[better] = i
    labels = np.empty(len(x), int)
    for g, members in enumerate(seeds):
        labels[members] = _root(parent, g)
    return labels


def _seed_groups(tags: np.ndarray) -> list[np.ndarray]:
    """All windows of one person together, every free window alone, in order of first window."""
    groups: dict[int, list[int]] = {}
    out: list[list[int]] = []
    for i, tag in enumerate(tags):
        if tag == FREE:
            out.append([i])
        elif tag in groups:
            groups[tag].append(i)
        else:
            groups[tag] = [i]
            out.append(groups[tag])
    return [np.array(m) for m in out]


class _Fit:
    """Whether a free group may join a person's group: its average cosine with their voice."""

    def __init__(self, people: Optional[np.ndarray], floor: float):
        self.people, self.floor = people, floor

    def refused(self, sums: np.ndarray, sizes: np.ndarray, tags: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """(rows × groups): True where one of the pair is a person's group and the other, free, is
        not close enough to that person."""
        if self.people is None or not len(self.people):
            return np.zeros((len(rows), len(sums)), bool)
        fit = (sums @ self.people.T) / sizes[:, None]  # each group's average cosine with each person
        free, row_free = tags == FREE, tags[rows] == FREE
        column_far = fit[:, np.clip(tags[rows], 0, None)].T < self.floor  # a column from the row's person
        row_far = fit[rows][:, np.clip(tags, 0, None)] < self.floor  # the row from the column's person
        return ((~row_free)[:, None] & free[None, :] & column_far) | (row_free[:, None] & (~free)[None, :] & row_far)


def _similarities(sums: np.ndarray, sizes: np.ndarray, tags: np.ndarray, rows: np.ndarray,
                  check: Optional[_Fit] = None) -> np.ndarray:
    """Average cosine of groups `rows` with every group; NEVER between two different people, and
    between a person and a free group too far from their voice."""
    sim = (sums[rows] @ sums.T) / np.outer(sizes[rows], sizes)
    clash = (tags[rows][:, None] != FREE) & (tags[None, :] != FREE) & (tags[rows][:, None] != tags[None, :])
    sim[clash] = NEVER
    if check is not None:
        sim[check.refused(sums, sizes, tags, rows)] = NEVER
    return sim


def _root(parent: np.ndarray, g: int) -> int:
    while parent[g] != g:
        g = int(parent[g])
    return g
