"""Enrolment: a voice sample becomes a voiceprint of a speaker, existing or new.

The one orchestration the HTTP API, the web pages and the command line share: consent is checked
first (`speakers.consent`), then the target (a missing speaker or a taken name fails before the
slow part), then the sample (enough speech, mostly one voice), and only then is anything written,
in one transaction with its consent record and audit entry; a bad sample leaves nothing behind.
The sample itself is kept (`speakers.voice_audio`) unless HEARBACK_KEEP_ENROLMENT_AUDIO is off.

Quality (0-1) says how much a voiceprint can be trusted: `sqrt(min(1, speech / 20 s)) x
consistency`, where consistency is the mean cosine of the sample's speaker windows to their mean
(1: a steady voice; noise, several voices or a changing channel lower it). A sample under 10 s of
speech is accepted with a `short_sample` warning: add another sample when you can.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from sqlalchemy.orm import Session as DbSession

from database import audit
from hearback.decode import decode
from hearback.errors import InputError, Notice
from hearback.vectors import checked_unit
from service.settings import Settings
from speakers import index_sync
from speakers.consent import Consent, record_consent, require
from speakers.matching import Matcher, entry_of
from speakers.roster import add_speaker, clean_name, duplicate, find_speaker, get_speaker
from speakers.tables import Speaker, Voiceprint
from speakers.voice_audio import VoiceAudio

SOURCE_LENGTH = 500  # the column's size (voiceprints.source)
SHORT_SAMPLE = 10.0  # seconds of speech under which an enrolment is accepted with a warning
FULL_QUALITY_SECONDS = 20.0  # speech beyond this adds nothing to a voiceprint's quality figure


@dataclass
class Sample:
    """A checked voice sample: its embedding, by which embedder, and what was heard."""

    vector: np.ndarray
    embedder: str
    speech_seconds: float
    warnings: list[Notice] = field(default_factory=list)
    quality: float = 0.0
    samples: Optional[np.ndarray] = None  # the decoded sample, to keep


@dataclass
class Enrolment:
    speaker: Speaker
    voiceprint: Voiceprint
    speech_seconds: float
    warnings: list[Notice] = field(default_factory=list)
    quality: float = 0.0


def sample_quality(speech_seconds: float, consistency: float) -> float:
    """The quality figure of the module's docstring, rounded to two decimals."""
    length = min(1.0, max(speech_seconds, 0.0) / FULL_QUALITY_SECONDS) ** 0.5
    return round(length * min(1.0, max(consistency, 0.0)), 2)


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
    heard = pipeline.voice_sample(audio)
    seconds, voices = heard.speech_seconds, heard.voices
    if seconds < settings.min_enrol_seconds:
        raise InputError(f"the sample holds {seconds:.1f} s of speech; enrolment needs at least "
                         f"{settings.min_enrol_seconds:g} s of one person speaking",
                         "sample_too_short", seconds=seconds, needed=settings.min_enrol_seconds)
    warnings: list[Notice] = []
    if voices > 1:
        warnings.append(Notice(f"{voices} voices were heard in the sample; the voiceprint is the dominant "
                               "one's. A sample with only this person is better.", "several_voices",
                               {"voices": voices}))
    if seconds < SHORT_SAMPLE:
        warnings.append(Notice(f"the sample holds only {seconds:.1f} s of speech: it is enrolled, but a sample of "
                               f"{SHORT_SAMPLE:g} s or more (or a second sample) recognises this voice more surely",
                               "short_sample", {"seconds": seconds, "advised": SHORT_SAMPLE}))
    return Sample(heard.vector, pipeline.embedder_name, seconds, warnings,
                  sample_quality(seconds, heard.consistency), audio.samples)


def add_voiceprint(db: DbSession, speaker: Speaker, vector: np.ndarray, embedder: str, source: str = "",
                   seconds: float = 0.0, **extra) -> Voiceprint:
    """A new voiceprint in `db`, flushed so it has its id; the caller commits, then adds it to
    the matcher. `extra`: origin, quality, audio_key, consent_id."""
    vector = checked_unit(vector)
    voiceprint = Voiceprint(speaker_id=speaker.id, embedder=embedder, dimension=len(vector),
                            vector=vector.tobytes(), source=source[:SOURCE_LENGTH], speech_seconds=seconds, **extra)
    db.add(voiceprint)
    db.flush()
    index_sync.record(db, [voiceprint.id])
    return voiceprint


def enrol(db: DbSession, matcher: Matcher, pipeline, settings: Settings, audio_path: str | Path, *,
          speaker_id: Optional[str] = None, new_name: Optional[str] = None, source: str = "",
          consent: Optional[Consent] = None, voices: Optional[VoiceAudio] = None) -> Enrolment:
    """Enrol a sample for the speaker `speaker_id`, or for a new speaker called `new_name`, with
    the person's `consent` (refused without it). The sample is kept in `voices` when
    HEARBACK_KEEP_ENROLMENT_AUDIO is on."""
    consent = require(consent)
    if bool(speaker_id) == bool(new_name):
        raise InputError("give exactly one of speaker_id or name", "speaker_or_name")
    workspace = settings.workspace
    if speaker_id:
        get_speaker(db, workspace, speaker_id)
    elif find_speaker(db, workspace, new_name or ""):
        raise duplicate(clean_name(new_name))
    sample = check_sample(pipeline, settings, audio_path)
    speaker = get_speaker(db, workspace, speaker_id) if speaker_id else add_speaker(db, workspace, new_name or "")
    record = record_consent(db, speaker, consent, workspace)
    key = ""
    try:
        if voices is not None and settings.keep_enrolment_audio:
            key = voices.keep(speaker.id, sample.samples)
        voiceprint = add_voiceprint(db, speaker, sample.vector, sample.embedder, source, sample.speech_seconds,
                                    origin="enrolment", quality=sample.quality, audio_key=key, consent_id=record.id)
        audit.record(db, workspace, consent.recorded_by or "unknown", "enrol", speaker.id, voiceprint_id=voiceprint.id,
                     method=consent.method, embedder=sample.embedder, speech_seconds=round(sample.speech_seconds, 2),
                     quality=sample.quality, audio_kept=bool(key))
        db.commit()
    except BaseException:
        db.rollback()
        if key:
            voices.delete(key)  # nothing in the database points at it
        raise
    matcher.add(entry_of(voiceprint, workspace))
    return Enrolment(speaker, voiceprint, sample.speech_seconds, sample.warnings, sample.quality)
