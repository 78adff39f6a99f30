"""The shapes of a summary: what the language model must answer (validated with pydantic, and
sent to the endpoint as a JSON schema so a server that supports it constrains its output), and
the summary Hearback hands out.

The model proposes; Hearback checks. The model's action items carry no time: each is tied to
the transcript line it came from (`quote_start`) by `grounding`, which also checks its owner and
its deadline against that line.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["meeting", "campaign"]


class ProposedItem(BaseModel):
    """An action item as the model wrote it: who, what, by when (the words said)."""

    owner: str
    task: str = Field(min_length=1)
    due: Optional[str]


class PieceAnswer(BaseModel):
    """The model's answer for one piece of a transcript (or the whole of a short one)."""

    summary: str = Field(min_length=1)
    decisions: list[str]
    action_items: list[ProposedItem]
    open_questions: list[str]


class CampaignPieceAnswer(PieceAnswer):
    recap: str = Field(min_length=1, description="a short recap of the session for the players")


class MergedAnswer(BaseModel):
    """The model's answer when the partial summaries of a long transcript are put together."""

    summary: str = Field(min_length=1)


class CampaignMergedAnswer(MergedAnswer):
    recap: str = Field(min_length=1)


class ActionItem(BaseModel):
    owner: str = Field(description="an enrolled speaker's name, or the cluster label (SPEAKER_01) of an unnamed one")
    task: str
    due: Optional[str] = Field(description="YYYY-MM-DD when the words said name a date, else those words; "
                                           "null when no deadline was said")
    quote_start: float = Field(description="second of the transcript where the commitment was said")
    speaker_id: Optional[str] = Field(default=None, description="the enrolled speaker who owns it, when known")


class Summary(BaseModel):
    """A session's summary, in the transcript's language."""

    model_config = ConfigDict(extra="forbid")
    language: str
    kind: Kind = "meeting"
    summary: str
    decisions: list[str]
    action_items: list[ActionItem]
    open_questions: list[str]
    recap: Optional[str] = Field(default=None, description="campaigns only: what happened, for the players")
    model: str = Field(default="", description="the language model that wrote it")
    pieces: int = Field(default=1, description="parts the transcript was summarised in (map-reduce)")


def answer_type(kind: Kind, merged: bool) -> type[BaseModel]:
    """The pydantic model the language model's answer must validate against."""
    if merged:
        return CampaignMergedAnswer if kind == "campaign" else MergedAnswer
    return CampaignPieceAnswer if kind == "campaign" else PieceAnswer
