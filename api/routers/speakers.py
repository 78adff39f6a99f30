"""Speakers: create, list, get, rename, delete, merge; enrol voice samples; history."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session as DbSession

from api import deps
from api.schemas import (
    EnrolmentOut,
    Page,
    EnrolUrl,
    HistoryPage,
    MergeRequest,
    SpeakerCreate,
    SpeakerOut,
    SpeakerUpdate,
    TalkTimeOut,
    UtteranceOut,
    VoiceprintOut,
)
from api.uploads import saved_upload
from hearback.fetch import downloaded
from service.settings import Settings
from sessions import history, people
from sessions.erasure import erase
from sessions.people import SpeakerSummary
from speakers import roster
from speakers.consent import Consent, require
from speakers.enrolment import Enrolment, enrol
from speakers.matching import Matcher
from speakers.on_demand import OnDemandPipeline
from speakers.tables import Voiceprint
from speakers.voice_audio import VoiceAudio

router = APIRouter(prefix="/speakers", tags=["speakers"])


def speaker_out(row: SpeakerSummary) -> SpeakerOut:
    """`row.current` counts the running embedder's voiceprints (`people.summary(..., embedder)`)."""
    s = row.speaker
    return SpeakerOut(id=s.id, name=s.name, notes=s.notes, created_at=s.created_at, voiceprints=row.voiceprints,
                      talk_seconds=round(row.talk_seconds, 2), consent=s.consent,
                      stale_voiceprints=row.voiceprints - row.current,
                      needs_reenrolment=row.voiceprints > 0 and row.current == 0)


def voiceprint_out(v: Voiceprint, running: str) -> VoiceprintOut:
    return VoiceprintOut(id=v.id, embedder=v.embedder, model=v.embedder, dimension=v.dimension, source=v.source,
                         speech_seconds=v.speech_seconds, created_at=v.created_at, origin=v.origin, quality=v.quality,
                         current=v.embedder == running, audio_kept=bool(v.audio_key),
                         needs_reenrolment=v.embedder != running and not v.audio_key)


def running(request: Request) -> str:
    """The name of the running embedder (without loading a model)."""
    return request.app.state.models.running.name


@router.post("", dependencies=deps.NEEDS["write"], status_code=201, response_model=SpeakerOut)
def create_speaker(body: SpeakerCreate, db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    speaker = roster.create_speaker(db, ws, body.name, body.notes)
    return speaker_out(SpeakerSummary(speaker, 0, 0.0))


@router.get("", dependencies=deps.NEEDS["read"], response_model=list[SpeakerOut])
def list_speakers(response: Response, page: Annotated[Page, Query()],
                  q: str = Query(default="", max_length=200, description="only the names holding this text"),
                  db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace),
                  embedder: str = Depends(running)):
    """A page of the speakers by name (a list, as clients of 0.1 read it); the header X-Total-Count
    says how many there are in all (page on with `offset`)."""
    rows = people.list_speakers(db, ws, embedder=embedder, limit=page.limit, offset=page.offset, q=q)
    response.headers["X-Total-Count"] = str(people.count_speakers(db, ws, q))
    return [speaker_out(row) for row in rows]


@router.get("/{speaker_id}", dependencies=deps.NEEDS["read"], response_model=SpeakerOut)
def get_speaker(speaker_id: str, db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace),
                embedder: str = Depends(running)):
    return speaker_out(people.summary(db, ws, speaker_id, embedder))


@router.patch("/{speaker_id}", dependencies=deps.NEEDS["write"], response_model=SpeakerOut)
def update_speaker(speaker_id: str, body: SpeakerUpdate, db: DbSession = Depends(deps.get_db),
                   ws: str = Depends(deps.workspace), embedder: str = Depends(running),
                   actor: str = Depends(deps.actor)):
    roster.update_speaker(db, ws, speaker_id, body.name, body.notes, actor)
    return speaker_out(people.summary(db, ws, speaker_id, embedder))


@router.delete("/{speaker_id}", dependencies=deps.NEEDS["biometric"], status_code=204)
def delete_speaker(speaker_id: str, db: DbSession = Depends(deps.get_db), matcher: Matcher = Depends(deps.matcher),
                   voices: VoiceAudio = Depends(deps.voices), ws: str = Depends(deps.workspace),
                   actor: str = Depends(deps.actor)):
    """Erase the speaker and forget its name: voiceprints and kept audio go, its lines show the
    session's cluster label again (`POST /speakers/{id}/erase` keeps the name if asked)."""
    erase(db, matcher, voices, ws, speaker_id, actor, forget_name=True)
    return Response(status_code=204)


@router.post("/{speaker_id}/merge", dependencies=deps.NEEDS["write"], response_model=SpeakerOut)
def merge_speakers(speaker_id: str, body: MergeRequest, db: DbSession = Depends(deps.get_db),
                   matcher: Matcher = Depends(deps.matcher), ws: str = Depends(deps.workspace),
                   embedder: str = Depends(running), actor: str = Depends(deps.actor)):
    """Fold `source_id` into this speaker: its voiceprints, utterances and consents move here."""
    people.merge_speakers(db, matcher, ws, body.source_id, speaker_id, actor)
    return speaker_out(people.summary(db, ws, speaker_id, embedder))


