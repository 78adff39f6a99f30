"""The web pages: log in, enrol voices, search what was said (sessions and transcripts:
`api.routers.web_sessions`).

Server-rendered (Jinja2) with a little plain JavaScript for recording in the browser, live job
progress and audio playback. Forms post here and redirect back with a message; every error a
user can fix is shown on the page in its language, with what was typed (`api.pages.shown_on`).
The login form turns the API key into the `login` cookie.
"""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from api import deps, keys, logins
from api.i18n import TEXT, language_of, say
from api.pages import back, colours, local_path, logged_in, named_as_sent, page, pager, shown_on
from api.routers.speakers import running
from api.uploads import saved_upload
from hearback.errors import HearbackError
from service.settings import Settings
from sessions import history, people
from sessions.erasure import erase
from sessions.history import HistoryFilter
from speakers import roster
from speakers.consent import Consent, require
from speakers.enrolment import enrol
from speakers.matching import Matcher
from speakers.tables import Speaker
from speakers.on_demand import OnDemandPipeline

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_ROWS = 200  # search results shown on one page
PAGE_SPEAKERS = 50  # voices shown on one page
NAMES = 20  # suggestions of the merge field
RECORDED = "recording.webm"  # the file name app.js gives a sample recorded in the browser


# ---------------------------------------------------------------------------------------- login


@router.get("/login")
def login_page(request: Request):
    return page(request, "login.html")


@router.post("/login")
def login(request: Request, api_key: str = Form(default=""), db: DbSession = Depends(deps.get_db)):
    """The API key, once, opens a login of HEARBACK_LOGIN_HOURS; wrong keys are throttled."""
    settings, throttle = request.app.state.settings, request.app.state.throttle
    client = request.state.client  # `api.guards`: X-Forwarded-For believed from trusted proxies only
    wait = throttle.wait_left(client)
    if wait > 0:
        refused = HearbackError("too many wrong keys: try again in a minute", "too_many_logins")
        response = page(request, "login.html", error=say(refused, language_of(request)))
        response.status_code, response.headers["Retry-After"] = 429, str(int(wait) + 1)
        return response
    if keys.identify_key(db, settings, api_key) is None:  # HEARBACK_API_KEY or a named, unrevoked key
        throttle.failed(client)
        return back("/ui/login", err=TEXT[language_of(request)]["wrong_key"])
    response = RedirectResponse("/ui/speakers", status_code=303)
    secure = request.url.scheme == "https" or settings.public_url.lower().startswith("https://")
    response.set_cookie(logins.COOKIE, logins.open_login(db, settings, api_key), max_age=int(settings.login_hours * 3600),
                        httponly=True, samesite="lax", secure=secure)
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession = Depends(deps.get_db)):
    logins.close_login(db, request.cookies.get(logins.COOKIE, ""))
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(logins.COOKIE)
    return response


# ------------------------------------------------------------------------------------- speakers


