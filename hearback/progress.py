"""Progress of long work: one stage vocabulary and one callback type for every caller.

The pipeline reports `(stage, fraction)` where `fraction` is the share of the whole job done
(0..1, never decreasing); the CLI draws a bar from it, the worker sends it to RunPod, the service
stores it on the job and the web page shows it in the reader's language. Stage names are the
values of `Stage`, so a translation table can cover them all (tests check that it does).
"""

from __future__ import annotations

from enum import Enum
from typing import Callable, Optional


class Stage(str, Enum):
    """What a job is doing now. The values are stable: clients and translations key on them."""

    QUEUED = "queued"
    STARTING = "starting"
    LOADING = "loading"  # the models are being loaded (the first job of a service)
    DOWNLOADING = "downloading"
    DECODING = "decoding"
    TRANSCRIBING = "transcribing"
    DIARIZING = "diarizing"
    ASSIGNING = "assigning"
    IDENTIFYING = "identifying"
    SUMMARIZING = "summarizing"
    STORING = "storing"
    REMOTE = "remote"  # running on a RunPod worker
    DONE = "done"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


Progress = Callable[[Stage, float], None]
"""`progress(stage, fraction_of_the_whole_job)`."""

StepProgress = Callable[[float], None]
"""What a stage's backend calls: the fraction of its own stage done (0..1)."""


def forward_only(progress: Optional[Progress], step: float = 0.0) -> Optional[Progress]:
    """The one throttle of progress: `progress` is called when the stage changes or the fraction
    has moved forward (by at least `step`), and never with a fraction below one it was given."""
    if progress is None:
        return None
    last: dict = {"stage": None, "fraction": -1.0}

    def report(stage: Stage | str, fraction: float) -> None:
        fraction = max(fraction, last["fraction"])
        moved = fraction - last["fraction"]
        if stage != last["stage"] or (moved >= step if step > 0 else moved > 0):
            last.update(stage=stage, fraction=fraction)
            progress(stage, fraction)

    return report


def within(progress: Optional[Progress], stage: Stage, start: float, end: float) -> StepProgress:
    """A `StepProgress` for a stage that covers `start`..`end` of the whole job."""

    def report(fraction: float) -> None:
        if progress is not None:
            progress(stage, start + (end - start) * min(max(fraction, 0.0), 1.0))

    return report


def silent(_fraction: float) -> None:
    """A `StepProgress` that reports nowhere."""
