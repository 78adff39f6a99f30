"""What every diarization backend shares: the recording's source and the speakers' labels (a leaf
module, so that the backends never import the package that loads them)."""

from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np

Source = Union[Path, np.ndarray, None]  # the recording's file, or its samples when held in memory


def speaker_label(index: int) -> str:
    return f"SPEAKER_{index:02d}"
