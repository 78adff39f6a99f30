"""The web pages: enrol voices, start transcriptions, read transcripts, name speakers, search.

Server-rendered (Jinja2) with a little plain JavaScript for recording in the browser, live job
progress and audio playback. Forms post here and redirect back with a message; every error a
user can fix is shown on the page (`shown_on`). The login form turns the API key into the
`login` cookie.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import hmac
import inspect
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session as DbSession

from api import deps
from api import logins
from api.deps import has_login
from api.i18n import LANGUAGE_COOKIE, STAGES, TEXT, language_of, say
from api.routers.speakers import running
from api.routers.transcriptions import submitted
from api.uploads import MEDIA_TYPES, saved_upload
from hearback.errors import HearbackError, Notice
from hearback.formats import check_format, render
from hearback.settings import Settings
from hearback.summary.markdown import clock
from jobs import summaries
from jobs.runner import JobRunner
from jobs.store import kept_audio
from jobs.submission import JobRequest
from speakers import history, recordings, roster
from speakers.consent import Consent, require
from speakers.enrolment import enrol
from speakers.erasure import erase
from speakers.history import HistoryFilter
from speakers.matching import Matcher
from speakers.on_demand import OnDemandPipeline
from speakers.summaries import maybe_document

router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
PAGE_ROWS = 200  # sessions and search results shown on one page
RECORDED = "recording.webm"  # the file name app.js gives a sample recorded in the browser


class LoginRequired(Exception):
    pass


def logged_in(request: Request) -> None:
    if not has_login(request):
        raise LoginRequired()


def page(request: Request, name: str, **context) -> HTMLResponse:
    lang = language_of(request)
    response = templates.TemplateResponse(request, name, {
        "t": TEXT[lang], "lang": lang, "message": request.query_params.get("msg"),
        "error": request.query_params.get("err"), "login": has_login(request), **context})
    if request.query_params.get("lang") in TEXT:
        response.set_cookie(LANGUAGE_COOKIE, lang, samesite="lax")
    return response


def local_path(target: Optional[str], default: str) -> str:
    """`target` if it is a path of this service's pages, else `default` (no open redirect)."""
    if not target or not target.startswith("/ui/") or "//" in target or "\\" in target or "\n" in target:
        return default
    return target


def back(path: str, msg: str = "", err: str = "") -> RedirectResponse:
    query = f"msg={quote(msg)}" if msg else f"err={quote(err)}" if err else ""
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def shown_on(path: str) -> Callable:
    """A page handler whose domain errors go back to `path` (formatted with the handler's
    arguments, e.g. "/ui/sessions/{session_id}") as a message in the reader's language."""

    def decorate(handler: Callable) -> Callable:
        def refused(kwargs: dict, exc: HearbackError) -> RedirectResponse:
            return back(path.format(**kwargs), err=say(exc, language_of(kwargs["request"])))

        if inspect.iscoroutinefunction(handler):
            @functools.wraps(handler)
            async def run_async(**kwargs):
                try:
                    return await handler(**kwargs)
                except HearbackError as exc:
                    return refused(kwargs, exc)
            return run_async

        @functools.wraps(handler)
        def run(**kwargs):
            try:
                return handler(**kwargs)
            except HearbackError as exc:
                return refused(kwargs, exc)
        return run

    return decorate


def colour(label: str) -> str:
    """A stable, readable colour per speaker."""
    hue = int(hashlib.md5(label.encode()).hexdigest()[:4], 16) / 0xFFFF
    r, g, b = colorsys.hls_to_rgb(hue, 0.88, 0.65)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


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
    return page(request, "speakers.html", rows=roster.list_speakers(db, ws, embedder=running(request)))


@router.post("/speakers", dependencies=[Depends(logged_in)])
@shown_on("/ui/speakers")
async def create_and_enrol(request: Request, name: str = Form(default=""), consent: bool = Form(default=False),
                           audio: Optional[UploadFile] = File(default=None), db: DbSession = Depends(deps.get_db),
                           matcher: Matcher = Depends(deps.matcher), models: OnDemandPipeline = Depends(deps.models),
                           settings: Settings = Depends(deps.settings)):
    t = TEXT[language_of(request)]
    if not name.strip():
        return back("/ui/speakers", err=t["empty_name"])
    if audio is None or not audio.filename:
        return back("/ui/speakers", err=t["choose_file"])
    given = _consent(request, consent, audio.filename)
    async with saved_upload(audio, settings) as upload:
        done = await run_in_threadpool(functools.partial(_enrol, request, db, matcher, models, settings, upload.path,
                                                         new_name=name, source=f"web {upload.filename}", consent=given))
    return back("/ui/speakers", msg=_enrolled(request, done.warnings))


