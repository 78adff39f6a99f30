"""A person's rights over their voice: consent, access (an export archive) and erasure."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session as DbSession
from starlette.background import BackgroundTask

from api import deps
from api.schemas import ConsentOut, ConsentRequest, EraseRequest, ErasureOut
from sessions.erasure import erase
from sessions.export import write_archive
from speakers import consent as consents
from speakers.matching import Matcher
from speakers.roster import get_speaker
from speakers.voice_audio import VoiceAudio

router = APIRouter(prefix="/speakers", tags=["privacy"])


def consent_out(row) -> ConsentOut:
    return ConsentOut(id=row.id, given_by=row.given_by, method=row.method, note=row.note, recorded_by=row.recorded_by,
                      created_at=row.created_at, withdrawn_at=row.withdrawn_at)


@router.post("/{speaker_id}/consent", dependencies=deps.NEEDS["biometric"],
             status_code=201, response_model=ConsentOut)
def record_consent(speaker_id: str, body: ConsentRequest, db: DbSession = Depends(deps.get_db),
                   ws: str = Depends(deps.workspace), actor: str = Depends(deps.actor)):
    """Record the consent of a speaker already enrolled (one enrolled before consents were recorded
    is not matched until this is done)."""
    given = consents.Consent(body.consent, "attested", body.consent_by, body.consent_note, actor)
    return consent_out(consents.attest(db, ws, speaker_id, given))


@router.get("/{speaker_id}/consents", dependencies=deps.NEEDS["read"], response_model=list[ConsentOut])
def list_consents(speaker_id: str, db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    get_speaker(db, ws, speaker_id)
    return [consent_out(row) for row in consents.records(db, speaker_id)]


@router.get("/{speaker_id}/export", dependencies=deps.NEEDS["biometric"], response_class=FileResponse,
            responses={200: {"content": {"application/zip": {}}, "description": "the person's archive"}})
async def export(speaker_id: str, db: DbSession = Depends(deps.get_db), voices: VoiceAudio = Depends(deps.voices),
                 ws: str = Depends(deps.workspace), actor: str = Depends(deps.actor)):
    """One zip archive of everything held about this person: profile, consents, voiceprint
    metadata, kept enrolment audio, what they said (session titles and times), action items, and
    the audit entries about them. The export is written to the audit log."""
    with tempfile.NamedTemporaryFile(prefix="hearback-export-", suffix=".zip", delete=False) as out:
        path = Path(out.name)
    try:
        with path.open("wb") as out:
            await run_in_threadpool(write_archive, db, voices, ws, speaker_id, actor, out)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(path, media_type="application/zip", filename=f"hearback-speaker-{speaker_id}.zip",
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.post("/{speaker_id}/erase", dependencies=deps.NEEDS["biometric"], response_model=ErasureOut)
def erase_speaker(speaker_id: str, body: EraseRequest, db: DbSession = Depends(deps.get_db),
                  matcher: Matcher = Depends(deps.matcher), voices: VoiceAudio = Depends(deps.voices),
                  ws: str = Depends(deps.workspace), actor: str = Depends(deps.actor)):
    """Erase the person's voice: voiceprints and kept enrolment audio go, consents are withdrawn and
    they are never matched again; with `forget_name`, their name also leaves past transcripts."""
    done = erase(db, matcher, voices, ws, speaker_id, actor, body.forget_name)
    return ErasureOut(**vars(done))
