"""Files in and out of the API: uploads read with the size cap (or kept in a temporary file that
is removed afterwards), and the media type of each transcript format."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from fastapi import UploadFile

from hearback.errors import InputError
from hearback.settings import Settings
from jobs.storage import suffix_of

CHUNK = 1024 * 1024  # bytes read at a time: the cap is checked while reading, not after
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "srt": "application/x-subrip; charset=utf-8",
               "vtt": "text/vtt; charset=utf-8", "txt": "text/plain; charset=utf-8"}


async def read_capped(upload: UploadFile, settings: Settings) -> bytes:
    data = bytearray()
    while chunk := await upload.read(CHUNK):
        data.extend(chunk)
        if len(data) > settings.max_bytes:
            raise InputError(f"the file is over the limit of {settings.max_bytes} bytes (HEARBACK_MAX_BYTES)",
                             "file_too_large", limit=settings.max_bytes)
    if not data:
        raise InputError("the uploaded file is empty", "upload_empty")
    return bytes(data)


@contextlib.asynccontextmanager
async def saved_upload(upload: UploadFile, settings: Settings):
    data = await read_capped(upload, settings)
    fd, name = tempfile.mkstemp(prefix="hearback-", suffix=suffix_of(upload.filename or ""))
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)