@router.post("/speakers/{speaker_id}/enrol", dependencies=[Depends(logged_in)])
@shown_on("/ui/speakers")
async def add_sample(request: Request, speaker_id: str, audio: UploadFile = File(...),
                     consent: bool = Form(default=False), db: DbSession = Depends(deps.get_db),
                     matcher: Matcher = Depends(deps.matcher), models: OnDemandPipeline = Depends(deps.models),
                     settings: Settings = Depends(deps.settings)):
    given = _consent(request, consent, audio.filename)
    async with saved_upload(audio, settings) as upload:
        done = await run_in_threadpool(functools.partial(_enrol, request, db, matcher, models, settings, upload.path,
                                                         speaker_id=speaker_id, source=f"web {upload.filename}",
                                                         consent=given))
    return back("/ui/speakers", msg=_enrolled(request, done.warnings))


def _consent(request: Request, ticked: bool, filename: Optional[str]) -> Consent:
    """The consent box of the form; a sample recorded in the browser (app.js names it) is a recording."""
    method = "recording" if filename == RECORDED else "upload"
    return require(Consent(ticked, method, recorded_by=deps.actor(request)))


def _enrol(request: Request, db: DbSession, matcher: Matcher, models: OnDemandPipeline, settings: Settings,
           path: Path, **target):
    """Enrolment on a worker thread, the models loaded there too (never on the event loop)."""
    return enrol(db, matcher, models.get(), settings, path, voices=request.app.state.voices, **target)


def _enrolled(request: Request, warnings) -> str:
    lang = language_of(request)
    return " ".join([TEXT[lang]["enrolled"], *(say(w, lang) for w in warnings)])


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
    roster.merge_speakers(db, matcher, ws, speaker_id, target_id)
    return back("/ui/speakers", msg=TEXT[language_of(request)]["merged"])


@router.post("/speakers/{speaker_id}/delete", dependencies=[Depends(logged_in)])
@shown_on("/ui/speakers")
def delete(request: Request, speaker_id: str, db: DbSession = Depends(deps.get_db),
           matcher: Matcher = Depends(deps.matcher), ws: str = Depends(deps.workspace)):
    erase(db, matcher, request.app.state.voices, ws, speaker_id, deps.actor(request), forget_name=True)
    return back("/ui/speakers", msg=TEXT[language_of(request)]["deleted"])


# ------------------------------------------------------------------------------------- sessions


@router.get("/sessions", dependencies=[Depends(logged_in)])
def sessions_page(request: Request, tag: str = "", db: DbSession = Depends(deps.get_db),
                  ws: str = Depends(deps.workspace)):
    rows, total = recordings.list_sessions(db, ws, tag or None, limit=PAGE_ROWS)
    return page(request, "sessions.html", rows=rows, total=total, tags=recordings.list_tags(db, ws), tag=tag)


@router.post("/sessions", dependencies=[Depends(logged_in)])
@shown_on("/ui/sessions")
async def start_transcription(request: Request, audio: Optional[UploadFile] = File(default=None),
                              audio_url: str = Form(default=""), title: str = Form(default=""),
                              tag: str = Form(default=""), language: str = Form(default="auto"),
                              jobs: JobRunner = Depends(deps.runner)):
    has_file = audio is not None and bool(audio.filename)
    if has_file == bool(audio_url.strip()):
        return back("/ui/sessions", err=TEXT[language_of(request)]["give_audio"])
    job = await submitted(jobs, JobRequest(language=language, title=title, tag=tag, audio_url=audio_url.strip() or None,
                                           public_url=str(request.base_url)), audio if has_file else None)
    return RedirectResponse(f"/ui/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}", dependencies=[Depends(logged_in)])
@shown_on("/ui/sessions")
def job_page(request: Request, job_id: str, jobs: JobRunner = Depends(deps.runner)):
    return page(request, "job.html", job=jobs.get(job_id), stages=STAGES[language_of(request)])


