"""Re-embedding: voiceprints survive a model change.

Each enrolment keeps its audio (`speakers.voice_audio`); when the running embedder differs from a
voiceprint's, `reembed` recomputes the voiceprint from that audio with the running embedder, in
place (same id, same consent), one voiceprint per transaction, each change seen by every replica.
Voiceprints without kept audio (named from a session, enriched, or enrolled with
HEARBACK_KEEP_ENROLMENT_AUDIO off) cannot be recomputed: they stay as they are, never compared
with the running embedder's vectors, and are listed as needing re-enrolment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from database import audit
from hearback.decode import decode
from hearback.vectors import checked_unit
from speakers import index_sync
from speakers.enrolment import sample_quality
from speakers.identification import Embedder
from speakers.matching import Matcher, entry_of
from speakers.tables import Speaker, Voiceprint
from speakers.voice_audio import VoiceAudio

log = logging.getLogger(__name__)


@dataclass
class Reembedding:
    embedder: str
    done: list[int] = field(default_factory=list)  # voiceprint ids recomputed
    current: int = 0  # already of the running embedder
    without_audio: list[int] = field(default_factory=list)  # need re-enrolment
    failed: dict[int, str] = field(default_factory=dict)  # kept audio missing or unreadable


def reembed(db: DbSession, matcher: Matcher, pipeline, voices: VoiceAudio, actor: str,
            everything: bool = False) -> Reembedding:
    """Recompute the voiceprints of other embedders (all of them with `everything`) from their kept
    audio with `pipeline`'s embedder, in every workspace."""
    running = Embedder.of(pipeline)
    report = Reembedding(running.name)
    rows = db.execute(select(Voiceprint.id, Voiceprint.embedder, Voiceprint.audio_key).order_by(Voiceprint.id)).all()
    for vid, embedder, key in rows:
        if embedder == running.name and not everything:
            report.current += 1
        elif not key:
            report.without_audio.append(vid)
        else:
            _one(db, matcher, pipeline, voices, running, vid, key, actor, report)
    return report


def _one(db: DbSession, matcher: Matcher, pipeline, voices: VoiceAudio, running: Embedder, vid: int, key: str,
         actor: str, report: Reembedding) -> None:
    try:
        with voices.local(key) as path:
            heard = pipeline.voice_sample(decode(path))
    except Exception as exc:  # a missing or damaged file: say which, go on with the others
        log.warning("voiceprint %d: kept audio %s unusable: %s", vid, key, exc)
        report.failed[vid] = f"{type(exc).__name__}: {exc}"[:300]
        return
    voiceprint = db.get(Voiceprint, vid, with_for_update=True)
    if voiceprint is None:  # erased meanwhile
        return
    before = voiceprint.embedder
    voiceprint.vector, voiceprint.embedder = checked_unit(heard.vector).tobytes(), running.name
    voiceprint.dimension, voiceprint.quality = running.dimension, sample_quality(heard.speech_seconds, heard.consistency)
    index_sync.record(db, [vid])
    workspace = db.scalar(select(Speaker.workspace).where(Speaker.id == voiceprint.speaker_id))
    audit.record(db, workspace, actor, "reembed", voiceprint.speaker_id, voiceprint_id=vid, before=before,
                 after=running.name)
    db.commit()
    matcher.remove([vid])
    matcher.add(entry_of(voiceprint, workspace))
    report.done.append(vid)
