"""Summaries: ask for a session's summary (again), read it as JSON or Markdown, and list a
speaker's action items across sessions."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, BackgroundTasks, Depends, Query
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.orm import Session as DbSession

from api import deps
from api.schemas import ActionOut, ActionPage, SummaryOut, SummaryRequest
from jobs import summaries
from jobs.runner import JobRunner
from sessions.summaries import DONE, actions_of, owner_name, summary_document

router = APIRouter(tags=["summaries"])


@router.post("/sessions/{session_id}/summary", dependencies=deps.NEEDS["write"],
             status_code=202, response_model=SummaryOut,
             responses={200: {"model": SummaryOut, "description": "with wait=true: the summary, done or failed"}})
def ask_summary(session_id: str, background: BackgroundTasks, body: Optional[SummaryRequest] = None,
                wait: bool = Query(default=False, description="answer once the summary is written (200)"),
                jobs: JobRunner = Depends(deps.runner), db: DbSession = Depends(deps.get_db)):
    """Ask the language model (HEARBACK_LLM_URL) for the session's summary: 202 while it is
    written in the background, or 200 with it (done or failed) with `wait=true`. Asking again
    replaces a failed or an earlier summary."""
    summaries.ask(jobs.database, jobs.settings, jobs.settings.workspace, session_id, body.kind if body else None)
    if wait:
        summaries.write(jobs.database, jobs.settings, jobs.settings.workspace, session_id)
    else:
        background.add_task(summaries.write, jobs.database, jobs.settings, jobs.settings.workspace, session_id)
    document = summary_document(db, jobs.settings.workspace, session_id)
    return JSONResponse(SummaryOut.model_validate(document).model_dump(mode="json"), status_code=200 if wait else 202)


@router.get("/sessions/{session_id}/summary", dependencies=deps.NEEDS["read"], response_model=SummaryOut,
            responses={200: {"content": {"text/markdown": {}}}})
def read_summary(session_id: str, format: str = Query(default="json", pattern="^(json|md)$"),
                 db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    """The session's summary: state (pending, done, failed with its reason), and when done the
    summary with today's speaker names; `format=md` gives its Markdown."""
    document = summary_document(db, ws, session_id)
    if format == "json":
        return document
    if document["state"] != DONE:
        return JSONResponse({"detail": f"the summary is {document['state']}"
                             + (f": {document['reason']}" if document["reason"] else ""), "code": "summary_not_done"},
                            status_code=409)
    return PlainTextResponse(document["markdown"], media_type="text/markdown; charset=utf-8")


@router.get("/speakers/{speaker_id}/actions", dependencies=deps.NEEDS["read"], response_model=ActionPage)
def speaker_actions(speaker_id: str, session_id: Optional[str] = None, tag: Optional[str] = None,
                    limit: int = Query(default=50, ge=1, le=500), offset: int = Query(default=0, ge=0),
                    db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    """The action items this speaker owns, across the sessions' summaries, newest session first."""
    rows, total = actions_of(db, ws, speaker_id, session_id, tag, limit, offset)
    items = [ActionOut(session_id=s.id, session_title=s.title, tag=s.tag, recorded_at=s.recorded_at,
                       owner=owner_name(db, a), task=a.task, due=a.due, quote_start=a.quote_start) for a, s in rows]
    return ActionPage(total=total, limit=limit, offset=offset, items=items)
