"""The web pages of sessions: the list (by tag and date, live states), starting a transcription,
its progress page, the transcript (or why there is none), naming a voice, downloads, deletion.

A job's progress is read by the page's script from `/ui/jobs/{id}/state`: the stage and the
state already in the page's language, an error worded there too (`jobs.error_code`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Optional
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from api import deps
from api.i18n import STAGES, TEXT, language_of, say, worded
from api.pages import back, clock, colour, colours, logged_in, page, pager, shown_on, typed
from api.routers.transcriptions import submitted
from api.uploads import MEDIA_TYPES
from hearback.errors import InputError, Notice
from hearback.formats import check_format, render
from hearback.summary.markdown import clock as summary_clock
from jobs import summaries
from jobs.retention import delete_session
from jobs.runner import JobRunner
from jobs.submission import JobRequest, split_names
from jobs.table import Job, kept_audio, percent
from sessions import groups, people, transcripts
from sessions.summaries import maybe_document
from sessions.tables import ENDED, Status
from speakers import roster
from speakers.consent import Consent
from speakers.matching import Matcher

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_ROWS = 200  # sessions (and tags, groups, voices to choose from) shown on one page


class StepView(BaseModel):
    percent: int
    stage_text: str


class JobView(BaseModel):
    """What the progress page and the sessions list show of a job, in the page's language."""

    state: str
    state_text: str
    stage: str
    stage_text: str
    progress: float
    percent: int  # what the page shows: whole percents, never rounded up to a step not reached
    error: str
    detail: str  # the error's original words, for the page's "details" fold ("" when the error says it all)
    session_id: str
    done_url: str
    # the steps since the page last asked may be several (short stages last less than one poll): shown in turn
    trail: list[StepView]


def job_view(job: Job, lang: str) -> JobView:
    t = TEXT[lang]
    error, detail = worded(Notice(job.error, job.error_code or "", job.error_details or {}), lang) \
        if job.error else ("", "")
    return JobView(state=job.state, state_text=t.get(f"state_{job.state}", job.state), stage=job.stage,
                   stage_text=STAGES[lang].get(job.stage or job.state, job.stage), progress=job.progress,
                   percent=percent(job.progress), error=error, detail=detail,
                   session_id=job.session_id, done_url=f"/ui/sessions/{job.session_id}",
                   trail=[StepView(percent=step["percent"], stage_text=STAGES[lang].get(step["stage"], step["stage"]))
                          for step in job.progress_trail or []])


def latest_job(db: DbSession, session_id: str) -> Optional[Job]:
    return db.scalars(select(Job).where(Job.session_id == session_id).order_by(Job.created_at.desc())).first()


def _day(value: str, field: str, end: bool = False) -> Optional[datetime]:
    """A date of the filter (YYYY-MM-DD, as a date input sends it); `end`: the whole day counts."""
    if not value.strip():
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d")
    except ValueError:
        raise InputError(f"{field} should read YYYY-MM-DD", "bad_date", field=field) from None
    return day + timedelta(days=1, microseconds=-1) if end else day


# ------------------------------------------------------------------------------------- sessions


