"""Sessions (transcribed recordings): list by tag, read the transcript, name a cluster after the fact."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Query

from api.deps import service
from api.routers.speakers import speaker_out
from api.schemas import NameCluster, SessionList, SessionOut, SpeakerOut
from speakers.service import SpeakerService

router = APIRouter(prefix="/sessions", tags=["sessions"])


def session_out(s) -> SessionOut:
    return SessionOut(id=s.id, title=s.title, tag=s.tag, recorded_at=s.recorded_at, language=s.language,
                      duration=s.duration, status=s.status, created_at=s.created_at)


@router.get("", response_model=SessionList)
def list_sessions(tag: Optional[str] = None, limit: int = Query(default=50, ge=1, le=500),
                  offset: int = Query(default=0, ge=0), svc: SpeakerService = Depends(service)):
    rows, total = svc.list_sessions(tag, limit, offset)
    return SessionList(total=total, items=[session_out(s) for s in rows])


@router.get("/{session_id}/transcript")
def transcript(session_id: str, svc: SpeakerService = Depends(service)):
    return svc.transcript(session_id)


@router.post("/{session_id}/clusters/{label}/name", response_model=SpeakerOut)
def name_cluster(session_id: str, label: str, body: NameCluster, svc: SpeakerService = Depends(service)):
    """Give cluster `label` (e.g. SPEAKER_01) to an existing speaker (`speaker_id`) or a new one
    (`name`): its embedding becomes a voiceprint and the session's utterances are relabelled."""
    return speaker_out(svc.name_cluster(session_id, label, body.speaker_id, body.name))
