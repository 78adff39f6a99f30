"""A summary that may fail without failing anything else: `attempt` gives an `Outcome`, done or
failed with its reason, for callers that must go on (the worker, `transcribe --summary`, jobs)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Optional

from hearback.errors import HearbackError
from hearback.progress import StepProgress, silent
from hearback.result import Transcript
from hearback.settings import Settings
from hearback.summary.markdown import render
from hearback.summary.schema import Summary
from hearback.summary.summarize import SummaryContext, summarize

log = logging.getLogger(__name__)
DONE, FAILED = "done", "failed"


@dataclass
class Outcome:
    state: str
    summary: Optional[Summary] = None
    reason: str = ""
    code: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The summary's JSON shape in a transcript, a worker's output and a webhook."""
        if self.summary is None:
            return {"state": self.state, "reason": self.reason, "code": self.code}
        return {"state": self.state, "summary": self.summary.model_dump(), "markdown": render(self.summary),
                "seconds": round(self.seconds, 2)}


def attempt(transcript: Transcript, settings: Settings, context: Optional[SummaryContext] = None,
            progress: StepProgress = silent) -> Outcome:
    started = time.perf_counter()
    try:
        summary = summarize(transcript, settings, context, progress)
    except HearbackError as exc:
        log.info("summary failed: %s", exc)
        return Outcome(FAILED, reason=str(exc), code=exc.code, seconds=time.perf_counter() - started)
    except Exception as exc:  # a bug: the transcript it was about must not suffer for it
        log.exception("summary failed")
        return Outcome(FAILED, reason=f"internal error ({type(exc).__name__}); the log has the details",
                       code="internal", seconds=time.perf_counter() - started)
    return Outcome(DONE, summary, seconds=time.perf_counter() - started)
