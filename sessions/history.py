"""What a speaker said across sessions, and how long they spoke in each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from database.folding import fold
from sessions.tables import Session, Utterance
from speakers.roster import get_speaker


@dataclass
class HistoryFilter:
    session_id: Optional[str] = None
    tag: Optional[str] = None
    since: Optional[datetime] = None
    until: Optional[datetime] = None
    text: Optional[str] = None  # words to look for, case- and accent-insensitive (`database.folding`)


@dataclass
class TalkTime:
    session_id: str
    title: str
    tag: str
    seconds: float
    utterances: int
    date: datetime  # when the session was recorded (else stored)


def history(db: DbSession, workspace: str, speaker_id: Optional[str], where: HistoryFilter = HistoryFilter(),
            limit: int = 50, offset: int = 0) -> tuple[list[tuple[Utterance, Session]], int]:
    """A page of the speaker's utterances (everyone's, named or not, when `speaker_id` is None),
    oldest session first, and how many there are in all."""
    query = (select(Utterance, Session).join(Session, Utterance.session_id == Session.id)
             .where(Session.workspace == workspace))
    if speaker_id is not None:
        get_speaker(db, workspace, speaker_id)
        query = query.where(Utterance.speaker_id == speaker_id)
    if where.session_id:
        query = query.where(Session.id == where.session_id)
    if where.tag:
        query = query.where(Session.tag == where.tag)
    when = func.coalesce(Session.recorded_at, Session.created_at)
    if where.since:
        query = query.where(when >= where.since)
    if where.until:
        query = query.where(when <= where.until)
    if where.text:
        # the folded column, not lower(): SQLite's lower() leaves "É" alone, PostgreSQL's keeps accents
        query = query.where(Utterance.search_text.contains(fold(where.text), autoescape=True))
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.execute(query.order_by(when, Utterance.start).limit(limit).offset(offset)).all()
    return [(u, s) for u, s in rows], int(total or 0)


def talk_time(db: DbSession, workspace: str, speaker_id: str, limit: Optional[int] = None,
              offset: int = 0, newest_first: bool = False) -> tuple[list[TalkTime], int]:
    """The speaker's talk time per session (a page of sessions, by session id, or the newest first
    as a person's page lists them) and how many sessions."""
    get_speaker(db, workspace, speaker_id)
    total = db.scalar(select(func.count(func.distinct(Utterance.session_id))).where(Utterance.speaker_id == speaker_id))
    date = func.coalesce(Session.recorded_at, Session.created_at)
    rows = db.execute(
        select(Session.id, Session.title, Session.tag, func.sum(Utterance.end - Utterance.start), func.count(),
               Session.recorded_at, Session.created_at)
        .join(Utterance, Utterance.session_id == Session.id)
        .where(Utterance.speaker_id == speaker_id)
        .group_by(Session.id, Session.title, Session.tag, Session.recorded_at, Session.created_at)
        .order_by(*((date.desc(), Session.id) if newest_first else (Session.id,))).limit(limit).offset(offset)).all()
    return [TalkTime(sid, title, tag, round(float(seconds or 0.0), 2), int(n), recorded or created)
            for sid, title, tag, seconds, n, recorded, created in rows], int(total or 0)
