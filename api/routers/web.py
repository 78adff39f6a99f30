"""The web pages: log in, enrol voices, search what was said (sessions and transcripts:
`api.routers.web_sessions`).

Server-rendered (Jinja2) with a little plain JavaScript for recording in the browser, live job
progress and audio playback. Forms post here and redirect back with a message; every error a
user can fix is shown on the page in its language, with what was typed (`api.pages.shown_on`).
The login form turns the API key into the `login` cookie.
"""

from __future__ import annotations

import hmac
from typing import Optional

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session as DbSession

from api import deps, logins
from api.i18n import TEXT, language_of, say
from api.pages import back, colours, local_path, logged_in, named_as_sent, page, shown_on
from api.routers.speakers import running
from api.uploads import saved_upload
from database.folding import fold
from hearback.errors import HearbackError
from service.settings import Settings
from sessions import history, people
from sessions.erasure import erase
from sessions.history import HistoryFilter
from speakers import roster
from speakers.consent import Consent, require
from speakers.enrolment import enrol
from speakers.matching import Matcher
from speakers.on_demand import OnDemandPipeline

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_ROWS = 200  # search results shown on one page
RECORDED = "recording.webm"  # the file name app.js gives a sample recorded in the browser


# ---------------------------------------------------------------------------------------- login


@router.get("/login")
def login_page(request: Request):
    return page(request, "login.html")


@router.post("/login")
def login(request: Request, api_key: str = Form(default=""), db: DbSession = Depends(deps.get_db)):
    """The API key, once, opens a login of HEARBACK_LOGIN_HOURS; wrong keys are throttled."""
    settings, throttle = request.app.state.settings, request.app.state.throttle
    client = request.client.host if request.client else "?"
    wait = throttle.wait_left(client)
    if wait > 0:
        refused = HearbackError("too many wrong keys: try again in a minute", "too_many_logins")
        response = page(request, "login.html", error=say(refused, language_of(request)))
        response.status_code, response.headers["Retry-After"] = 429, str(int(wait) + 1)
        return response
    if not settings.api_key or not hmac.compare_digest(api_key.encode(), settings.api_key.encode()):
        throttle.failed(client)
        return back("/ui/login", err=TEXT[language_of(request)]["wrong_key"])
    response = RedirectResponse("/ui/speakers", status_code=303)
    secure = request.url.scheme == "https" or settings.public_url.lower().startswith("https://")
    response.set_cookie(logins.COOKIE, logins.open_login(db, settings), max_age=int(settings.login_hours * 3600),
                        httponly=True, samesite="lax", secure=secure)
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession = Depends(deps.get_db)):
    logins.close_login(db, request.cookies.get(logins.COOKIE, ""))
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(logins.COOKIE)
    return response


# ------------------------------------------------------------------------------------- speakers


@router.get("/speakers", dependencies=[Depends(logged_in)])
def speakers_page(request: Request, db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    return page(request, "speakers.html", rows=people.list_speakers(db, ws, embedder=running(request)))


@router.post("/speakers", dependencies=[Depends(logged_in)])
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


@router.post("/speakers/{speaker_id}/enrol", dependencies=[Depends(logged_in)])
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


@router.post("/speakers/{speaker_id}/rename", dependencies=[Depends(logged_in)])
@shown_on("/ui/speakers")
def rename(request: Request, speaker_id: str, name: str = Form(default=""), db: DbSession = Depends(deps.get_db),
           ws: str = Depends(deps.workspace)):
    t = TEXT[language_of(request)]
    if not name.strip():
        return back("/ui/speakers", err=t["empty_name"])
    roster.update_speaker(db, ws, speaker_id, name=name)
    return back(local_path(request.query_params.get("next"), "/ui/speakers"), msg=t["renamed"])


@router.post("/speakers/{speaker_id}/merge", dependencies=[Depends(logged_in)])
@shown_on("/ui/speakers")
def merge(request: Request, speaker_id: str, target_id: str = Form(default=""), db: DbSession = Depends(deps.get_db),
          matcher: Matcher = Depends(deps.matcher), ws: str = Depends(deps.workspace)):
    """`speaker_id` goes into `target_id`: the target stays, under its name (the page says so)."""
    kept = people.merge_speakers(db, matcher, ws, speaker_id, target_id)
    return back("/ui/speakers", msg=TEXT[language_of(request)]["merged_into"].format(name=kept.name))


@router.post("/speakers/{speaker_id}/delete", dependencies=[Depends(logged_in)])
@shown_on("/ui/speakers")
def delete(request: Request, speaker_id: str, db: DbSession = Depends(deps.get_db),
           matcher: Matcher = Depends(deps.matcher), ws: str = Depends(deps.workspace)):
    erase(db, matcher, request.app.state.voices, ws, speaker_id, deps.actor(request), forget_name=True)
    return back("/ui/speakers", msg=TEXT[language_of(request)]["deleted"])


# --------------------------------------------------------------------------------------- search


@router.get("/search", dependencies=[Depends(logged_in)])
@shown_on("/ui/search")
def search_page(request: Request, speaker_id: str = "", q: str = "", db: DbSession = Depends(deps.get_db),
                ws: str = Depends(deps.workspace)):
    """Everyone's lines (or one voice's), accent- and case-insensitive; each hit links to its moment."""
    speakers = [row.speaker for row in people.list_speakers(db, ws)]
    names = {s.id: s.name for s in speakers}
    # a name finds the person too ("armelle" finds Armelle), whose lines are one link away
    wanted = fold(q.strip())
    named = [s for s in speakers if wanted and not speaker_id and wanted in fold(s.name)]
    rows, total = [], 0
    if q.strip() or speaker_id:
        rows, total = history.history(db, ws, speaker_id or None, HistoryFilter(text=q.strip() or None),
                                      limit=PAGE_ROWS)
    hits = [(u, s, names.get(u.speaker_id, u.cluster_label) if u.speaker_id else u.cluster_label) for u, s in rows]
    return page(request, "search.html", speakers=speakers, speaker_id=speaker_id, q=q, hits=hits, total=total,
                people=named,
                searched=bool(q.strip() or speaker_id), colour=colours(sorted({h[2] for h in hits})))
