"""Files in and out of the API: uploads streamed to disk under the size cap (never a whole file in
memory), and the media type of each transcript format.

Starlette spools a multipart file to a temporary file as it parses the body (the body-size guard
in `api.guards` stops a body that is too large before that); here the spooled file is copied in
chunks, off the event loop, to a file of ours named after the user's file, so that every message
about it names what the user sent.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import AsyncIterator

from fastapi import UploadFile
from fastapi.concurrency import run_in_threadpool

from hearback.errors import InputError, check_text
from jobs.submission import Upload
from service.settings import Settings

CHUNK = 1024 * 1024  # bytes copied at a time: the cap is checked while copying, not after
NAME_LENGTH = 100  # of the user's file name kept for our copy
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "srt": "application/x-subrip; charset=utf-8",
               "vtt": "text/vtt; charset=utf-8", "txt": "text/plain; charset=utf-8",
               "rttm": "text/plain; charset=utf-8"}


def user_file_name(upload: UploadFile) -> str:
    """The file name the user sent, checked (no NUL or control character) and without folders."""
    name = check_text("the file name", upload.filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    return name[-NAME_LENGTH:] or "upload"


def _copy(source, destination: Path, limit: int) -> int:
    size = 0
    source.seek(0)
    with open(destination, "wb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise InputError(f"the file is over the limit of {limit} bytes (HEARBACK_MAX_BYTES)",
                                 "file_too_large", limit=limit)
            out.write(chunk)
    if not size:
        raise InputError("the uploaded file is empty", "upload_empty")
    return size


@contextlib.asynccontextmanager
async def saved_upload(upload: UploadFile, settings: Settings, folder: Path | None = None) -> AsyncIterator[Upload]:
    """The upload in a file of ours (in a new temporary folder under `folder`, named as the user
    named it); removed on exit unless a submission has moved it away."""
    name = user_file_name(upload)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="upload-", dir=folder))
    try:
        path = home / name
        size = await run_in_threadpool(_copy, upload.file, path, settings.max_bytes)
        yield Upload(name, path, size)
    finally:
        await run_in_threadpool(shutil.rmtree, home, True)

