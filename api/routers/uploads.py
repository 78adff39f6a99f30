"""Presigned uploads: the client sends audio straight to the S3-compatible bucket, then submits
a transcription with the returned `audio_url` (s3://bucket/key)."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends

from api import deps
from api.schemas import UploadFormOut, UploadRequest
from hearback.errors import ConfigError
from jobs.storage import AudioStorage

router = APIRouter(prefix="/uploads", tags=["uploads"])


@router.post("", dependencies=deps.NEEDS["write"], status_code=201, response_model=UploadFormOut)
def create_upload(body: UploadRequest, storage: Optional[AudioStorage] = Depends(deps.storage)):
    """A presigned POST form (multipart: the `fields`, then the `file`), valid for
    HEARBACK_UPLOAD_EXPIRY seconds and capped at HEARBACK_MAX_BYTES."""
    if storage is None:
        raise ConfigError("uploads need S3 storage: set HEARBACK_S3_BUCKET and its endpoint and keys")
    form = storage.upload_form(body.filename)
    return UploadFormOut(url=form.url, fields=form.fields, audio_url=form.source, expires_in=form.expires_in,
                         max_bytes=form.max_bytes)
