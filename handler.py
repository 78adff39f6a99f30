"""RunPod serverless worker: `{"input": {...}}` in, a transcript out.

Models load once per worker process, before the first job (the cold start, logged), and every
later job reuses them. Every bad input comes back as RunPod's `{"error": "..."}` with a message a
user can act on, and the worker goes on serving. Local use, as RunPod's SDK provides it:

    python handler.py --test_input '{"input": {"audio_url": "https://..."}}'
    python handler.py --rp_serve_api --rp_api_host 127.0.0.1 --rp_api_port 8000
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hearback import allocator
from hearback.errors import HearbackError, InputError, check_name
from hearback.fetch import base64_audio, downloaded, input_name, shown_to_user
from hearback.formats import render
from hearback.identify import KnownVoice
from hearback.pipeline import Options, Pipeline
from hearback.progress import Stage, forward_only, within
from hearback.settings import Settings

log = logging.getLogger("hearback.worker")
NAME_LENGTH = 200  # of a speaker's name, as in the service


class SpeakerIn(BaseModel):
    """A voiceprint of someone the recording expects (a participant: it anchors the diarization),
    or, with `participant: false`, of someone enrolled who may come, named only at the guest bar."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    embedding: list[float] = Field(min_length=1)
    model: str = Field(min_length=1)
    participant: bool = True

    @field_validator("name")
    @classmethod
    def plain_name(cls, name: str) -> str:
        """Refused as the service refuses it: a line break would reach the JSON, the SRT and the logs."""
        return check_name("a speaker", name, NAME_LENGTH, "name")


class JobInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    audio_url: Optional[str] = None
    audio_base64: Optional[str] = None
    language: str = "auto"
    min_speakers: Optional[int] = None
    max_speakers: Optional[int] = None
    output_format: Literal["json", "srt", "vtt", "rttm"] = "json"
    speakers: list[SpeakerIn] = Field(default_factory=list)
    identify_threshold: Optional[float] = Field(default=None, ge=0.0, le=1.0)
    summary: bool = False  # then a summary by the language model of HEARBACK_LLM_URL
    summary_kind: Optional[Literal["meeting", "campaign"]] = None  # campaign: with a recap for the players

    @model_validator(mode="after")
    def one_audio_source(self) -> "JobInput":
        if bool(self.audio_url) == bool(self.audio_base64):
            raise ValueError("give exactly one of audio_url or audio_base64")
        return self


class Worker:
    """One per process: holds the loaded pipeline, runs jobs."""

    def __init__(self, settings: Optional[Settings] = None):
        self.settings = settings or Settings.from_env()
        started = time.perf_counter()
        self.pipeline = Pipeline(self.settings).load()
        log.info("models loaded in %.2f s (cold start; loads so far: %d): %s",
                 time.perf_counter() - started, self.pipeline.load_count, self.pipeline.describe())

    def __call__(self, job: dict[str, Any]) -> dict[str, Any]:
        job_id = job.get("id", "?")
        started = time.perf_counter()
        try:
            result = self.run(job)
            log.info("job %s done in %.2f s (model loads in this worker: %d)",
                     job_id, time.perf_counter() - started, self.pipeline.load_count)
            return result
        except HearbackError as exc:
            log.info("job %s refused: %s", job_id, exc)
            return {"error": shown_to_user(str(exc), _input_shown(job))}
        except Exception as exc:  # a bug: keep serving, tell the caller without a traceback
            log.exception("job %s failed", job_id)
            return {"error": f"internal error ({type(exc).__name__}); the worker logs have the details"}

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        request = parse_input(job.get("input"))
        options = Options(request.language, request.min_speakers, request.max_speakers).checked()
        voiceprints = [KnownVoice(s.name, s.embedding, s.model, expected=s.participant)
                       for s in request.speakers] or None
        if request.summary:
            from hearback.summary.client import check  # loaded only for a summary: the worker starts without it

            check(self.settings)  # no endpoint configured: refused before the transcription, not after
        report = _progress_reporter(job)
        report("downloading", 0.0)
        started = time.perf_counter()
        with self._audio(request) as audio:
            fetch_seconds = time.perf_counter() - started
            transcript = self.pipeline.transcribe_file(
                audio.path, options, progress=report, voiceprints=voiceprints,
                threshold=request.identify_threshold)
        output = transcript.to_dict()
        output["timings"] = {"fetch": round(fetch_seconds, 3), **output["timings"]}
        output["processing_time"] = round(time.perf_counter() - started, 3)
        output["output_format"] = request.output_format
        if request.output_format in ("srt", "vtt", "rttm"):
            output[request.output_format] = render(transcript, request.output_format)
        if request.summary:
            output["summary"] = self._summary(transcript, request, report)
        return output

    def _summary(self, transcript, request: JobInput, report) -> dict[str, Any]:
        """Done, or failed with its reason: the transcript goes back either way."""
        from hearback.summary import SummaryContext, attempt

        report(Stage.SUMMARIZING, 0.0)
        outcome = attempt(transcript, self.settings, SummaryContext(kind=request.summary_kind),
                          within(report, Stage.SUMMARIZING, 0.0, 1.0))
        return outcome.to_dict()

    def _audio(self, request: JobInput):
        if request.audio_url:
            return downloaded(request.audio_url, self.settings)
        return base64_audio(request.audio_base64 or "", self.settings)


def parse_input(raw: Any) -> JobInput:
    if not isinstance(raw, dict):
        raise InputError('the job needs an "input" object, e.g. {"input": {"audio_url": "https://..."}}')
    try:
        return JobInput.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise InputError("bad input: " + "; ".join(problems)) from None


def _input_shown(job: dict[str, Any]) -> str:
    """How an error names the job's audio: its URL (no query), or the audio_base64 input."""
    raw = job.get("input") if isinstance(job.get("input"), dict) else {}
    url = raw.get("audio_url")
    return input_name(url) if isinstance(url, str) and url else "the audio_base64 audio"


def _progress_reporter(job: dict[str, Any]):
    """Progress to RunPod (`progress_update`) when running there, and to the worker's log always;
    only on a stage change or every 10 %, so a long job does not flood either."""
    on_runpod = bool(os.environ.get("RUNPOD_WEBHOOK_POST_OUTPUT"))

    def send(stage: str, fraction: float) -> None:
        percent = int(fraction * 100)
        log.info("job %s progress: %s %d%%", job.get("id", "?"), stage, percent)
        if on_runpod:
            import runpod

            runpod.serverless.progress_update(job, {"stage": str(stage), "percent": percent})

    return forward_only(send, step=0.10)


def main() -> None:
    allocator.tune()  # before the models load: the worker's peak memory (hearback/allocator.py)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s hearback %(levelname)s %(message)s")
    import runpod

    worker = Worker()  # before the first job: the cold start is paid here, once
    runpod.serverless.start({"handler": worker})


if __name__ == "__main__":
    main()
