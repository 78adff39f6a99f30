"""Voices and identity: speakers, their voiceprints, consents, and the change log every replica's
index follows. The database is the truth; the FAISS index is rebuilt from it at start and kept in
step on every change.

`embedder` names the model that made a vector (e.g. `campp-192`): vectors of different embedders
are never compared."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import numpy as np
from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from database.base import Base, new_id
from database.clock import now
from database.folding import NAME_KEY_LENGTH, name_key


class Speaker(Base):
    __tablename__ = "speakers"
    __table_args__ = (UniqueConstraint("workspace", "name", name="uq_speaker_name"),
                      UniqueConstraint("workspace", "name_key", name="uq_speaker_name_key"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace: Mapped[str] = mapped_column(String(100), default="default", index=True)
    name: Mapped[str] = mapped_column(String(200))
    # the name as names collide (`database.folding.name_key`): set with the name, never by hand
    name_key: Mapped[str] = mapped_column(String(NAME_KEY_LENGTH))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    # `given`: matched in recordings; `none`: no voiceprint consented yet; `unknown`: enrolled before
    # consent was recorded (migration 0006); `withdrawn`: erased. Only `given` is ever matched.
    consent: Mapped[str] = mapped_column(String(20), default="none")
    voiceprints: Mapped[list["Voiceprint"]] = relationship(back_populates="speaker", cascade="all, delete-orphan")

    @validates("name")
    def _keyed(self, _: str, name: str) -> str:
        """Every way a name is set (created, renamed, erased) sets its key too."""
        self.name_key = name_key(name)
        return name


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


class VoiceprintChange(Base):
    """A voiceprint added, moved to another speaker or removed: every replica reads these to keep
    its index in step with the database (`speakers.index_sync`)."""

    __tablename__ = "voiceprint_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    voiceprint_id: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(default=now, index=True)
