"""Anchoring: the voiceprints of the people a recording expects (its participants) take part in
deciding who speaks, instead of naming clusters after the fact.

A speaker window that clearly sounds like one participant (its cosine with that participant's
closest voiceprint at least ANCHOR_SCORE, and ANCHOR_MARGIN above any other participant's) is tied
to that participant. The clustering (`linkage.py`) then starts from each participant's tied
windows as one group, never merges two participants, and lets every other window merge freely;
`min_speakers`/`max_speakers` apply as without anchors. A window that matches nobody clearly
stays free, so a stranger, or an expected person the anchors missed, is still found by the
clustering. The numbers were chosen on 144 meetings of the tuning half of the development set (72
meetings, each voice enrolled from one clip and then from another: `bench/identity_eval.py --grid`;
README, "Participants and groups").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from hearback.diarize.linkage import FREE
from hearback.vectors import unit

ANCHOR_SCORE = 0.50  # raw cosines: anchoring compares windows, which are not centred (`embedders/centre.py`)
ANCHOR_MARGIN = 0.05
FIT_FLOOR = 0.30  # a free group's average cosine with a participant's voice needed to join their cluster


@dataclass(frozen=True)
class Participant:
    """An expected person: a key the caller knows them by, and their voiceprints (unit rows)."""

    key: str
    vectors: np.ndarray


def participant_scores(windows: np.ndarray, participants: Sequence[Participant]) -> np.ndarray:
    """(windows × participants): each window's cosine with each participant's closest voiceprint."""
    if not len(participants) or not len(windows):
        return np.zeros((len(windows), len(participants)), np.float32)
    x = unit(windows)
    return np.stack([(x @ unit(p.vectors).T).max(axis=1) for p in participants], axis=1)


def tie_windows(scores: np.ndarray, score: Optional[float] = None, margin: Optional[float] = None) -> np.ndarray:
    """The participant index each window is tied to, or FREE (defaults: ANCHOR_SCORE, ANCHOR_MARGIN)."""
    score = ANCHOR_SCORE if score is None else score
    margin = ANCHOR_MARGIN if margin is None else margin
    tags = np.full(len(scores), FREE, int)
    if scores.shape[1] == 0 or not len(scores):
        return tags
    order = np.argsort(-scores, axis=1)
    top = scores[np.arange(len(scores)), order[:, 0]]
    second = scores[np.arange(len(scores)), order[:, 1]] if scores.shape[1] > 1 else np.full(len(scores), -1.0)
    clear = (top >= score) & (top - second >= margin)
    tags[clear] = order[clear, 0]
    return tags


def group_owners(labels: np.ndarray, tags: np.ndarray) -> dict[int, int]:
    """Group index -> the participant its tied windows belong to (one per group at most)."""
    owners: dict[int, int] = {}
    for label, tag in zip(labels, tags):
        if tag != FREE:
            owners.setdefault(int(label), int(tag))
    return owners


def anchored_tags(windows: np.ndarray, participants: Optional[Sequence[Participant]]) -> Optional[np.ndarray]:
    """Tags for the clustering, or None when no participant is given."""
    if not participants:
        return None
    return tie_windows(participant_scores(windows, participants))


def voices(participants: Sequence[Participant]) -> Optional[np.ndarray]:
    """One unit row per participant: the mean of their voiceprints (what a group must be close to)."""
    if not participants:
        return None
    return unit(np.stack([unit(p.vectors).mean(axis=0) for p in participants]))
