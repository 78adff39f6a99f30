"""The audit log: consents, enrolments, enrichments, exports, erasures and purges, newest first."""

from __future__ import annotations

from typing import Literal, Optional

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session as DbSession

from api import deps
from api.schemas import AuditOut, AuditPage
from database import audit

router = APIRouter(prefix="/audit", tags=["privacy"])
Action = Literal[audit.ACTIONS]


@router.get("", dependencies=deps.NEEDS["admin"], response_model=AuditPage)
def audit_log(speaker_id: Optional[str] = None, action: Optional[Action] = None,
              limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0),
              db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    """Who did what to whose data, and when; filter by speaker id or by action."""
    rows, total = audit.entries(db, ws, speaker_id, action, limit, offset)
    return AuditPage(total=total, limit=limit, offset=offset, items=[
        AuditOut(id=e.id, at=e.at, actor=e.actor, action=e.action, speaker_id=e.speaker_id, detail=e.detail or {})
        for e in rows])
