"""The web pages: enrol voices, start transcriptions, read transcripts, name speakers, search.

Server-rendered (Jinja2) with a little plain JavaScript for recording in the browser, live job
progress and audio playback. Forms post here and redirect back with a message; every error a
user can fix is shown on the page. The login form turns the API key into a session cookie.
"""

from __future__ import annotations

import colorsys
import hashlib
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import SESSION_COOKIE, has_session, runner, service, session_token
from api.i18n import TEXT, language_of, say
from api.uploads import read_capped, saved_upload
from hearback.errors import HearbackError
from hearback.formats import check_format, render
from speakers.jobs import JobRequest, JobRunner
from speakers.service import SpeakerService

router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))


class LoginRequired(Exception):
    pass


def logged_in(request: Request) -> None:
    if not has_session(request):
        raise LoginRequired()


def page(request: Request, name: str, **context) -> HTMLResponse:
    lang = language_of(request)
    response = templates.TemplateResponse(request, name, {
        "t": TEXT[lang], "lang": lang, "message": request.query_params.get("msg"),
        "error": request.query_params.get("err"), **context})
    if request.query_params.get("lang") in TEXT:
        response.set_cookie("hearback_lang", lang, samesite="lax")
    return response


def back(path: str, msg: str = "", err: str = "") -> RedirectResponse:
    query = f"msg={quote(msg)}" if msg else f"err={quote(err)}" if err else ""
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


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
def login(request: Request, api_key: str = Form(default="")):
    settings = request.app.state.settings
    if not settings.api_key or api_key != settings.api_key:
        return back("/ui/login", err=TEXT[language_of(request)]["wrong_key"])
    response = RedirectResponse("/ui/speakers", status_code=303)
    response.set_cookie(SESSION_COOKIE, session_token(settings.api_key), httponly=True, samesite="lax")
    return response


@router.post("/logout")
def logout():
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# ------------------------------------------------------------------------------------- speakers


@router.get("/speakers", dependencies=[Depends(logged_in)])
def speakers_page(request: Request, svc: SpeakerService = Depends(service)):
    return page(request, "speakers.html", rows=svc.list_speakers())


@router.post("/speakers", dependencies=[Depends(logged_in)])
async def create_and_enrol(request: Request, name: str = Form(default=""), audio: Optional[UploadFile] = File(default=None),
                           svc: SpeakerService = Depends(service)):
    t = TEXT[language_of(request)]
    if not name.strip():
        return back("/ui/speakers", err=t["empty_name"])
    if audio is None or not audio.filename:
        return back("/ui/speakers", err=t["choose_file"])
    try:
        if name.strip() in {r["speaker"].name for r in svc.list_speakers()}:
            svc.create_speaker(name)  # raises the duplicate-name error
        async with saved_upload(audio, svc.settings) as path:
            sample = svc.check_sample(path)  # nothing is created unless the sample is good
        speaker = svc.create_speaker(name)
        svc.add_voiceprint(speaker.id, sample.vector, svc.embedder, f"web {audio.filename}", sample.speech_seconds)
    except HearbackError as exc:
        return back("/ui/speakers", err=say(exc, language_of(request)))
    return back("/ui/speakers", msg=_enrolled(request, sample.warnings))


@router.post("/speakers/{speaker_id}/enrol", dependencies=[Depends(logged_in)])
async def add_sample(request: Request, speaker_id: str, audio: UploadFile = File(...),
                     svc: SpeakerService = Depends(service)):
    try:
        async with saved_upload(audio, svc.settings) as path:
            enrolment = svc.enrol(speaker_id, path, source=f"web {audio.filename}")
    except HearbackError as exc:
        return back("/ui/speakers", err=say(exc, language_of(request)))
    return back("/ui/speakers", msg=_enrolled(request, enrolment.warnings))


def _enrolled(request: Request, warnings) -> str:
    lang = language_of(request)
    return " ".join([TEXT[lang]["enrolled"], *(say(w, lang) for w in warnings)])


@router.post("/speakers/{speaker_id}/rename", dependencies=[Depends(logged_in)])
def rename(request: Request, speaker_id: str, name: str = Form(default=""), svc: SpeakerService = Depends(service)):
    t = TEXT[language_of(request)]
    if not name.strip():
        return back("/ui/speakers", err=t["empty_name"])
    try:
        svc.update_speaker(speaker_id, name=name)
    except HearbackError as exc:
        return back("/ui/speakers", err=say(exc, language_of(request)))
    return back(request.query_params.get("next") or "/ui/speakers", msg=t["renamed"])


@router.post("/speakers/{speaker_id}/merge", dependencies=[Depends(logged_in)])
def merge(request: Request, speaker_id: str, target_id: str = Form(default=""), svc: SpeakerService = Depends(service)):
    try:
        svc.merge_speakers(speaker_id, target_id)
    except HearbackError as exc:
        return back("/ui/speakers", err=say(exc, language_of(request)))
    return back("/ui/speakers", msg=TEXT[language_of(request)]["merged"])


