"""Hearback: transcripts with word timestamps, speakers, and voices remembered across recordings.

The names below load on first use (module `__getattr__`), so `import hearback.errors` or
`hearback.settings` does not load the pipeline, its models' libraries or scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_HOMES = {"Options": "hearback.pipeline", "Pipeline": "hearback.pipeline", "Segment": "hearback.result",
          "Transcript": "hearback.result", "Word": "hearback.result", "Settings": "hearback.settings"}
__all__ = [*_HOMES, "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'hearback' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
