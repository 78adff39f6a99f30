"""A session's summary in the database: asked for (pending), then done or failed; its action items
kept per owner so that a speaker's actions can be listed across sessions.

Owners are stored by speaker id (or by the cluster label of a voice not named yet), so a rename,
a merge or a cluster named after the fact shows in the summary as it shows in the transcript.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Optional

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DbSession

from database.clock import now
from database.engine import get_owned
from hearback.errors import ConflictError, NotFoundError
from hearback.summary import ActionItem as Item, Outcome, Summary, markdown
from sessions.tables import ActionItem, Cluster, Session, SessionSummary, Status
from speakers.roster import get_speaker
from speakers.tables import Speaker

PENDING, DONE, FAILED = Status.PENDING.value, Status.DONE.value, Status.FAILED.value


def get_summary(db: DbSession, workspace: str, session_id: str) -> SessionSummary:
    get_owned(db, Session, session_id, workspace, NotFoundError(f"no session with id {session_id!r}",
                                                                "session_not_found"))
    row = db.get(SessionSummary, session_id)
    if row is None:
        raise NotFoundError("no summary was asked for this session: POST /sessions/{id}/summary", "summary_not_found")
    return row


def mark_pending(db: DbSession, workspace: str, session_id: str, kind: str, stale_after: float) -> SessionSummary:
    """Ask for a (new) summary: refused while one is being written, unless that one has given no
    sign of life for `stale_after` seconds (its replica died)."""
    session = get_owned(db, Session, session_id, workspace,
                        NotFoundError(f"no session with id {session_id!r}", "session_not_found"))
    if session.status != "done":
        raise ConflictError(f"session {session_id} has no finished transcript yet ({session.status}): "
                            "ask for its summary once it is transcribed", "transcript_not_ready")
    row = db.get(SessionSummary, session_id)
    if row is not None and row.state == PENDING and row.updated_at > now() - timedelta(seconds=stale_after):
        raise ConflictError("a summary of this session is being written: wait for it", "summary_pending")
    if row is None:
        row = SessionSummary(session_id=session_id)
        db.add(row)
    row.state, row.kind, row.progress, row.reason, row.code = PENDING, kind, 0.0, "", ""
    row.updated_at = now()
    db.commit()
    return row


def set_progress(db: DbSession, session_id: str, fraction: float) -> None:
    row = db.get(SessionSummary, session_id)
    if row is not None:
        row.progress, row.updated_at = round(fraction, 3), now()
        db.commit()


def store_outcome(db: DbSession, session_id: str, outcome: Outcome) -> SessionSummary:
    """The summary and its action items (replacing an earlier one's), or the reason it failed."""
    row = db.get(SessionSummary, session_id) or SessionSummary(session_id=session_id)
    db.add(row)
    row.updated_at, row.progress = now(), 1.0
    if outcome.summary is None:
        row.state, row.reason, row.code = FAILED, outcome.reason, outcome.code
        db.commit()
        return row
    summary = outcome.summary
    row.state, row.reason, row.code, row.model = DONE, "", "", summary.model
    row.kind, row.document = summary.kind, summary.model_dump(exclude={"action_items"})
    db.execute(delete(ActionItem).where(ActionItem.session_id == session_id))
    labels = dict(db.execute(select(Cluster.speaker_id, Cluster.label).where(Cluster.session_id == session_id,
                                                                            Cluster.speaker_id.is_not(None))).all())
    clusters = set(db.scalars(select(Cluster.label).where(Cluster.session_id == session_id)))
    for position, item in enumerate(summary.action_items):
        label = labels.get(item.speaker_id, "") if item.speaker_id else (item.owner if item.owner in clusters else "")
        db.add(ActionItem(session_id=session_id, position=position, speaker_id=_known(db, item.speaker_id),
                          cluster_label=label, owner=item.owner, task=item.task, due=item.due,
                          quote_start=item.quote_start))
    db.commit()
    return row


def summary_document(db: DbSession, workspace: str, session_id: str) -> dict[str, Any]:
    """The summary as the API, the web page and the webhook give it (plain JSON values): state,
    and when done the summary with today's owner names and its Markdown."""
    row = get_summary(db, workspace, session_id)
    out: dict[str, Any] = {"session_id": session_id, "state": row.state, "kind": row.kind, "progress": row.progress,
                           "reason": row.reason or None, "code": row.code or None, "model": row.model or None,
                           "created_at": row.created_at.isoformat(timespec="seconds"),
                           "updated_at": row.updated_at.isoformat(timespec="seconds"), "summary": None,
                           "markdown": None}
    if row.state == DONE:
        summary = Summary.model_validate({**row.document, "action_items": _items(db, session_id)})
        out.update(summary=summary.model_dump(), markdown=markdown(summary))
    return out


def maybe_document(db: DbSession, workspace: str, session_id: str) -> Optional[dict[str, Any]]:
    """`summary_document`, or None when no summary was asked for (a transcript without one)."""
    return summary_document(db, workspace, session_id) if db.get(SessionSummary, session_id) else None


def actions_of(db: DbSession, workspace: str, speaker_id: str, session_id: Optional[str] = None,
               tag: Optional[str] = None, limit: int = 50,
               offset: int = 0) -> tuple[list[tuple[ActionItem, Session]], int]:
    """A speaker's action items across sessions, newest session first."""
    speaker = get_speaker(db, workspace, speaker_id)
    query = (select(ActionItem, Session).join(Session, Session.id == ActionItem.session_id)
             .where(ActionItem.speaker_id == speaker.id, Session.workspace == workspace))
    if session_id:
        query = query.where(Session.id == session_id)
    if tag:
        query = query.where(Session.tag == tag)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    order = (Session.recorded_at.desc().nulls_last(), Session.created_at.desc(), ActionItem.position)
    rows = db.execute(query.order_by(*order).limit(limit).offset(offset)).all()
    return [(item, session) for item, session in rows], int(total or 0)


def owner_name(db: DbSession, item: ActionItem) -> str:
    """Today's name of an item's owner."""
    if item.speaker_id:
        speaker = db.get(Speaker, item.speaker_id)
        if speaker is not None:
            return speaker.name
    return item.cluster_label or item.owner


def _items(db: DbSession, session_id: str) -> list[dict[str, Any]]:
    rows = db.scalars(select(ActionItem).where(ActionItem.session_id == session_id).order_by(ActionItem.position))
    return [Item(owner=owner_name(db, r), task=r.task, due=r.due, quote_start=r.quote_start,
                 speaker_id=r.speaker_id).model_dump() for r in rows]


def _known(db: DbSession, speaker_id: Optional[str]) -> Optional[str]:
    """The id when that speaker still exists (one deleted while the summary was written is not)."""
    return speaker_id if speaker_id and db.get(Speaker, speaker_id) is not None else None

