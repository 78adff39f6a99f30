"""The transcript and the values passed between stages.

Small dataclasses only; `Transcript.to_dict()` produces the documented JSON shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional, Sequence

import numpy as np


@dataclass
class Word:
    word: str
    start: float
    end: float
    probability: float = 1.0
    speaker: Optional[str] = None

    def shifted(self, seconds: float) -> "Word":
        return Word(self.word, self.start + seconds, self.end + seconds, self.probability, self.speaker)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"word": self.word, "start": _r(self.start), "end": _r(self.end)}
        out["score"] = round(float(self.probability), 3)
        if self.speaker is not None:
            out["speaker"] = self.speaker
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Word":
        """The inverse of `to_dict`: the score may be called `score` (JSON) or `probability`."""
        score = data.get("score", data.get("probability", 1.0))
        return cls(data["word"], float(data["start"]), float(data["end"]), float(score), data.get("speaker"))


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    speaker: Optional[str] = None
    language: Optional[str] = None  # the language it was heard (and transcribed) in

    def shifted(self, seconds: float) -> "Segment":
        if not seconds:
            return self
        return replace(self, start=self.start + seconds, end=self.end + seconds,
                       words=[w.shifted(seconds) for w in self.words])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": _r(self.start), "end": _r(self.end), "text": self.text}
        if self.speaker is not None:
            out["speaker"] = self.speaker
        if self.language is not None:
            out["language"] = self.language
        out["words"] = [w.to_dict() for w in self.words]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Segment":
        return cls(float(data["start"]), float(data["end"]), data["text"],
                   [Word.from_dict(w) for w in data.get("words") or []], data.get("speaker"), data.get("language"))


@dataclass
class SpeechRegion:
    """A stretch of speech found by the VAD, in seconds."""

    start: float
    end: float

    def shifted(self, seconds: float) -> "SpeechRegion":
        return SpeechRegion(self.start + seconds, self.end + seconds)


# pieces of speech and a number for who speaks in each (the diarization tells the ASR)
Voices = Sequence[tuple[SpeechRegion, int]]


@dataclass
class Turn:
    """A diarized speaker turn: `speaker` is a cluster label such as SPEAKER_00."""

    start: float
    end: float
    speaker: str


@dataclass
class Diarization:
    turns: list[Turn]
    # label -> L2-normalised embedding (mean of the cluster's windows)
    embeddings: dict[str, np.ndarray]
    embedder: str
    # label -> seconds of speech
    speech_time: dict[str, float] = field(default_factory=dict)
    # how the speaker count was decided (for the output's quality metadata)
    details: dict[str, Any] = field(default_factory=dict)
    # label -> the key of the participant whose anchored windows the cluster holds
    owners: dict[str, str] = field(default_factory=dict)


@dataclass
class AsrResult:
    segments: list[Segment]
    # seconds of speech heard in each language (the dominant one is the transcript's `language`)
    language_seconds: dict[str, float] = field(default_factory=dict)
    # segments re-decoded or dropped because they looked like hallucination loops
    repaired: int = 0
    dropped: int = 0
    # speech regions decoded again because they had no words, and those that still have none
    redecoded: list[SpeechRegion] = field(default_factory=list)
    untranscribed: list[SpeechRegion] = field(default_factory=list)
    # speech transcribed in a language other than the one asked for (fixed language only)
    foreign_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Identification:
    """Result of matching one cluster against enrolled voiceprints."""

    label: str
    name: Optional[str]
    score: float
    speaker_id: Optional[str] = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Identification":
        return cls(data["label"], data.get("name"), float(data.get("score", 0.0)), data.get("speaker_id"))


@dataclass(frozen=True)
class Missed:
    """A participant no cluster took the name of, and the cluster closest to their voice with its
    score: the user learns whom to enrol again, or that they did not speak. `rival`: a cluster was
    theirs but someone else enrolled came as close, so the name was not kept (the service)."""

    name: Optional[str]  # None where only the speaker id is known (what the service stores)
    speaker_id: Optional[str]
    label: Optional[str]
    score: float
    rival: bool = False


@dataclass
class Transcript:
    segments: list[Segment]
    language: str
    duration: float
    processing_time: float = 0.0
    speakers: list[str] = field(default_factory=list)
    speaker_embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    embedder: str = ""
    model: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    identifications: list[Identification] = field(default_factory=list)
    quality: dict[str, Any] = field(default_factory=dict)
    languages: list[dict[str, Any]] = field(default_factory=list)  # [{"language", "share"}], most first
    turns: list[Turn] = field(default_factory=list)  # who spoke when, overlaps included (RTTM)

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def to_dict(self, include_embeddings: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "transcription": {"text": self.text, "segments": [s.to_dict() for s in self.segments]},
            "speakers": list(self.speakers),
            "language": self.language,
            "languages": self.languages,
            "duration": _r(self.duration),
            "processing_time": _r(self.processing_time),
        }
        if include_embeddings:
            out["speaker_embeddings"] = {
                "model": self.embedder,
                "dimension": _dimension(self.speaker_embeddings),
                "vectors": {k: [round(float(x), 6) for x in v] for k, v in self.speaker_embeddings.items()},
            }
        out["turns"] = [{"start": _r(t.start), "end": _r(t.end), "speaker": t.speaker} for t in self.turns]
        if self.identifications:
            out["identified_speakers"] = [
                {"label": i.label, "name": i.name, "score": round(i.score, 4), "speaker_id": i.speaker_id}
                for i in self.identifications
            ]
        out["model"] = self.model
        out["timings"] = {k: _r(v) for k, v in self.timings.items()}
        out["quality"] = self.quality
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Transcript":
        """The inverse of `to_dict`: a transcript in the JSON shape (a RunPod worker's output, a
        stored one) back to the typed one, embeddings as float32 arrays and word scores kept."""
        embeddings = data.get("speaker_embeddings") or {}
        vectors = embeddings.get("vectors") or {}
        return cls(
            segments=[Segment.from_dict(s) for s in (data.get("transcription") or {}).get("segments") or []],
            language=data.get("language", ""),
            duration=float(data.get("duration", 0.0)),
            processing_time=float(data.get("processing_time", 0.0)),
            speakers=list(data.get("speakers") or []),
            speaker_embeddings={label: np.asarray(v, np.float32) for label, v in vectors.items()},
            embedder=embeddings.get("model", ""),
            model=dict(data.get("model") or {}),
            timings={k: float(v) for k, v in (data.get("timings") or {}).items()},
            identifications=[Identification.from_dict(i) for i in data.get("identified_speakers") or []],
            quality=dict(data.get("quality") or {}),
            languages=list(data.get("languages") or []),
            turns=[Turn(float(t["start"]), float(t["end"]), str(t["speaker"])) for t in data.get("turns") or []],
        )


def _r(x: float) -> float:
    return round(float(x), 3)


def _dimension(vectors: dict[str, np.ndarray]) -> int:
    for v in vectors.values():
        return int(len(v))
    return 0
