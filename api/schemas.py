"""Request and response models of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Optional

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from hearback.summary import Summary


class Problem(BaseModel):
    detail: str
    code: Optional[str] = Field(default=None, description="the kind of problem, stable across releases "
                                "(e.g. duplicate_name, sample_too_short), for clients that word it themselves")


class SpeakerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    notes: str = ""


class SpeakerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Optional[str] = Field(default=None, min_length=1, max_length=200)
    notes: Optional[str] = None


class SpeakerOut(BaseModel):
    id: str
    name: str
    notes: str
    created_at: datetime
    voiceprints: int = 0
    talk_seconds: float = 0.0


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_id: str = Field(description="speaker folded into the target and removed")


class VoiceprintOut(BaseModel):
    id: int
    embedder: str = Field(description="the embedder that made the voiceprint, e.g. resemblyzer-ge2e-256")
    model: str = Field(description="the same as `embedder` (the name clients of 0.1 read)")
    dimension: int
    source: str
    speech_seconds: float
    created_at: datetime


class EnrolmentOut(BaseModel):
    speaker: SpeakerOut
    voiceprint: VoiceprintOut
    speech_seconds: float
    warnings: list[str]


class EnrolUrl(BaseModel):
    model_config = ConfigDict(extra="forbid")
    audio_url: str


class IdentifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    embedder: str = Field(validation_alias=AliasChoices("embedder", "model"),
                          description="the embedder that made the vectors, e.g. resemblyzer-ge2e-256 "
                                      "(also accepted as `model`, as a RunPod worker's output calls it)")
    embeddings: dict[str, list[float]] = Field(description="cluster label -> embedding")
    threshold: Optional[float] = Field(default=None, ge=0.0, le=1.0)


class IdentifiedCluster(BaseModel):
    label: str
    name: Optional[str]
    speaker_id: Optional[str]
    score: float


class IdentifyResponse(BaseModel):
    embedder: str
    model: str = Field(description="the same as `embedder` (the name clients of 0.1 read)")
    threshold: float
    speakers: list[IdentifiedCluster]


class JobOut(BaseModel):
    id: str
    state: Literal["queued", "running", "done", "failed"]
    stage: str
    progress: float
    error: str
    session_id: Optional[str]
    created_at: datetime
    updated_at: datetime
    finished_at: Optional[datetime]
    result_url: Optional[str] = None
    webhook_attempts: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []


class SessionOut(BaseModel):
    id: str
    title: str
    tag: str
    recorded_at: Optional[datetime]
    language: str
    duration: float
    status: str
    created_at: datetime


class SessionList(BaseModel):
    total: int
    items: list[SessionOut]


class NameCluster(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speaker_id: Optional[str] = None
    name: Optional[str] = Field(default=None, min_length=1, max_length=200)


class UtteranceOut(BaseModel):
    session_id: str
    session_title: str
    tag: str
    recorded_at: Optional[datetime]
    start: float
    end: float
    text: str


class HistoryPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[UtteranceOut]


class TalkTimeOut(BaseModel):
    session_id: str
    title: str
    tag: str
    seconds: float
    utterances: int


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(default="", max_length=300)


class UploadFormOut(BaseModel):
    url: str
    fields: dict[str, str]
    audio_url: str = Field(description="give this as the transcription's audio_url")
    expires_in: int
    max_bytes: int


class SummaryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Optional[Literal["meeting", "campaign"]] = Field(
        default=None, description="campaign: with a recap for the players; default: campaign when the session's tag "
                                  "contains 'campagne' or 'campaign', else meeting")


class SummaryOut(BaseModel):
    session_id: str
    state: Literal["pending", "done", "failed"]
    kind: str
    progress: float
    reason: Optional[str] = Field(description="why it failed (ask again with POST once the cause is fixed)")
    code: Optional[str] = Field(description="the kind of failure: llm_unreachable, llm_timeout, llm_refused, "
                                            "llm_invalid_output, ...")
    model: Optional[str]
    created_at: datetime
    updated_at: datetime
    summary: Optional[Summary] = Field(description="when done: summary, decisions, action items, open questions")
    markdown: Optional[str]


class ActionOut(BaseModel):
    session_id: str
    session_title: str
    tag: str
    recorded_at: Optional[datetime]
    owner: str
    task: str
    due: Optional[str]
    quote_start: float


class ActionPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ActionOut]
