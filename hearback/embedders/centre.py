"""The mean speaker vector of an embedder, taken out before a cluster is compared with voiceprints.

CAM++ vectors of different voices share a common part: the mean of the tuning half's speaker
windows (some fifteen voices in five conditions) has a length of 0.34, and the test half's windows,
other voices, point the same way (cosine 0.71 between the two means). Two different voices thus
score above zero, and a voice heard through a phone line or a codec loses its own part first.
Speaker verification removes its training data's mean before the cosine; doing the same with the
tuning half's mean named more of the enrolled speech at a threshold that still names no stranger's
cluster (README, "Participants and groups"). Only naming is centred: the diarization's windows, anchors and
clustering compare raw vectors, as they were calibrated.

The mean is kept as `<embedder name>.centre.npy` beside this module, made by
`python bench/identity_eval.py --half tune --centre`; an embedder without one compares raw vectors.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np

from hearback.vectors import unit

HERE = Path(__file__).resolve().parent


def centre_path(embedder: str) -> Path:
    return HERE / f"{embedder}.centre.npy"


@lru_cache(maxsize=None)
def centre(embedder: str) -> Optional[np.ndarray]:
    """`embedder`'s mean vector, or None where none was measured."""
    path = centre_path(embedder)
    return np.load(path).astype(np.float32) if path.is_file() else None


def comparable(vectors, embedder: str) -> np.ndarray:
    """Unit vectors (a vector or rows) as names are compared: `embedder`'s mean taken out, then
    scaled to length 1 again; cosine between them is a naming score."""
    m = unit(vectors)
    mean = centre(embedder)
    return m if mean is None else unit(m - mean)
