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
    field: Optional[str] = Field(default=None, description="the request's field to correct, when one is at fault "
                                 "(e.g. audio_url, webhook_url)")


class Page(BaseModel):
    """Where a page of a list starts and how long it is: no list is ever sent whole (issue 25: a
    list of 20,000 speakers was 26 MB)."""

    limit: int = Field(default=50, ge=1, le=200, description="at most this many items (200 at most)")
    offset: int = Field(default=0, ge=0, description="items skipped: the next page starts at offset + limit")


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
    consent: str = Field(default="none", description="given (matched in recordings), none (no voiceprint yet), "
                         "unknown (enrolled before consent was recorded: not matched until it is), withdrawn (erased)")
    stale_voiceprints: Optional[int] = Field(default=None, description="voiceprints of another embedder than the "
                                             "running one: never compared; re-embed them or enrol again")
    needs_reenrolment: Optional[bool] = Field(default=None, description="true when the speaker has voiceprints but "
                                              "none of the running embedder: it cannot be recognised now")


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
    origin: str = Field(default="enrolment", description="enrolment or named (person-provided), enriched (automatic)")
    quality: float = Field(default=0.0, description="0-1: sqrt(min(1, speech / 20 s)) x consistency of the voice")
    current: bool = Field(default=True, description="made by the running embedder (only these are compared)")
    audio_kept: bool = Field(default=False, description="its enrolment audio is kept: it can be re-embedded")
    needs_reenrolment: bool = Field(default=False, description="of another embedder and without kept audio")


class EnrolmentOut(BaseModel):
    speaker: SpeakerOut
    voiceprint: VoiceprintOut
    speech_seconds: float
    quality: float = Field(description="0-1: sqrt(min(1, speech / 20 s)) x consistency of the voice")
    warnings: list[str]
    warning_codes: list[str] = Field(description="one stable code per warning (short_sample, several_voices)")


class ConsentFields(BaseModel):
    """The person's consent to their voice being stored and recognised: required to store a voiceprint."""

    consent: bool = Field(default=False, description="true: the person consents (a voiceprint is biometric data)")
    consent_by: str = Field(default="", max_length=200, description="who consented, when not the speaker themself")
    consent_note: str = Field(default="", max_length=2000, description="e.g. where the consent form is kept")


class EnrolUrl(ConsentFields):
    model_config = ConfigDict(extra="forbid")
    audio_url: str


class ConsentRequest(ConsentFields):
    model_config = ConfigDict(extra="forbid")


class ConsentOut(BaseModel):
    id: int
    given_by: str
    method: str
    note: str
    recorded_by: str
    created_at: datetime
    withdrawn_at: Optional[datetime]


class EraseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    forget_name: bool = Field(default=False, description="also replace the name in past transcripts, action items "
                              "and summaries by the session's neutral label (SPEAKER_01), and delete the speaker")


class ErasureOut(BaseModel):
    speaker_id: str
    voiceprints: int
    audio_files: int
    name_forgotten: bool
    clusters: int = Field(default=0, description="session clusters whose stored voice vector was voided")
    audio_errors: list[str]


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    speaker_id: Optional[str]
    detail: dict[str, Any]


class AuditPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AuditOut]


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


class ProgressStep(BaseModel):
    percent: int
    stage: str


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
    progress_trail: list[ProgressStep] = Field(
        default_factory=list, description="the last steps the progress went through, oldest first")


class SessionOut(BaseModel):
    id: str
    title: str
    tag: str
    recorded_at: Optional[datetime]
    language: str
    duration: float
    status: str
    created_at: datetime
    group_id: Optional[str] = None
    participants: list[str] = Field(default_factory=list, description="ids of the speakers the session expected")


class SessionList(BaseModel):
    total: int
    items: list[SessionOut]


class NameCluster(ConsentFields):
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
    date: datetime  # when the session was recorded (else stored)


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


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    members: list[str] = Field(default_factory=list, max_length=20,
                               description="speaker ids or names (each must be enrolled)")


class GroupRename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class GroupMembers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    members: list[str] = Field(min_length=1, max_length=20, description="speaker ids or names")


class MemberOut(BaseModel):
    id: str
    name: str
    consent: str
    history_url: str = Field(description="the member's utterances across sessions")


class GroupOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    members: list[MemberOut]


class GroupList(BaseModel):
    total: int
    items: list[GroupOut]


class MemberTalkOut(BaseModel):
    speaker_id: str
    name: str
    seconds: float


class GroupSessionOut(BaseModel):
    session: SessionOut
    talk: list[MemberTalkOut] = Field(description="each member's talk time in the session (0 when absent)")


class GroupSessions(BaseModel):
    total: int
    items: list[GroupSessionOut]