@router.get("/sessions/{session_id}", dependencies=[Depends(logged_in)])
@shown_on("/ui/sessions")
def transcript_page(request: Request, session_id: str, db: DbSession = Depends(deps.get_db),
                    ws: str = Depends(deps.workspace)):
    transcript = recordings.transcript_document(db, ws, session_id)
    unknown = sorted({i["label"] for i in transcript["identified_speakers"] if not i["name"]}
                     & set(transcript["speakers"]))
    talk: dict[str, float] = {}
    for s in transcript["transcription"]["segments"]:
        talk[s["speaker"]] = talk.get(s["speaker"], 0.0) + s["end"] - s["start"]
    longest = max(talk.values(), default=1.0)
    summary = maybe_document(db, ws, session_id)
    return page(request, "transcript.html", transcript=transcript, unknown=unknown, colour=colour,
                talk=sorted(talk.items(), key=lambda kv: -kv[1]), longest=longest,
                speakers=[row.speaker for row in roster.list_speakers(db, ws)],
                has_audio=kept_audio(db, ws, session_id) is not None, summary=summary, clock=clock,
                can_summarize=bool(request.app.state.settings.llm_url),
                summary_reason=say(Notice(summary["reason"], summary["code"] or ""), language_of(request))
                if summary and summary["reason"] else "")


@router.post("/sessions/{session_id}/summary", dependencies=[Depends(logged_in)])
@shown_on("/ui/sessions/{session_id}")
def ask_summary(request: Request, session_id: str, background: BackgroundTasks,
                jobs: JobRunner = Depends(deps.runner)):
    """The page's "Summarize" (or "Ask again") button: written in the background, the page shows its state."""
    summaries.ask(jobs.database, jobs.settings, jobs.settings.workspace, session_id)
    background.add_task(summaries.write, jobs.database, jobs.settings, jobs.settings.workspace, session_id)
    return back(f"/ui/sessions/{session_id}", msg=TEXT[language_of(request)]["summary_asked"])


@router.post("/sessions/{session_id}/name", dependencies=[Depends(logged_in)])
@shown_on("/ui/sessions/{session_id}")
def name_cluster(request: Request, session_id: str, label: str = Form(...), speaker_id: str = Form(default=""),
                 new_name: str = Form(default=""), consent: bool = Form(default=False),
                 db: DbSession = Depends(deps.get_db), matcher: Matcher = Depends(deps.matcher),
                 ws: str = Depends(deps.workspace)):
    t = TEXT[language_of(request)]
    target = f"/ui/sessions/{session_id}"
    if not speaker_id and not new_name.strip():
        return back(target, err=t["empty_name"])
    given = Consent(consent, "named", recorded_by=deps.actor(request))
    recordings.name_cluster(db, matcher, ws, session_id, label, speaker_id or None, None if speaker_id else new_name,
                            given)
    return back(target, msg=t["named"])


@router.get("/sessions/{session_id}/download", dependencies=[Depends(logged_in)])
def download(session_id: str, format: str = "txt", db: DbSession = Depends(deps.get_db),
             ws: str = Depends(deps.workspace)):
    fmt = check_format(format)
    transcript = recordings.transcript_document(db, ws, session_id)
    return PlainTextResponse(render(transcript, fmt), media_type=MEDIA_TYPES[fmt],
                             headers={"Content-Disposition": f'attachment; filename="{session_id}.{fmt}"'})


@router.get("/sessions/{session_id}/audio", dependencies=[Depends(logged_in)])
def audio(session_id: str, db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    path = kept_audio(db, ws, session_id)
    if path is None:
        return Response(status_code=404)
    return FileResponse(path)


# --------------------------------------------------------------------------------------- search


@router.get("/search", dependencies=[Depends(logged_in)])
@shown_on("/ui/search")
def search_page(request: Request, speaker_id: str = "", q: str = "", db: DbSession = Depends(deps.get_db),
                ws: str = Depends(deps.workspace)):
    speakers = [row.speaker for row in roster.list_speakers(db, ws)]
    rows, total = [], 0
    if speaker_id:
        rows, total = history.history(db, ws, speaker_id, HistoryFilter(text=q or None), limit=PAGE_ROWS)
    return page(request, "search.html", speakers=speakers, speaker_id=speaker_id, q=q, rows=rows, total=total)