@router.post("/speakers/{speaker_id}/delete", dependencies=[Depends(logged_in)])
def delete(request: Request, speaker_id: str, svc: SpeakerService = Depends(service)):
    try:
        svc.delete_speaker(speaker_id)
    except HearbackError as exc:
        return back("/ui/speakers", err=say(exc, language_of(request)))
    return back("/ui/speakers", msg=TEXT[language_of(request)]["deleted"])


# ------------------------------------------------------------------------------------- sessions


@router.get("/sessions", dependencies=[Depends(logged_in)])
def sessions_page(request: Request, tag: str = "", svc: SpeakerService = Depends(service)):
    rows, total = svc.list_sessions(tag or None, limit=200)
    tags = sorted({s.tag for s in svc.list_sessions(None, limit=1000)[0] if s.tag})
    return page(request, "sessions.html", rows=rows, total=total, tags=tags, tag=tag)


@router.post("/sessions", dependencies=[Depends(logged_in)])
async def start_transcription(request: Request, audio: Optional[UploadFile] = File(default=None),
                              audio_url: str = Form(default=""), title: str = Form(default=""),
                              tag: str = Form(default=""), language: str = Form(default="auto"),
                              jobs: JobRunner = Depends(runner)):
    has_file = audio is not None and bool(audio.filename)
    if has_file == bool(audio_url.strip()):
        return back("/ui/sessions", err=TEXT[language_of(request)]["give_audio"])
    try:
        upload = (audio.filename, await read_capped(audio, jobs.settings)) if has_file else None
        job = jobs.submit(JobRequest(language=language, title=title, tag=tag, audio_url=audio_url.strip() or None,
                                     public_url=str(request.base_url)), upload)
    except HearbackError as exc:
        return back("/ui/sessions", err=say(exc, language_of(request)))
    return RedirectResponse(f"/ui/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}", dependencies=[Depends(logged_in)])
def job_page(request: Request, job_id: str, jobs: JobRunner = Depends(runner)):
    try:
        job = jobs.get(job_id)
    except HearbackError as exc:
        return back("/ui/sessions", err=say(exc, language_of(request)))
    return page(request, "job.html", job=job)


@router.get("/sessions/{session_id}", dependencies=[Depends(logged_in)])
def transcript_page(request: Request, session_id: str, svc: SpeakerService = Depends(service),
                    jobs: JobRunner = Depends(runner)):
    try:
        transcript = svc.transcript(session_id)
    except HearbackError as exc:
        return back("/ui/sessions", err=say(exc, language_of(request)))
    unknown = sorted({i["label"] for i in transcript["identified_speakers"] if not i["name"]}
                     & set(transcript["speakers"]))
    talk: dict[str, float] = {}
    for s in transcript["transcription"]["segments"]:
        talk[s["speaker"]] = talk.get(s["speaker"], 0.0) + s["end"] - s["start"]
    longest = max(talk.values(), default=1.0)
    return page(request, "transcript.html", transcript=transcript, unknown=unknown, colour=colour,
                talk=sorted(talk.items(), key=lambda kv: -kv[1]), longest=longest,
                speakers=[r["speaker"] for r in svc.list_speakers()],
                has_audio=jobs.kept_audio(session_id) is not None)


@router.post("/sessions/{session_id}/name", dependencies=[Depends(logged_in)])
def name_cluster(request: Request, session_id: str, label: str = Form(...), speaker_id: str = Form(default=""),
                 new_name: str = Form(default=""), svc: SpeakerService = Depends(service)):
    t = TEXT[language_of(request)]
    target = f"/ui/sessions/{session_id}"
    if not speaker_id and not new_name.strip():
        return back(target, err=t["empty_name"])
    try:
        svc.name_cluster(session_id, label, speaker_id or None, None if speaker_id else new_name)
    except HearbackError as exc:
        return back(target, err=say(exc, language_of(request)))
    return back(target, msg=t["named"])


@router.get("/sessions/{session_id}/download", dependencies=[Depends(logged_in)])
def download(session_id: str, format: str = "txt", svc: SpeakerService = Depends(service)):
    fmt = check_format(format)
    transcript = svc.transcript(session_id)
    media = {"json": "application/json", "srt": "application/x-subrip", "vtt": "text/vtt", "txt": "text/plain"}[fmt]
    return PlainTextResponse(render(transcript, fmt), media_type=f"{media}; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{session_id}.{fmt}"'})


@router.get("/sessions/{session_id}/audio", dependencies=[Depends(logged_in)])
def audio(session_id: str, jobs: JobRunner = Depends(runner)):
    path = jobs.kept_audio(session_id)
    if path is None:
        return Response(status_code=404)
    return FileResponse(path)


# --------------------------------------------------------------------------------------- search


@router.get("/search", dependencies=[Depends(logged_in)])
def search_page(request: Request, speaker_id: str = "", q: str = "", svc: SpeakerService = Depends(service)):
    speakers = [r["speaker"] for r in svc.list_speakers()]
    rows, total = [], 0
    if speaker_id:
        try:
            rows, total = svc.history(speaker_id, text=q or None, limit=200)
        except HearbackError as exc:
            return back("/ui/search", err=say(exc, language_of(request)))
    return page(request, "search.html", speakers=speakers, speaker_id=speaker_id, q=q, rows=rows, total=total)
