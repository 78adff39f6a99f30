"""The audit log: what was done to personal data (voices, transcripts), by whom and when.

Consents, enrolments, enrichments, exports, erasures, re-embeddings, retention purges, deleted sessions, merged
and renamed speakers each add
one entry in the same transaction as the change they describe, so the log never claims what did
not happen. Entries name the speaker by id only: an erasure that forgets a name leaves no name here.
"""

from __future__ import annotations

import getpass
import socket
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session as DbSession, mapped_column

from database.base import Base
from database.clock import now


class AuditEntry(Base):
    """Something done to personal data: consent, enrolment, enrichment, export, erasure, purge.
    `speaker_id` is kept as text (no foreign key): the entry outlives the speaker it names."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(100), default="default", index=True)
    at: Mapped[datetime] = mapped_column(default=now, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(30), index=True)
    speaker_id: Mapped[Optional[str]] = mapped_column(String(32), default=None, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# `delete`: a session deleted by a person (`purge`: by the retention setting); `rename` names no name
ACTIONS = ("consent", "enrol", "enrich", "export", "erase", "reembed", "purge", "delete", "restore", "merge", "rename")


def cli_actor() -> str:
    """Who runs a command: the operating-system user and the machine."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in a bare container
        user = "unknown"
    return f"cli {user}@{socket.gethostname()}"


def record(db: DbSession, workspace: str, actor: str, action: str, speaker_id: Optional[str] = None,
           **detail: Any) -> AuditEntry:
    """Add an entry to `db`; the caller commits it with the change it describes."""
    entry = AuditEntry(workspace=workspace, actor=actor[:200], action=action, speaker_id=speaker_id, detail=detail)
    db.add(entry)
    return entry


def entries(db: DbSession, workspace: str, speaker_id: Optional[str] = None, action: Optional[str] = None,
            limit: int = 100, offset: int = 0) -> tuple[list[AuditEntry], int]:
    """The newest entries first, optionally about one speaker or of one action; and how many match."""
    query = select(AuditEntry).where(AuditEntry.workspace == workspace)
    if speaker_id:
        query = query.where(AuditEntry.speaker_id == speaker_id)
    if action:
        query = query.where(AuditEntry.action == action)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset))
    return list(rows), int(total or 0)


PERSONAL = ("given_by", "name")  # detail fields that name a person


def forget(db: DbSession, speaker_id: str) -> None:
    """An erasure that forgets the name: the speaker's entries keep what was done, not who to."""
    for entry in db.scalars(select(AuditEntry).where(AuditEntry.speaker_id == speaker_id)):
        if any(key in entry.detail for key in PERSONAL):
            entry.detail = {k: v for k, v in entry.detail.items() if k not in PERSONAL}
