"""Sessions (transcribed recordings): list by tag and date, read the transcript, name a cluster after
the fact, delete one (with its audio, utterances and summary; written to the audit log)."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session as DbSession

from api import deps
from api.routers.speakers import running, speaker_out
from api.schemas import NameCluster, SessionList, SessionOut, SpeakerOut
from jobs.retention import delete_session
from jobs.runner import JobRunner
from sessions import people, transcripts
from speakers.consent import Consent
from speakers.matching import Matcher

router = APIRouter(prefix="/sessions", tags=["sessions"])


def session_out(s) -> SessionOut:
    return SessionOut(id=s.id, title=s.title, tag=s.tag, recorded_at=s.recorded_at, language=s.language,
                      duration=s.duration, status=s.status, created_at=s.created_at, group_id=s.group_id,
                      participants=list(s.participants or []))


@router.get("", dependencies=deps.NEEDS["read"], response_model=SessionList)
def list_sessions(tag: Optional[str] = None, limit: int = Query(default=50, ge=1, le=500),
                  offset: int = Query(default=0, ge=0),
                  since: Optional[datetime] = Query(default=None, description="recorded (or transcribed) at or after"),
                  until: Optional[datetime] = Query(default=None, description="recorded (or transcribed) at or before"),
                  db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    rows, total = transcripts.list_sessions(db, ws, tag, limit, offset, since=since, until=until)
    return SessionList(total=total, items=[session_out(s) for s in rows])


@router.get("/{session_id}/transcript", dependencies=deps.NEEDS["read"])
def transcript(session_id: str, db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    return transcripts.transcript_document(db, ws, session_id)


@router.post("/{session_id}/clusters/{label}/name", dependencies=deps.NEEDS["biometric"], response_model=SpeakerOut)
def name_cluster(session_id: str, label: str, body: NameCluster, db: DbSession = Depends(deps.get_db),
                 matcher: Matcher = Depends(deps.matcher), ws: str = Depends(deps.workspace),
                 actor: str = Depends(deps.actor), embedder: str = Depends(running)):
    """Give cluster `label` (e.g. SPEAKER_01) to an existing speaker (`speaker_id`) or a new one
    (`name`): its embedding becomes a voiceprint (so `"consent": true` is required) and the
    session's utterances are relabelled."""
    given = Consent(body.consent, "named", body.consent_by, body.consent_note, actor)
    speaker = transcripts.name_cluster(db, matcher, ws, session_id, label, body.speaker_id, body.name, given)
    return speaker_out(people.summary(db, ws, speaker.id, embedder))


@router.delete("/{session_id}", dependencies=deps.NEEDS["write"], status_code=204)
def delete(session_id: str, request: Request, jobs: JobRunner = Depends(deps.runner)):
    """The session with its transcript, clusters, summary, jobs and kept audio; 409 while it is
    being transcribed. Written to the audit log (action `delete`)."""
    delete_session(jobs.database, jobs.storage, jobs.settings.workspace, session_id, deps.actor(request))
    return Response(status_code=204)
