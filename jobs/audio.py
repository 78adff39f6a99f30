"""Where a job's audio comes from, and how a transcriber gets at it.

A job's audio is an upload kept on this service's disk, an http(s) URL, or an object of the
service's S3 bucket. The local pipeline needs a file (`local_copy` downloads when it must); a
RunPod worker needs something it can fetch itself (`remote_audio`: the URL, a short-lived
presigned link, never the storage keys, or the bytes inline when there is no bucket).
"""

from __future__ import annotations

import base64
import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from hearback.errors import InputError
from hearback.fetch import downloaded
from hearback.progress import Stage
from jobs.storage import AudioStorage, suffix_of
from jobs.table import Job
from service.settings import Settings

# RunPod's /run accepts request bodies up to 10 MB (docs.runpod.io/serverless/references/operations);
# base64 makes bytes 4/3 longer, and the rest of the JSON envelope needs a little room.
RUNPOD_RUN_LIMIT = 10_000_000
ENVELOPE_ROOM = 64_000
INLINE_LIMIT = (RUNPOD_RUN_LIMIT - ENVELOPE_ROOM) * 3 // 4

STAGED = "audio staged"  # event of an upload copied into the bucket for a RunPod worker

Report = Callable[[Stage, float], None]
Event = Callable[[str, str], None]


@dataclass(frozen=True)
class AudioSource:
    """Exactly one of: an upload on this disk, an http(s) URL, an object key of our bucket."""

    upload: Optional[Path] = None
    url: Optional[str] = None
    s3_key: Optional[str] = None

    @classmethod
    def of(cls, job: Job, storage: Optional[AudioStorage]) -> "AudioSource":
        url = job.request.get("audio_url")
        if url and url.startswith("s3://"):
            if storage is None:
                raise InputError("s3:// audio needs the service's S3 storage: set HEARBACK_S3_BUCKET", "s3_not_configured")
            return cls(s3_key=storage.key_of(url))
        if url:
            return cls(url=url)
        return cls(upload=Path(job.audio_path))


def save_upload(folder: Path, job_id: str, filename: str, streamed: Path) -> Path:
    """Move the streamed upload into `folder` under the job's id (a rename on one file system)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{job_id}{suffix_of(filename)}"
    shutil.move(str(streamed), path)
    return path


@contextlib.contextmanager
def local_copy(source: AudioSource, settings: Settings, storage: Optional[AudioStorage],
               report: Report) -> Iterator[Path]:
    """The audio as a local file for the pipeline; a downloaded copy is removed on exit."""
    if source.s3_key is not None:
        report(Stage.DOWNLOADING, 0.0)
        with storage.downloaded(source.s3_key) as path:
            yield path
    elif source.url is not None:
        report(Stage.DOWNLOADING, 0.0)
        with downloaded(source.url, settings) as fetched:
            yield fetched.path
    else:
        yield _kept_upload(source)


def remote_audio(source: AudioSource, settings: Settings, storage: Optional[AudioStorage], job_id: str,
                 event: Event) -> dict[str, str]:
    """The worker input's audio: `audio_url` it can fetch, or `audio_base64`."""
    if source.url is not None:
        return {"audio_url": source.url}
    if source.s3_key is not None:
        return {"audio_url": storage.presigned_get(source.s3_key)}
    if storage is not None:
        upload = _kept_upload(source)
        key = storage.upload_key(f"{job_id}{upload.suffix}")
        storage.client.upload_file(str(upload), storage.bucket, key)
        event(STAGED, f"s3://{storage.bucket}/{key}")
        return {"audio_url": storage.presigned_get(key)}
    data = _kept_upload(source).read_bytes()
    if len(data) > INLINE_LIMIT:
        raise InputError(f"uploads over {INLINE_LIMIT // 1_000_000} MB cannot be sent to RunPod inline: configure "
                         "S3 storage (HEARBACK_S3_BUCKET) or give an audio_url", "runpod_inline_limit")
    return {"audio_base64": base64.b64encode(data).decode()}


def _kept_upload(source: AudioSource) -> Path:
    if not source.upload or not source.upload.exists():
        raise InputError("the uploaded audio of this job is gone (the service was reset?); submit it again", "upload_gone")
    return source.upload
