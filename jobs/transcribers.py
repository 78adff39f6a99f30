"""What turns a job's audio into a `Transcript`: the pipeline in this process, or a RunPod
endpoint. `choose_transcriber` picks one when the service starts, from the settings."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol, Sequence

from hearback.errors import ConfigError, InputError
from hearback.identify import KnownVoice
from hearback.pipeline import Options
from hearback.progress import Stage
from hearback.result import Transcript
from jobs.audio import AudioSource, local_copy, remote_audio
from jobs.storage import AudioStorage
from service.settings import Settings
from speakers.on_demand import OnDemandPipeline

# RunPod job states (docs.runpod.io/serverless/references/job-states).
RUNPOD_WAITING = "IN_QUEUE"
RUNPOD_DONE = "COMPLETED"
RUNPOD_ENDED_BADLY = ("FAILED", "CANCELLED", "TIMED_OUT")
# Between two /status requests; RunPod allows 2000 per 10 s (docs.runpod.io/serverless/references/operations).
POLL_SECONDS = 1.0
ERROR_CHARS = 500  # of a RunPod error kept in the job's error
STATUS_FAILURES = 60  # status requests in a row that may fail (time-out, connection) before the job does


@dataclass
class JobContext:
    """What a transcriber may tell the job it works for (passed as `context`; `job` names only the
    jobs table's row, and RunPod's request dict in handler.py)."""

    job_id: str
    progress: Callable[[Stage, float], None]
    event: Callable[[str, str], None]  # (event, detail) recorded on the job


class HandedBack(Exception):
    """Raised by a job's progress callback when the replica stops: the job goes back to the queue
    (for another replica, or this one's next start) instead of being finished here."""


class LeaseLost(HandedBack):
    """Raised by a job's progress callback (or any write of its run) when another run claimed the
    job, or it ended: this replica lost its lease (a pause longer than it) and stops writing."""


class Transcriber(Protocol):
    def transcribe(self, source: AudioSource, options: Options, context: JobContext,
                   participants: Sequence[KnownVoice] = ()) -> Transcript:
        """`participants`: the voiceprints of the people the recording expects (each named by its
        speaker id): they anchor the diarization, and the clusters they take come back named."""


class LocalTranscriber:
    """The embedded pipeline, in this process (loaded on the first job)."""

    def __init__(self, models: OnDemandPipeline, settings: Settings, storage: Optional[AudioStorage]):
        self.models, self.settings, self.storage = models, settings, storage

    def transcribe(self, source: AudioSource, options: Options, context: JobContext,
                   participants: Sequence[KnownVoice] = ()) -> Transcript:
        with local_copy(source, self.settings, self.storage, context.progress) as path:
            if not self.models.loaded:  # the first job of a service waits for its models: say so
                context.progress(Stage.LOADING, 0.0)
            return self.models.get().transcribe_file(path, options, progress=context.progress,
                                                     voiceprints=list(participants) or None)


class RunPodTranscriber:
    """A RunPod serverless endpoint running `handler.py`, through the runpod SDK's public API."""

    def __init__(self, settings: Settings, storage: Optional[AudioStorage]):
        if not settings.runpod_api_key:
            raise ConfigError("RUNPOD_ENDPOINT_ID is set but RUNPOD_API_KEY is empty: set both to send jobs to RunPod")
        import runpod

        self.settings, self.storage = settings, storage
        self.endpoint = runpod.Endpoint(settings.runpod_endpoint_id, api_key=settings.runpod_api_key)

    def transcribe(self, source: AudioSource, options: Options, context: JobContext,
                   participants: Sequence[KnownVoice] = ()) -> Transcript:
        payload: dict[str, Any] = {"language": options.language, "min_speakers": options.min_speakers,
                                   "max_speakers": options.max_speakers}
        payload = {k: v for k, v in payload.items() if v is not None}
        if participants:  # the worker anchors on them; names are speaker ids, so they come back as ids
            payload["speakers"] = [{"name": vp.name, "embedding": [float(x) for x in vp.vector], "model": vp.embedder}
                                   for vp in participants]
        payload.update(remote_audio(source, self.settings, self.storage, context.job_id, context.event))
        context.progress(Stage.QUEUED, 0.0)
        self.failures = 0
        remote = self.endpoint.run(payload)
        while True:
            state = self._status(remote.job_id)
            status = state.get("status", "")
            if status == RUNPOD_DONE:
                return _transcript(state.get("output"))
            if status in RUNPOD_ENDED_BADLY:
                error = str(state.get("error") or "no error message")[:ERROR_CHARS]
                raise InputError(f"the RunPod job ended {status}: {error}", "runpod_failed")
            context.progress(Stage.QUEUED if status == RUNPOD_WAITING else Stage.REMOTE, 0.0)
            time.sleep(POLL_SECONDS)

    def _status(self, remote_id: str) -> dict[str, Any]:
        """`GET /{endpoint}/status/{job}`: state, output and error in one answer. A status request
        that times out or fails is asked again at the next poll (the job goes on at RunPod), up to
        STATUS_FAILURES in a row."""
        import requests

        try:
            state = self.endpoint.rp_client.get(f"{self.endpoint.endpoint_id}/status/{remote_id}")
            self.failures = 0
            return state
        except requests.RequestException as exc:
            self.failures = getattr(self, "failures", 0) + 1
            if self.failures >= STATUS_FAILURES:
                raise InputError(f"RunPod did not answer about job {remote_id} {STATUS_FAILURES} times in a row "
                                 f"({type(exc).__name__}); the endpoint may be down", "runpod_failed") from None
            return {"status": RUNPOD_WAITING}


def _transcript(output: Any) -> Transcript:
    if not isinstance(output, dict) or "transcription" not in output:
        error = output.get("error") if isinstance(output, dict) else None
        raise InputError(f"the RunPod worker returned no transcript: {error or str(output)[:ERROR_CHARS]}",
                         "runpod_failed")
    return Transcript.from_dict(output)


def choose_transcriber(settings: Settings, models: OnDemandPipeline, storage: Optional[AudioStorage]) -> Transcriber:
    if settings.runpod_endpoint_id:
        return RunPodTranscriber(settings, storage)
    return LocalTranscriber(models, settings, storage)
