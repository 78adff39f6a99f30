"""Transcription jobs: submit (202 + id), poll status with progress, fetch the named result."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.orm import Session as DbSession

from api import deps
from api.schemas import JobOut
from api.uploads import MEDIA_TYPES, saved_upload
from hearback.formats import check_format, render
from jobs.runner import JobRunner
from jobs.submission import JobRequest, split_names
from jobs.table import JobState
from sessions.transcripts import transcript_document

router = APIRouter(prefix="/transcriptions", tags=["transcriptions"])
PARTICIPANTS = ("who the recording expects: enrolled speakers' names or ids, comma-separated or one per field; "
                "their voices anchor the diarization, anyone else stays SPEAKER_xx unless clearly another enrolled voice")


def job_out(job, request: Request) -> JobOut:
    result = str(request.url_for("transcription_result", job_id=job.id)) if job.state == JobState.DONE else None
    return JobOut(id=job.id, state=job.state, stage=job.stage, progress=job.progress, error=job.error,
                  session_id=job.session_id, created_at=job.created_at, updated_at=job.updated_at,
                  finished_at=job.finished_at, result_url=result, webhook_attempts=job.webhook_attempts or [],
                  events=job.events or [], progress_trail=job.progress_trail or [])


async def submitted(jobs: JobRunner, job_request: JobRequest, audio: Optional[UploadFile]):
    """The job, with its upload (if any) streamed to disk first; the database work off the event loop."""
    if audio is None:
        return await run_in_threadpool(jobs.submit, job_request)
    async with saved_upload(audio, jobs.settings, jobs.uploads) as upload:
        return await run_in_threadpool(jobs.submit, job_request, upload)


@router.post("", dependencies=deps.NEEDS["write"], status_code=202, response_model=JobOut)
async def submit(request: Request, audio: Optional[UploadFile] = File(default=None),
                 audio_url: Optional[str] = Form(default=None), language: str = Form(default="auto"),
                 min_speakers: Optional[int] = Form(default=None), max_speakers: Optional[int] = Form(default=None),
                 title: str = Form(default=""), tag: str = Form(default=""),
                 recorded_at: Optional[str] = Form(default=None), webhook_url: Optional[str] = Form(default=None),
                 summary: bool = Form(default=False, description="summary by the language model (HEARBACK_LLM_URL)"),
                 participants: list[str] = Form(default=[], description=PARTICIPANTS),
                 group: Optional[str] = Form(default=None, description="a group's name or id: its members take part"),
                 jobs: JobRunner = Depends(deps.runner)):
    """Multipart form: an `audio` file or an `audio_url`, and the options. Answers 202 with the job."""
    job_request = JobRequest(language=language, min_speakers=min_speakers, max_speakers=max_speakers, title=title,
                             tag=tag, recorded_at=recorded_at, audio_url=audio_url or None,
                             webhook_url=webhook_url or None, public_url=str(request.base_url), summary=summary,
                             participants=split_names(participants), group=group or None)
    job = await submitted(jobs, job_request, audio)
    return JSONResponse(job_out(job, request).model_dump(mode="json"), status_code=202,
                        headers={"Location": str(request.url_for("transcription_status", job_id=job.id))})


@router.get("/{job_id}", dependencies=deps.NEEDS["read"], response_model=JobOut, name="transcription_status")
def status(job_id: str, request: Request, jobs: JobRunner = Depends(deps.runner)):
    return job_out(jobs.get(job_id), request)


@router.get("/{job_id}/result", dependencies=deps.NEEDS["read"], name="transcription_result")
def result(job_id: str, format: str = "json", jobs: JobRunner = Depends(deps.runner),
           db: DbSession = Depends(deps.get_db)):
    """The transcript with today's speaker names, as json, srt, vtt or txt."""
    fmt = check_format(format)
    job = jobs.get(job_id)
    if job.state != JobState.DONE:
        detail = f"job {job_id} is {job.state}" + (f": {job.error}" if job.error else "; poll its status until done")
        return JSONResponse({"detail": detail}, status_code=409)
    transcript = transcript_document(db, job.workspace, job.session_id)
    if fmt == "json":
        return transcript
    return PlainTextResponse(render(transcript, fmt), media_type=MEDIA_TYPES[fmt])
