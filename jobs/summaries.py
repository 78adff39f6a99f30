"""Summaries of the service's sessions, asked for by a job (`summary: true`) or by
`POST /sessions/{id}/summary`: marked pending, written by the language model outside any
database transaction, then stored with the session, done or failed with the reason. A summary
that fails never touches its transcript, and can be asked for again.
"""

from __future__ import annotations

import logging
from typing import Optional

from sqlalchemy import select

from database.engine import Database
from hearback.errors import ConflictError, HearbackError
from hearback.summary import Outcome, Person, SummaryContext, attempt
from hearback.summary.client import check
from service.settings import Settings
from sessions.summaries import mark_pending, set_progress, store_outcome
from sessions.tables import SessionSummary, Status
from sessions.transcripts import get_session, read_transcript
from speakers.tables import Speaker

log = logging.getLogger(__name__)
STALE_TIMEOUTS = 2  # a pending summary silent for this many HEARBACK_LLM_TIMEOUTs was abandoned (its replica died)


def ask(database: Database, settings: Settings, workspace: str, session_id: str, kind: Optional[str] = None) -> str:
    """Mark the session's summary pending, after checking it can be written; returns its kind.
    Raises when it cannot: no endpoint configured, no transcript yet, one already being written."""
    check(settings)
    with database.open() as db:
        kind = kind or SummaryContext(tag=get_session(db, workspace, session_id).tag).session_kind
        mark_pending(db, workspace, session_id, kind, STALE_TIMEOUTS * settings.llm_timeout)
    return kind


def write(database: Database, settings: Settings, workspace: str, session_id: str) -> Outcome:
    """Write the pending summary and store how it went. Never raises: the reason is stored."""
    try:
        with database.open() as db:
            session, transcript = read_transcript(db, workspace, session_id)
            pending = db.get(SessionSummary, session_id)
            enrolled = db.scalars(select(Speaker).where(Speaker.workspace == workspace)).all()
            context = SummaryContext(session.title, session.tag,
                                     session.recorded_at.date() if session.recorded_at else None,
                                     pending.kind if pending else None, [Person(s.name, s.id) for s in enrolled])
        outcome = attempt(transcript, settings, context, _progress(database, session_id))
    except Exception as exc:  # the database failed us: say so on the summary, not on the transcript
        log.exception("summary of session %s failed", session_id)
        outcome = Outcome(Status.FAILED.value, reason=f"internal error ({type(exc).__name__}); the service log has the details",
                          code="internal")
    try:
        with database.open() as db:
            store_outcome(db, session_id, outcome)
    except Exception:  # e.g. the session was deleted meanwhile: nothing left to attach the summary to
        log.exception("the summary of session %s could not be stored", session_id)
    log.info("summary of session %s %s in %.1f s%s", session_id, outcome.state, outcome.seconds,
             f": {outcome.reason}" if outcome.reason else "")
    return outcome


def _progress(database: Database, session_id: str):
    def report(fraction: float) -> None:
        with database.open() as db:
            set_progress(db, session_id, fraction)

    return report


def after_transcript(database: Database, settings: Settings, workspace: str, session_id: str) -> None:
    """A job's `summary: true`, once its transcript is stored. Never raises: a summary that cannot
    even start is stored as failed (unless another run of the job is writing it)."""
    try:
        ask(database, settings, workspace, session_id)
    except ConflictError:
        return
    except HearbackError as exc:
        with database.open() as db:
            store_outcome(db, session_id, Outcome(Status.FAILED.value, reason=str(exc), code=exc.code))
        return
    write(database, settings, workspace, session_id)