@router.get("/{speaker_id}/voiceprints", dependencies=deps.NEEDS["read"], response_model=list[VoiceprintOut])
def list_voiceprints(speaker_id: str, db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace),
                     embedder: str = Depends(running)):
    return [voiceprint_out(v, embedder) for v in roster.voiceprints(db, ws, speaker_id)]


def _enrol(db: DbSession, matcher: Matcher, models: OnDemandPipeline, voices: VoiceAudio, settings: Settings,
           speaker_id: str, path: Path, source: str, consent: Consent) -> EnrolmentOut:
    done: Enrolment = enrol(db, matcher, models.get(), settings, path, speaker_id=speaker_id, source=source,
                            consent=consent, voices=voices)
    embedder = done.voiceprint.embedder
    return EnrolmentOut(speaker=speaker_out(people.summary(db, settings.workspace, speaker_id, embedder)),
                        voiceprint=voiceprint_out(done.voiceprint, embedder),
                        speech_seconds=round(done.speech_seconds, 2), quality=done.quality,
                        warnings=[str(w) for w in done.warnings], warning_codes=[w.code for w in done.warnings])


@router.post("/{speaker_id}/enrol", dependencies=deps.NEEDS["biometric"],
             status_code=201, response_model=EnrolmentOut)
async def enrol_upload(speaker_id: str, audio: UploadFile = File(description="a sample of this person alone, >= 3 s"),
                       consent: bool = Form(default=False, description="true: the person consents to their voice "
                                            "being stored and recognised (required)"),
                       consent_by: str = Form(default="", max_length=200), consent_note: str = Form(default=""),
                       db: DbSession = Depends(deps.get_db), matcher: Matcher = Depends(deps.matcher),
                       models: OnDemandPipeline = Depends(deps.models), voices: VoiceAudio = Depends(deps.voices),
                       settings: Settings = Depends(deps.settings), actor: str = Depends(deps.actor)):
    given = require(Consent(consent, "upload", consent_by, consent_note, actor))
    roster.get_speaker(db, settings.workspace, speaker_id)  # a missing speaker is a 404 before the upload is read
    async with saved_upload(audio, settings) as upload:
        return await run_in_threadpool(_enrol, db, matcher, models, voices, settings, speaker_id, upload.path,
                                       f"upload {upload.filename}", given)


@router.post("/{speaker_id}/enrol-url", dependencies=deps.NEEDS["biometric"],
             status_code=201, response_model=EnrolmentOut)
def enrol_url(speaker_id: str, body: EnrolUrl, db: DbSession = Depends(deps.get_db),
              matcher: Matcher = Depends(deps.matcher), models: OnDemandPipeline = Depends(deps.models),
              voices: VoiceAudio = Depends(deps.voices), settings: Settings = Depends(deps.settings),
              actor: str = Depends(deps.actor)):
    given = require(Consent(body.consent, "url", body.consent_by, body.consent_note, actor))
    roster.get_speaker(db, settings.workspace, speaker_id)
    with downloaded(body.audio_url, settings) as fetched:
        return _enrol(db, matcher, models, voices, settings, speaker_id, fetched.path,
                      f"url {body.audio_url.split('?')[0]}", given)


@router.get("/{speaker_id}/utterances", dependencies=deps.NEEDS["read"],
            response_model=HistoryPage, name="speaker_utterances")
def utterances(speaker_id: str, session_id: Optional[str] = None, tag: Optional[str] = None,
            since: Optional[datetime] = None, until: Optional[datetime] = None,
            q: Optional[str] = Query(default=None, description="text to look for"),
            limit: int = Query(default=50, ge=1, le=500), offset: int = Query(default=0, ge=0),
            db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    """What this speaker said across sessions, oldest first."""
    where = history.HistoryFilter(session_id, tag, since, until, q)
    rows, total = history.history(db, ws, speaker_id, where, limit, offset)
    items = [UtteranceOut(session_id=s.id, session_title=s.title, tag=s.tag, recorded_at=s.recorded_at,
                          start=u.start, end=u.end, text=u.text) for u, s in rows]
    return HistoryPage(total=total, limit=limit, offset=offset, items=items)


@router.get("/{speaker_id}/talk-time", dependencies=deps.NEEDS["read"], response_model=list[TalkTimeOut])
def talk_time(speaker_id: str, response: Response, page: Annotated[Page, Query()],
              db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    """A page of the sessions the speaker spoke in (X-Total-Count: how many in all)."""
    rows, total = history.talk_time(db, ws, speaker_id, page.limit, page.offset)
    response.headers["X-Total-Count"] = str(total)
    return [TalkTimeOut(**vars(t)) for t in rows]