@router.get("/speakers", dependencies=[Depends(logged_in), *deps.NEEDS["read"]])
def speakers_page(request: Request, offset: int = Query(default=0, ge=0), q: str = Query(default="", max_length=200),
                  db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    """A page of the voices (a filter by name); each row's merge control is one text field whose
    suggestions come from `speaker_names`, never a list of every other voice (issue 25: 500 voices
    made a 20 MB page)."""
    rows = people.list_speakers(db, ws, embedder=running(request), limit=PAGE_SPEAKERS, offset=offset, q=q)
    total = people.count_speakers(db, ws, q)
    return page(request, "speakers.html", rows=rows, q=q, total=total, pager=pager(request, total, PAGE_SPEAKERS, offset))


class SpeakerName(BaseModel):
    id: str
    name: str


@router.get("/speakers/names", dependencies=[Depends(logged_in), *deps.NEEDS["read"]],
            response_model=list[SpeakerName])
def speaker_names(q: str = Query(default="", max_length=200), db: DbSession = Depends(deps.get_db),
                  ws: str = Depends(deps.workspace)) -> list[SpeakerName]:
    """For the merge field's suggestions: at most `NAMES` voices whose name holds `q`."""
    return [SpeakerName(id=row.speaker.id, name=row.speaker.name)
            for row in people.list_speakers(db, ws, limit=NAMES, q=q)]


@router.post("/speakers", dependencies=[Depends(logged_in), *deps.NEEDS["write"]])
@shown_on("/ui/speakers")
async def create_and_enrol(request: Request, name: str = Form(default=""), consent: bool = Form(default=False),
                           audio: Optional[UploadFile] = File(default=None), db: DbSession = Depends(deps.get_db),
                           matcher: Matcher = Depends(deps.matcher), models: OnDemandPipeline = Depends(deps.models),
                           settings: Settings = Depends(deps.settings)):
    t = TEXT[language_of(request)]
    if not name.strip():
        return back("/ui/speakers", err=t["empty_name"], kept={"name": name})
    if audio is None or not audio.filename:
        return back("/ui/speakers", err=t["choose_file"], kept={"name": name})
    done = await _enrolled_from(request, audio, consent, db, matcher, models, settings, new_name=name)
    return _enrolled(request, done.warnings)


@router.post("/speakers/{speaker_id}/enrol", dependencies=[Depends(logged_in), *deps.NEEDS["biometric"]])
@shown_on("/ui/speakers")
async def add_sample(request: Request, speaker_id: str, audio: Optional[UploadFile] = File(default=None),
                     consent: bool = Form(default=False), db: DbSession = Depends(deps.get_db),
                     matcher: Matcher = Depends(deps.matcher), models: OnDemandPipeline = Depends(deps.models),
                     settings: Settings = Depends(deps.settings)):
    if audio is None or not audio.filename:
        return back("/ui/speakers", err=TEXT[language_of(request)]["choose_file"])
    done = await _enrolled_from(request, audio, consent, db, matcher, models, settings, speaker_id=speaker_id)
    return _enrolled(request, done.warnings)


async def _enrolled_from(request: Request, audio: UploadFile, consent: bool, db: DbSession, matcher: Matcher,
                         models: OnDemandPipeline, settings: Settings, **target):
    """The upload enrolled (models on a worker thread, never on the event loop); an error about
    the audio names the file as the user sent it, never our temporary copy."""
    given = _consent(request, consent, audio.filename)
    async with saved_upload(audio, settings) as upload:
        try:
            return await run_in_threadpool(lambda: enrol(
                db, matcher, models.get(), settings, upload.path, voices=request.app.state.voices,
                source=f"web {upload.filename}", consent=given, **target))
        except HearbackError as exc:
            raise named_as_sent(exc, upload.filename) from None


def _consent(request: Request, ticked: bool, filename: Optional[str]) -> Consent:
    """The consent box of the form; a sample recorded in the browser (app.js names it) is a recording."""
    method = "recording" if filename == RECORDED else "upload"
    return require(Consent(ticked, method, recorded_by=deps.actor(request)))


def _enrolled(request: Request, warnings) -> RedirectResponse:
    """Enrolled: a plain success, or a success whose warnings (several voices, a short sample)
    are shown apart, as warnings, not inside the green box."""
    lang = language_of(request)
    return back("/ui/speakers", msg=TEXT[lang]["enrolled"], warn=" ".join(say(w, lang) for w in warnings))


@router.post("/speakers/{speaker_id}/rename", dependencies=[Depends(logged_in), *deps.NEEDS["write"]])
@shown_on("/ui/speakers")
def rename(request: Request, speaker_id: str, name: str = Form(default=""), db: DbSession = Depends(deps.get_db),
           ws: str = Depends(deps.workspace), actor: str = Depends(deps.actor)):
    t = TEXT[language_of(request)]
    if not name.strip():
        return back("/ui/speakers", err=t["empty_name"])
    roster.update_speaker(db, ws, speaker_id, name=name, actor=actor)
    return back(local_path(request.query_params.get("next"), "/ui/speakers"), msg=t["renamed"])


@router.post("/speakers/{speaker_id}/merge", dependencies=[Depends(logged_in), *deps.NEEDS["write"]])
@shown_on("/ui/speakers")
def merge(request: Request, speaker_id: str, target: str = Form(default=""), target_id: str = Form(default=""),
          db: DbSession = Depends(deps.get_db), matcher: Matcher = Depends(deps.matcher),
          ws: str = Depends(deps.workspace), actor: str = Depends(deps.actor)):
    """`speaker_id` goes into the voice named `target` (or `target_id`): the target stays, under its
    name (the page says so). The name is resolved here, as names compare (`roster.find_speaker`)."""
    if not target_id:
        found = roster.find_speaker(db, ws, target) if target.strip() else None
        if found is None:
            return back("/ui/speakers", err=TEXT[language_of(request)]["merge_unknown"])
        target_id = found.id
    kept = people.merge_speakers(db, matcher, ws, speaker_id, target_id, actor)
    return back("/ui/speakers", msg=TEXT[language_of(request)]["merged_into"].format(name=kept.name))


@router.post("/speakers/{speaker_id}/delete", dependencies=[Depends(logged_in), *deps.NEEDS["biometric"]])
@shown_on("/ui/speakers")
def delete(request: Request, speaker_id: str, db: DbSession = Depends(deps.get_db),
           matcher: Matcher = Depends(deps.matcher), ws: str = Depends(deps.workspace)):
    erase(db, matcher, request.app.state.voices, ws, speaker_id, deps.actor(request), forget_name=True)
    return back("/ui/speakers", msg=TEXT[language_of(request)]["deleted"])


# --------------------------------------------------------------------------------------- search


@router.get("/search", dependencies=[Depends(logged_in), *deps.NEEDS["read"]])
@shown_on("/ui/search")
def search_page(request: Request, speaker_id: str = "", q: str = "", offset: int = Query(default=0, ge=0),
                db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    """Everyone's lines (or one voice's), accent- and case-insensitive, a page at a time; each hit
    links to its moment. The voices to choose from are the first `PAGE_ROWS` by name (and the one
    chosen); a name typed finds its person among all of them."""
    speakers = [row.speaker for row in people.list_speakers(db, ws, limit=PAGE_ROWS)]
    if speaker_id and speaker_id not in {s.id for s in speakers}:
        speakers += [row.speaker for row in people.list_speakers(db, ws, speaker_id=speaker_id)]
    # a name finds the person too ("armelle" finds Armelle), whose lines are one link away
    named = [row.speaker for row in people.list_speakers(db, ws, limit=NAMES, q=q.strip())] \
        if q.strip() and not speaker_id else []
    rows, total = [], 0
    if q.strip() or speaker_id:
        rows, total = history.history(db, ws, speaker_id or None, HistoryFilter(text=q.strip() or None),
                                      limit=PAGE_ROWS, offset=offset)
    names = dict(db.execute(select(Speaker.id, Speaker.name).where(
        Speaker.id.in_({u.speaker_id for u, _ in rows if u.speaker_id}))).all())
    hits = [(u, s, names.get(u.speaker_id, u.cluster_label) if u.speaker_id else u.cluster_label) for u, s in rows]
    return page(request, "search.html", speakers=speakers, speaker_id=speaker_id, q=q, hits=hits, total=total,
                people=named,
                searched=bool(q.strip() or speaker_id), colour=colours(sorted({h[2] for h in hits})),
                pager=pager(request, total, PAGE_ROWS, offset))
