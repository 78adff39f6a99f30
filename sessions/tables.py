"""What was said: sessions (one transcribed recording each), their clusters (a diarized speaker
inside one session) and utterances, summaries and their action items, and groups (a campaign's
players, a team: the speakers a session expects)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Optional

import numpy as np
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from database.base import Base, new_id
from database.clock import now
from database.folding import NAME_KEY_LENGTH, fold, name_key
from speakers.tables import Speaker


class Status(str, Enum):
    """Where a session's transcript, or its summary, stands: the one set of words for both."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


ENDED = (Status.DONE.value, Status.FAILED.value)  # a session in any other state is being transcribed


class Session(Base):
    """One transcribed recording: a meeting, a campaign evening."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace: Mapped[str] = mapped_column(String(100), default="default", index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    tag: Mapped[str] = mapped_column(String(200), default="", index=True)
    recorded_at: Mapped[Optional[datetime]] = mapped_column(default=None, index=True)
    language: Mapped[str] = mapped_column(String(10), default="")
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(20), default=Status.PENDING.value)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # model, timings, quality
    created_at: Mapped[datetime] = mapped_column(default=now)
    # the group the session is filed under, and the speakers it expected (ids): its participants
    group_id: Mapped[Optional[str]] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"), default=None,
                                                    index=True)
    participants: Mapped[list[str]] = mapped_column(JSON, default=list)
    clusters: Mapped[list["Cluster"]] = relationship(back_populates="session", cascade="all, delete-orphan")
    utterances: Mapped[list["Utterance"]] = relationship(back_populates="session", cascade="all, delete-orphan",
                                                         order_by="Utterance.start")


class Group(Base):
    """A named set of speakers: a campaign's players, a team. Its members are the participants of
    the sessions recorded for it."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("workspace", "name", name="uq_group_name"),
                      UniqueConstraint("workspace", "name_key", name="uq_group_name_key"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace: Mapped[str] = mapped_column(String(100), default="default", index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(NAME_KEY_LENGTH))  # as `Speaker.name_key`
    created_at: Mapped[datetime] = mapped_column(default=now)
    members: Mapped[list["GroupMember"]] = relationship(cascade="all, delete-orphan", order_by="GroupMember.added_at")

    @validates("name")
    def _keyed(self, _: str, name: str) -> str:
        self.name_key = name_key(name)
        return name


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    speaker_id: Mapped[str] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    added_at: Mapped[datetime] = mapped_column(default=now)
    speaker: Mapped[Speaker] = relationship()


ERASED = b""  # a cluster's vector once its speaker was erased: nothing left that could identify them


class Cluster(Base):
    """A diarized speaker inside one session, with its embedding (ERASED once its speaker asked to
    be forgotten) and who it was matched to."""

    __tablename__ = "clusters"
    __table_args__ = (UniqueConstraint("session_id", "label", name="uq_cluster_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(50))
    embedder: Mapped[str] = mapped_column(String(100))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    speaker_id: Mapped[Optional[str]] = mapped_column(ForeignKey("speakers.id", ondelete="SET NULL"), default=None)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    speech_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    session: Mapped[Session] = relationship(back_populates="clusters")
    speaker: Mapped[Optional[Speaker]] = relationship()

    @property
    def array(self) -> np.ndarray:
        return np.frombuffer(self.vector, dtype=np.float32)

    @property
    def erased(self) -> bool:
        return self.vector == ERASED


def _folded_text(context) -> str:
    """An utterance's `search_text` when it is inserted (by the ORM, a restore or a bulk insert)."""
    return fold(context.get_current_parameters().get("text") or "")


class Utterance(Base):
    """One segment of a session's transcript; `words` keep word, start, end and score; `search_text`
    is `text` folded for accent- and case-insensitive search (`database.folding`), filled on insert;
    `language` is the language the segment was heard in ("" when the transcript did not say)."""

    __tablename__ = "utterances"
    __table_args__ = (Index("ix_utterance_speaker_session", "speaker_id", "session_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    speaker_id: Mapped[Optional[str]] = mapped_column(ForeignKey("speakers.id", ondelete="SET NULL"), default=None)
    cluster_label: Mapped[str] = mapped_column(String(50))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    search_text: Mapped[str] = mapped_column(Text, default=_folded_text)
    language: Mapped[str] = mapped_column(String(10), default="")
    session: Mapped[Session] = relationship(back_populates="utterances")
    speaker: Mapped[Optional[Speaker]] = relationship()


class SessionSummary(Base):
    """What a language model made of a session (`hearback.summary`): pending while it is being
    written, then done (the summary's JSON) or failed (the reason, and its code for translations).
    The Markdown is rendered when it is read, with today's speaker names, like the transcript."""

    __tablename__ = "summaries"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default=Status.PENDING.value)
    kind: Mapped[str] = mapped_column(String(20), default="meeting")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str] = mapped_column(Text, default="")
    code: Mapped[str] = mapped_column(String(50), default="")
    document: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # summary, decisions, questions, recap
    model: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class ActionItem(Base):
    """An action item of a session's summary, owned by an enrolled speaker (`speaker_id`) or by a
    cluster of the session still unnamed (`cluster_label`), or by someone only named (`owner`)."""

    __tablename__ = "action_items"
    __table_args__ = (Index("ix_action_item_speaker", "speaker_id", "session_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    speaker_id: Mapped[Optional[str]] = mapped_column(ForeignKey("speakers.id", ondelete="SET NULL"), default=None)
    cluster_label: Mapped[str] = mapped_column(String(50), default="")
    owner: Mapped[str] = mapped_column(String(200), default="")  # the name when it was written
    task: Mapped[str] = mapped_column(Text)
    due: Mapped[Optional[str]] = mapped_column(String(200), default=None)
    quote_start: Mapped[float] = mapped_column(Float, default=0.0)
