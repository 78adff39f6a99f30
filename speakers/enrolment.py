"""Enrolment: a voice sample becomes a voiceprint of a speaker, existing or new.

The one orchestration the HTTP API, the web pages and the command line share: the target is
checked first (a missing speaker or a taken name fails before the slow part), then the sample
(enough speech, mostly one voice), and only then is anything written, in one transaction; a bad
sample leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from sqlalchemy.orm import Session as DbSession

from hearback.decode import decode
from hearback.errors import InputError, Notice
from hearback.settings import Settings
from speakers import index_sync
from speakers.matching import Matcher, entry_of
from speakers.models import Speaker, Voiceprint
from speakers.roster import add_speaker, clean_name, duplicate, find_speaker, get_speaker
from speakers.vectors import unit

SOURCE_LENGTH = 500  # the column's size (voiceprints.source)


@dataclass
class Sample:
    """A checked voice sample: its embedding, by which embedder, and what was heard."""

    vector: np.ndarray
    embedder: str
    speech_seconds: float
    warnings: list[Notice] = field(default_factory=list)


@dataclass
class Enrolment:
    speaker: Speaker
    voiceprint: Voiceprint
    speech_seconds: float
    warnings: list[Notice] = field(default_factory=list)


def check_sample(pipeline, settings: Settings, audio_path: str | Path) -> Sample:
    """Embed a voice sample after checking it holds enough speech of (mostly) one person."""
    limit = min(settings.max_duration, settings.max_enrol_seconds)
    try:
        audio = decode(audio_path, max_duration=limit)
    except InputError as exc:
        if exc.code != "audio_too_long":
            raise
        raise InputError(f"the sample is longer than {limit:g} s: a few minutes of this person alone are enough "
                         "(HEARBACK_MAX_ENROL_SECONDS)", "sample_too_long", limit=limit) from None
    vector, seconds, voices = pipeline.embed_voice(audio)
    if seconds < settings.min_enrol_seconds:
        raise InputError(f"the sample holds {seconds:.1f} s of speech; enrolment needs at least "
                         f"{settings.min_enrol_seconds:g} s of one person speaking",
                         "sample_too_short", seconds=seconds, needed=settings.min_enrol_seconds)
    warnings: list[Notice] = []
    if voices > 1:
        warnings.append(Notice(f"{voices} voices were heard in the sample; the voiceprint is the dominant "
                               "one's. A sample with only this person is better.", "several_voices",
                               {"voices": voices}))
    return Sample(vector, pipeline.diarizer.embedder_name, seconds, warnings)


def add_voiceprint(db: DbSession, speaker: Speaker, vector: np.ndarray, embedder: str, source: str = "",
                   seconds: float = 0.0) -> Voiceprint:
    """A new voiceprint in `db`, flushed so it has its id; the caller commits, then adds it to
    the matcher."""
    vector = unit(vector)
    voiceprint = Voiceprint(speaker_id=speaker.id, embedder=embedder, dimension=len(vector),
                            vector=vector.tobytes(), source=source[:SOURCE_LENGTH], speech_seconds=seconds)
    db.add(voiceprint)
    db.flush()
    index_sync.record(db, [voiceprint.id])
    return voiceprint


def enrol(db: DbSession, matcher: Matcher, pipeline, settings: Settings, audio_path: str | Path, *,
          speaker_id: Optional[str] = None, new_name: Optional[str] = None, source: str = "") -> Enrolment:
    """Enrol a sample for the speaker `speaker_id`, or for a new speaker called `new_name`."""
    if bool(speaker_id) == bool(new_name):
        raise InputError("give exactly one of speaker_id or name")
    workspace = settings.workspace
    if speaker_id:
        get_speaker(db, workspace, speaker_id)
    elif find_speaker(db, workspace, new_name or ""):
        raise duplicate(clean_name(new_name))
    sample = check_sample(pipeline, settings, audio_path)
    speaker = get_speaker(db, workspace, speaker_id) if speaker_id else add_speaker(db, workspace, new_name or "")
    voiceprint = add_voiceprint(db, speaker, sample.vector, sample.embedder, source, sample.speech_seconds)
    db.commit()
    matcher.add(entry_of(voiceprint, workspace))
    return Enrolment(speaker, voiceprint, sample.speech_seconds, sample.warnings)
