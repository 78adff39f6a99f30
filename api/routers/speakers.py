"""Speakers: create, list, get, rename, delete, merge; enrol voice samples; history."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile

from api.deps import service
from api.schemas import (EnrolmentOut, EnrolUrl, HistoryPage, MergeRequest, SpeakerCreate, SpeakerOut, SpeakerUpdate,
                         TalkTime, Utterance, VoiceprintOut)
from api.uploads import saved_upload
from hearback.fetch import downloaded
from speakers.service import SpeakerService

router = APIRouter(prefix="/speakers", tags=["speakers"])


def speaker_out(speaker, voiceprints: int = 0, talk_seconds: float = 0.0) -> SpeakerOut:
    return SpeakerOut(id=speaker.id, name=speaker.name, notes=speaker.notes, created_at=speaker.created_at,
                      voiceprints=voiceprints, talk_seconds=round(talk_seconds, 2))


def _summary(svc: SpeakerService, speaker_id: str) -> SpeakerOut:
    for row in svc.list_speakers():
        if row["speaker"].id == speaker_id:
            return speaker_out(row["speaker"], row["voiceprints"], row["talk_seconds"])
    return speaker_out(svc.get_speaker(speaker_id))


@router.post("", status_code=201, response_model=SpeakerOut)
def create_speaker(body: SpeakerCreate, svc: SpeakerService = Depends(service)):
    return speaker_out(svc.create_speaker(body.name, body.notes))


@router.get("", response_model=list[SpeakerOut])
def list_speakers(svc: SpeakerService = Depends(service)):
    return [speaker_out(r["speaker"], r["voiceprints"], r["talk_seconds"]) for r in svc.list_speakers()]


@router.get("/{speaker_id}", response_model=SpeakerOut)
def get_speaker(speaker_id: str, svc: SpeakerService = Depends(service)):
    return _summary(svc, speaker_id)


@router.patch("/{speaker_id}", response_model=SpeakerOut)
def update_speaker(speaker_id: str, body: SpeakerUpdate, svc: SpeakerService = Depends(service)):
    svc.update_speaker(speaker_id, body.name, body.notes)
    return _summary(svc, speaker_id)


@router.delete("/{speaker_id}", status_code=204)
def delete_speaker(speaker_id: str, svc: SpeakerService = Depends(service)):
    svc.delete_speaker(speaker_id)
    return Response(status_code=204)


@router.post("/{speaker_id}/merge", response_model=SpeakerOut)
def merge_speakers(speaker_id: str, body: MergeRequest, svc: SpeakerService = Depends(service)):
    """Fold `source_id` into this speaker: its voiceprints and utterances move here."""
    svc.merge_speakers(body.source_id, speaker_id)
    return _summary(svc, speaker_id)


@router.get("/{speaker_id}/voiceprints", response_model=list[VoiceprintOut])
def list_voiceprints(speaker_id: str, svc: SpeakerService = Depends(service)):
    return [VoiceprintOut(id=v.id, model=v.model, dimension=v.dimension, source=v.source,
                          speech_seconds=v.speech_seconds, created_at=v.created_at) for v in svc.voiceprints(speaker_id)]


def _enrolment_out(svc: SpeakerService, speaker_id: str, enrolment) -> EnrolmentOut:
    v = enrolment.voiceprint
    return EnrolmentOut(speaker=_summary(svc, speaker_id), speech_seconds=round(enrolment.speech_seconds, 2),
                        warnings=[str(w) for w in enrolment.warnings],
                        voiceprint=VoiceprintOut(id=v.id, model=v.model, dimension=v.dimension, source=v.source,
                                                 speech_seconds=v.speech_seconds, created_at=v.created_at))


@router.post("/{speaker_id}/enrol", status_code=201, response_model=EnrolmentOut)
async def enrol_upload(speaker_id: str, audio: UploadFile = File(description="a sample of this person alone, >= 5 s"),
                       svc: SpeakerService = Depends(service)):
    svc.get_speaker(speaker_id)
    async with saved_upload(audio, svc.settings) as path:
        enrolment = svc.enrol(speaker_id, path, source=f"upload {audio.filename or ''}".strip())
    return _enrolment_out(svc, speaker_id, enrolment)


@router.post("/{speaker_id}/enrol-url", status_code=201, response_model=EnrolmentOut)
def enrol_url(speaker_id: str, body: EnrolUrl, svc: SpeakerService = Depends(service)):
    svc.get_speaker(speaker_id)
    with downloaded(body.audio_url, svc.settings) as fetched:
        enrolment = svc.enrol(speaker_id, fetched.path, source=f"url {body.audio_url.split('?')[0]}")
    return _enrolment_out(svc, speaker_id, enrolment)


@router.get("/{speaker_id}/utterances", response_model=HistoryPage)
def history(speaker_id: str, session_id: Optional[str] = None, tag: Optional[str] = None,
            since: Optional[datetime] = None, until: Optional[datetime] = None,
            q: Optional[str] = Query(default=None, description="text to look for"),
            limit: int = Query(default=50, ge=1, le=500), offset: int = Query(default=0, ge=0),
            svc: SpeakerService = Depends(service)):
    """What this speaker said across sessions, oldest first."""
    rows, total = svc.history(speaker_id, session_id, tag, since, until, q, limit, offset)
    items = [Utterance(session_id=s.id, session_title=s.title, tag=s.tag, recorded_at=s.recorded_at,
                       start=u.start, end=u.end, text=u.text) for u, s in rows]
    return HistoryPage(total=total, limit=limit, offset=offset, items=items)


@router.get("/{speaker_id}/talk-time", response_model=list[TalkTime])
def talk_time(speaker_id: str, svc: SpeakerService = Depends(service)):
    return svc.talk_time(speaker_id)
