"""A person's page: their voiceprints (when, how, under whose consent), the sessions they spoke in
with their talk time, the export of everything held about them and the erasure of their voice.

Export and erasure are the ones the API and `hearback speakers export|erase` run
(`sessions.export`, `sessions.erasure`): the same archive, the same audit entries, as the person
logged in to the page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session as DbSession

from api import deps
from api.i18n import TEXT, language_of
from api.pages import back, clock, logged_in, page, shown_on
from api.routers import privacy
from api.routers.speakers import running
from sessions import history, people
from sessions.erasure import erase
from speakers import roster
from speakers.enrichment import ACTOR
from speakers.matching import Matcher
from speakers.voice_audio import VoiceAudio

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_SESSIONS = 100  # sessions listed on a person's page, newest first


@router.get("/speakers/{speaker_id}", dependencies=[Depends(logged_in), *deps.NEEDS["read"]])
@shown_on("/ui/speakers")
def person_page(request: Request, speaker_id: str, db: DbSession = Depends(deps.get_db),
                ws: str = Depends(deps.workspace)):
    row = people.summary(db, ws, speaker_id, running(request))
    prints = people.voiceprint_rows(db, ws, speaker_id)
    return page(request, "person.html", row=row, person=row.speaker, prints=prints, clock=clock, recorder=recorder,
                heard=history.talk_time(db, ws, speaker_id, PAGE_SESSIONS, newest_first=True)[0],
                kept_audio=sum(1 for p in prints if p.voiceprint.audio_key))


def recorder(t: dict, actor: str) -> str:
    """Who noted a consent, as a reader says it: the audit's actor ids ("login:key:HEARBACK_API_KEY",
    "automatic enrichment") name a key or the service, never a setting."""
    if actor == ACTOR:
        return t["recorder_automatic"]
    key = actor.removeprefix("login:").removeprefix("key:") if actor.startswith(("login:key:", "key:")) else ""
    if key == "HEARBACK_API_KEY":
        return t["recorder_main_key"]
    return t["recorder_key"].format(name=key) if key else actor or "—"


@router.get("/speakers/{speaker_id}/export", dependencies=[Depends(logged_in), *deps.NEEDS["biometric"]])
@shown_on("/ui/speakers/{speaker_id}")
async def export(request: Request, speaker_id: str, db: DbSession = Depends(deps.get_db),
                 voices: VoiceAudio = Depends(deps.voices), ws: str = Depends(deps.workspace)):
    """The archive of `hearback speakers export`, downloaded; written to the audit log as its reader."""
    return await privacy.export(speaker_id, db, voices, ws, deps.actor(request))


@router.post("/speakers/{speaker_id}/erase", dependencies=[Depends(logged_in), *deps.NEEDS["biometric"]])
@shown_on("/ui/speakers/{speaker_id}")
def erase_voice(request: Request, speaker_id: str, forget_name: bool = Form(default=False),
                db: DbSession = Depends(deps.get_db), matcher: Matcher = Depends(deps.matcher),
                voices: VoiceAudio = Depends(deps.voices), ws: str = Depends(deps.workspace)):
    """The person's voice erased (as `hearback speakers erase`); with `forget_name`, the person is
    gone too, so the page to come back to is the list."""
    name = roster.get_speaker(db, ws, speaker_id).name
    done = erase(db, matcher, voices, ws, speaker_id, deps.actor(request), forget_name=forget_name)
    told = TEXT[language_of(request)]["voice_erased"].format(name=name, voiceprints=done.voiceprints,
                                                            audio=done.audio_files)
    return back("/ui/speakers" if forget_name else f"/ui/speakers/{speaker_id}", msg=told)
