"""The service's database: SQLAlchemy 2 models of speakers, voiceprints, sessions (transcribed
recordings), their clusters and utterances, and transcription jobs. The database is the truth;
the FAISS index is rebuilt from it at start and kept in step on every change.

`embedder` names the model that made a vector (e.g. `resemblyzer-ge2e-256`): vectors of different
embedders are never compared."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Optional

import numpy as np
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from speakers.clock import now
from speakers.folding import fold


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class Speaker(Base):
    __tablename__ = "speakers"
    __table_args__ = (UniqueConstraint("workspace", "name", name="uq_speaker_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace: Mapped[str] = mapped_column(String(100), default="default", index=True)
    name: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    # `given`: matched in recordings; `none`: no voiceprint consented yet; `unknown`: enrolled before
    # consent was recorded (migration 0006); `withdrawn`: erased. Only `given` is ever matched.
    consent: Mapped[str] = mapped_column(String(20), default="none")
    voiceprints: Mapped[list["Voiceprint"]] = relationship(back_populates="speaker", cascade="all, delete-orphan")


class Voiceprint(Base):
    """One stored embedding of a speaker's voice (unit length, float32 bytes)."""

    __tablename__ = "voiceprints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    speaker_id: Mapped[str] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"), index=True)
    embedder: Mapped[str] = mapped_column(String(100), index=True)
    dimension: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(500), default="")
    speech_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=now)
    # `enrolment` (a sample), `named` (a cluster a person named): person-provided anchors;
    # `enriched`: added automatically from a cluster identified with a large margin.
    origin: Mapped[str] = mapped_column(String(20), default="enrolment")
    quality: Mapped[float] = mapped_column(Float, default=0.0)
    audio_key: Mapped[str] = mapped_column(String(300), default="")  # kept enrolment audio (speakers.voice_audio)
    consent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("consents.id", ondelete="SET NULL"), default=None)
    speaker: Mapped[Speaker] = relationship(back_populates="voiceprints")

    @property
    def array(self) -> np.ndarray:
        return np.frombuffer(self.vector, dtype=np.float32)


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
    status: Mapped[str] = mapped_column(String(20), default="pending")
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
    __table_args__ = (UniqueConstraint("workspace", "name", name="uq_group_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace: Mapped[str] = mapped_column(String(100), default="default", index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)
    members: Mapped[list["GroupMember"]] = relationship(cascade="all, delete-orphan", order_by="GroupMember.added_at")


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    speaker_id: Mapped[str] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    added_at: Mapped[datetime] = mapped_column(default=now)
    speaker: Mapped[Speaker] = relationship()


class Cluster(Base):
    """A diarized speaker inside one session, with its embedding and who it was matched to."""

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


def _folded_text(context) -> str:
    """An utterance's `search_text` when it is inserted (by the ORM, a restore or a bulk insert)."""
    return fold(context.get_current_parameters().get("text") or "")


class Utterance(Base):
    """One segment of a session's transcript; `words` keep word, start, end and score; `search_text`
    is `text` folded for accent- and case-insensitive search (`speakers.folding`), filled on insert;
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


class Job(Base):
    """A transcription job of the service: state, progress, request, result."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace: Mapped[str] = mapped_column(String(100), default="default")
    session_id: Mapped[Optional[str]] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"), default=None)
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    stage: Mapped[str] = mapped_column(String(50), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")
    # the error's `code` and `details` (hearback.errors), so that a page can word it in its language
    error_code: Mapped[str] = mapped_column(String(50), default="")
    error_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    audio_path: Mapped[str] = mapped_column(String(1000), default="")
    webhook_url: Mapped[str] = mapped_column(String(2000), default="")
    webhook_attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    audio_expires_at: Mapped[Optional[datetime]] = mapped_column(default=None, index=True)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # audio kept/deleted, ...
    webhook_state: Mapped[str] = mapped_column(String(20), default="")  # jobs.store: "", "sending:<t>", "sent", "failed"
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    finished_at: Mapped[Optional[datetime]] = mapped_column(default=None)


class ConsentRecord(Base):
    """Who consented to a speaker's voiceprint, when, how (`upload`, `recording`, `url`, `cli`,
    `named`, `enrichment`, `attested`) and an optional note; `recorded_by` is who entered it."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    speaker_id: Mapped[str] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"), index=True)
    given_by: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    withdrawn_at: Mapped[Optional[datetime]] = mapped_column(default=None)


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


class VoiceprintChange(Base):
    """A voiceprint added, moved to another speaker or removed: every replica reads these to keep
    its index in step with the database (`speakers.index_sync`)."""

    __tablename__ = "voiceprint_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    voiceprint_id: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(default=now, index=True)


class Login(Base):
    """A web login: the SHA-256 of its random token (the cookie holds the token), until it expires
    or its owner logs out. `key_digest` ties it to the API key it was opened with."""

    __tablename__ = "logins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SessionSummary(Base):
    """What a language model made of a session (`hearback.summary`): pending while it is being
    written, then done (the summary's JSON) or failed (the reason, and its code for translations).
    The Markdown is rendered when it is read, with today's speaker names, like the transcript."""

    __tablename__ = "summaries"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")
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