@router.get("/sessions", dependencies=[Depends(logged_in), *deps.NEEDS["read"]])
def sessions_page(request: Request, tag: str = "", since: str = "", until: str = "",
                  offset: int = Query(default=0, ge=0), db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    """Newest first; the sessions still being transcribed show their live state (app.js polls it)."""
    lang = language_of(request)
    problem = ""
    try:
        start, end = _day(since, "since"), _day(until, "until", end=True)
    except InputError as exc:
        start = end = None
        problem = say(exc, lang)
    rows, total = transcripts.list_sessions(db, ws, tag or None, limit=PAGE_ROWS, offset=offset, since=start,
                                            until=end)
    jobs = {s.id: job for s in rows if s.status != Status.DONE for job in [latest_job(db, s.id)] if job is not None}
    return page(request, "sessions.html", rows=rows, total=total, tags=transcripts.list_tags(db, ws), tag=tag,
                since=since, until=until, jobs=jobs, views={k: job_view(j, lang) for k, j in jobs.items()},
                clock=clock, ended=ENDED, problem=problem, groups=groups.list_groups(db, ws, limit=PAGE_ROWS)[0],
                voices=roster.consented_names(db, ws, limit=PAGE_ROWS), pager=pager(request, total, PAGE_ROWS, offset))


@router.post("/sessions", dependencies=[Depends(logged_in), *deps.NEEDS["write"]])
@shown_on("/ui/sessions")
async def start_transcription(request: Request, audio: Optional[UploadFile] = File(default=None),
                              audio_url: str = Form(default=""), title: str = Form(default=""),
                              tag: str = Form(default=""), language: str = Form(default="auto"),
                              participants: str = Form(default=""), group: str = Form(default=""),
                              jobs: JobRunner = Depends(deps.runner)):
    has_file = audio is not None and bool(audio.filename)
    if has_file == bool(audio_url.strip()):
        return back("/ui/sessions", err=TEXT[language_of(request)]["give_audio"], kept=typed(locals()))
    job = await submitted(jobs, JobRequest(language=language, title=title, tag=tag, audio_url=audio_url.strip() or None,
                                           public_url=str(request.base_url), participants=split_names([participants]),
                                           group=group or None), audio if has_file else None)
    return RedirectResponse(f"/ui/jobs/{job.id}", status_code=303)


@router.post("/sessions/{session_id}/delete", dependencies=[Depends(logged_in), *deps.NEEDS["write"]])
@shown_on("/ui/sessions")
def delete(request: Request, session_id: str, jobs: JobRunner = Depends(deps.runner)):
    """The session, its transcript, summary, jobs and audio, gone (written to the audit log)."""
    delete_session(jobs.database, jobs.storage, jobs.settings.workspace, session_id, deps.actor(request))
    return back("/ui/sessions", msg=TEXT[language_of(request)]["session_deleted"])


# ----------------------------------------------------------------------------------------- jobs


@router.get("/jobs/{job_id}", dependencies=[Depends(logged_in), *deps.NEEDS["read"]])
@shown_on("/ui/sessions")
def job_page(request: Request, job_id: str, jobs: JobRunner = Depends(deps.runner)):
    job = jobs.get(job_id)
    return page(request, "job.html", job=job, view=job_view(job, language_of(request)))


@router.get("/jobs/{job_id}/state", dependencies=[Depends(logged_in), *deps.NEEDS["read"]],
            response_model=JobView)
def job_state(request: Request, job_id: str, jobs: JobRunner = Depends(deps.runner)) -> JobView:
    """For the page's script: the job now, worded in the page's language."""
    return job_view(jobs.get(job_id), language_of(request))


# ---------------------------------------------------------------------------------- transcripts


@router.get("/sessions/{session_id}", dependencies=[Depends(logged_in), *deps.NEEDS["read"]])
@shown_on("/ui/sessions")
def transcript_page(request: Request, session_id: str, db: DbSession = Depends(deps.get_db),
                    ws: str = Depends(deps.workspace)):
    session = transcripts.get_session(db, ws, session_id)
    if session.status != Status.DONE:  # a running one shows its progress; a failed one, why
        job = latest_job(db, session_id)
        if job is not None and session.status != Status.FAILED:
            return RedirectResponse(f"/ui/jobs/{job.id}", status_code=303)
        return page(request, "unfinished.html", session=session, job=job,
                    view=job_view(job, language_of(request)) if job else None)
    transcript = transcripts.transcript_document(db, ws, session_id)
    unknown = sorted({i["label"] for i in transcript["identified_speakers"] if not i["name"]}
                     & set(transcript["speakers"]))
    talk: dict[str, float] = {}
    for s in transcript["transcription"]["segments"]:
        talk[s["speaker"]] = talk.get(s["speaker"], 0.0) + s["end"] - s["start"]
    longest = max(talk.values(), default=1.0) or 1.0
    summary = maybe_document(db, ws, session_id)
    order = sorted(talk.items(), key=lambda kv: -kv[1])
    palette = colours([who for who, _ in order] + [s["speaker"] for s in transcript["transcription"]["segments"]])
    lang = language_of(request)
    notices = [say(Notice(w.get("text", ""), w.get("code", ""), w.get("details") or {}), lang)
               for w in (transcript.get("quality") or {}).get("warnings", [])]
    return page(request, "transcript.html", transcript=transcript, unknown=unknown, notices=notices,
                colour=lambda who: palette.get(who) or colour(who), talk=order, longest=longest,
                speakers=[row.speaker for row in people.list_speakers(db, ws, limit=PAGE_ROWS)], clock=clock,
                has_audio=kept_audio(db, ws, session_id) is not None, summary=summary, summary_clock=summary_clock,
                can_summarize=bool(request.app.state.settings.llm_url), can_delete=session.status in ENDED,
                summary_reason=say(Notice(summary["reason"], summary["code"] or ""), language_of(request))
                if summary and summary["reason"] else "")


@router.post("/sessions/{session_id}/summary", dependencies=[Depends(logged_in), *deps.NEEDS["write"]])
@shown_on("/ui/sessions/{session_id}")
def ask_summary(request: Request, session_id: str, background: BackgroundTasks,
                jobs: JobRunner = Depends(deps.runner)):
    """The page's "Summarize" (or "Ask again") button: written in the background, the page shows its state."""
    summaries.ask(jobs.database, jobs.settings, jobs.settings.workspace, session_id)
    background.add_task(summaries.write, jobs.database, jobs.settings, jobs.settings.workspace, session_id)
    return back(f"/ui/sessions/{session_id}", msg=TEXT[language_of(request)]["summary_asked"])


@router.post("/sessions/{session_id}/name", dependencies=[Depends(logged_in), *deps.NEEDS["biometric"]])
@shown_on("/ui/sessions/{session_id}")
def name_cluster(request: Request, session_id: str, label: str = Form(default=""), speaker_id: str = Form(default=""),
                 new_name: str = Form(default=""), consent: bool = Form(default=False),
                 db: DbSession = Depends(deps.get_db), matcher: Matcher = Depends(deps.matcher),
                 ws: str = Depends(deps.workspace)):
    t = TEXT[language_of(request)]
    target = f"/ui/sessions/{session_id}"
    if not speaker_id and not new_name.strip():
        return back(target, err=t["empty_name"], kept={"label": label})
    given = Consent(consent, "named", recorded_by=deps.actor(request))
    transcripts.name_cluster(db, matcher, ws, session_id, label, speaker_id or None, None if speaker_id else new_name,
                            given)
    return back(target, msg=t["named"])


def file_name(title: str, fallback: str) -> str:
    """A download's name from the session's title, safe in any file system (ASCII, no separators)."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^A-Za-z0-9._ '()-]+", "", plain).strip(" .-")
    return re.sub(r"\s+", " ", plain)[:80] or fallback


@router.get("/sessions/{session_id}/download", dependencies=[Depends(logged_in), *deps.NEEDS["read"]])
@shown_on("/ui/sessions/{session_id}")
def download(request: Request, session_id: str, format: str = "txt", db: DbSession = Depends(deps.get_db),
             ws: str = Depends(deps.workspace)):
    fmt = check_format(format)
    transcript = transcripts.transcript_document(db, ws, session_id)
    title = transcript["title"] or session_id
    readable = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "", title).strip() or session_id
    disposition = (f'attachment; filename="{file_name(title, session_id)}.{fmt}"; '
                   f"filename*=UTF-8''{quote(readable)}.{fmt}")
    return PlainTextResponse(render(transcript, fmt), media_type=MEDIA_TYPES[fmt],
                             headers={"Content-Disposition": disposition})


@router.get("/sessions/{session_id}/audio", dependencies=[Depends(logged_in), *deps.NEEDS["read"]])
def audio(session_id: str, db: DbSession = Depends(deps.get_db), ws: str = Depends(deps.workspace)):
    path = kept_audio(db, ws, session_id)
    if path is None:
        return Response(status_code=404)
    return FileResponse(path)
