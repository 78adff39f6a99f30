"""Temporary audio storage on S3-compatible object storage (MinIO, Cloudflare R2, AWS S3).

The service hands out presigned upload forms (with an expiry and a size cap), accepts
`s3://bucket/key` or a presigned GET URL as a job's audio, gives a RunPod worker a short-lived
presigned GET URL (never the keys), and deletes the audio after the job unless it is kept for a
retention period. A failed deletion is recorded; it never costs the job its result.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import urlsplit

from hearback.errors import ConfigError, FetchError, InputError
from service.settings import Settings

log = logging.getLogger(__name__)
SUFFIX_LENGTH = 8  # longest file-name suffix kept (".webm", ".flac", ...): enough for FFmpeg to guess
CLIENT_ATTEMPTS = 3  # botocore's own retries of a failed S3 call
UPLOAD_PART, UPLOAD_THREADS = 8 * 1024 * 1024, 2  # an upload to the bucket holds at most 16 MB in memory


def suffix_of(filename: str, default: str = ".audio") -> str:
    """The suffix of an uploaded file's name, for the file or object that keeps it."""
    return Path(filename or "").suffix[:SUFFIX_LENGTH] or default


@dataclass
class UploadForm:
    url: str
    fields: dict[str, str]
    source: str  # what to give as the job's audio_url: s3://bucket/key
    expires_in: int
    max_bytes: int


class AudioStorage:
    def __init__(self, settings: Settings):
        if not settings.s3_bucket:
            raise ConfigError("S3 storage is not configured: set HEARBACK_S3_BUCKET (and HEARBACK_S3_ENDPOINT_URL, "
                              "HEARBACK_S3_ACCESS_KEY_ID, HEARBACK_S3_SECRET_ACCESS_KEY for MinIO or R2)")
        import boto3
        from botocore.config import Config

        self.settings = settings
        self.bucket = settings.s3_bucket
        self.client = boto3.client(
            "s3", endpoint_url=settings.s3_endpoint_url or None, region_name=settings.s3_region or None,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=settings.s3_secret_access_key or None,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          retries={"max_attempts": CLIENT_ATTEMPTS}),
        )

    def upload_form(self, filename: str = "") -> UploadForm:
        """A presigned POST form: the browser or n8n sends the file straight to the bucket."""
        key = self.upload_key(f"{uuid.uuid4().hex}{suffix_of(filename, '')}")
        cap = self.settings.max_bytes
        form = self.client.generate_presigned_post(
            self.bucket, key, Conditions=[["content-length-range", 1, cap]], ExpiresIn=self.settings.upload_expiry)
        return UploadForm(form["url"], form["fields"], f"s3://{self.bucket}/{key}", self.settings.upload_expiry, cap)

    def key_of(self, source: str) -> Optional[str]:
        """The object key when `source` is s3://<our bucket>/<upload prefix>/name, else None. A job
        reads, and at its end deletes, its source: anything else of the bucket (kept enrolment
        samples, other folders) is refused, so only what was uploaded for jobs can be named."""
        parts = urlsplit(source)
        if parts.scheme != "s3":
            return None
        if parts.netloc != self.bucket:
            raise InputError(f"{source} is not in this service's bucket {self.bucket!r}", "s3_other_bucket",
                             bucket=self.bucket)
        key = parts.path.lstrip("/")
        if not key:
            raise InputError(f"{source} names no object", "bad_audio_url")
        if not self.is_upload_key(key):
            where = f"s3://{self.bucket}/{self.upload_key('')}"
            raise InputError(f"{source} is not an upload: a job's s3:// audio must be an object directly under {where} "
                             "(get one from POST /uploads)", "s3_outside_uploads", field="audio_url", prefix=where)
        return key

    def upload_key(self, name: str) -> str:
        """The key of upload `name` (HEARBACK_S3_PREFIX/name): every object a job may read."""
        return f"{self.settings.s3_prefix.strip('/')}/{name}".lstrip("/")

    def owner_of(self, source: str) -> str:
        """The job id an upload's object is named after (its own upload or staged copy: `<job id>.wav`);
        a form upload's is a fresh random id that no job has."""
        return Path(urlsplit(source).path).name.split(".", 1)[0]

    def is_upload_key(self, key: str) -> bool:
        """Whether `key` is an object directly under the upload prefix (no '..' or sub-folder)."""
        name = key[len(self.upload_key('')):]
        return key.startswith(self.upload_key('')) and bool(name) and "/" not in name and name not in (".", "..")

    def put_upload(self, path: Path, job_id: str, filename: str) -> str:
        """Stream an upload into the bucket (parts of UPLOAD_PART bytes, never the whole file in
        memory); returns its s3:// address."""
        from boto3.s3.transfer import TransferConfig

        key = self.upload_key(f"{job_id}{suffix_of(filename)}")
        config = TransferConfig(multipart_chunksize=UPLOAD_PART, max_concurrency=UPLOAD_THREADS)
        self.client.upload_file(str(path), self.bucket, key, Config=config)
        return f"s3://{self.bucket}/{key}"

    def presigned_get(self, key: str, expires_in: Optional[int] = None) -> str:
        """A short-lived GET URL for a worker that must not hold the storage keys."""
        return self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                  ExpiresIn=expires_in or self.settings.worker_url_expiry)

    @contextlib.contextmanager
    def downloaded(self, key: str) -> Iterator[Path]:
        """The object in a temporary file, size-capped; removed on exit."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NotFound"):
                raise FetchError(f"s3://{self.bucket}/{key} does not exist (never uploaded, or already deleted)",
                                 "upload_gone") from None
            raise FetchError(f"cannot read s3://{self.bucket}/{key}: {code or exc}", "s3_unreadable") from None
        if head["ContentLength"] > self.settings.max_bytes:
            raise FetchError(f"s3://{self.bucket}/{key} is {head['ContentLength']} bytes, over the limit of "
                             f"{self.settings.max_bytes} (HEARBACK_MAX_BYTES)", "file_too_large", limit=self.settings.max_bytes)
        with tempfile.NamedTemporaryFile(prefix="hearback-", suffix=suffix_of(key), delete=False) as f:
            path = Path(f.name)
        try:
            self.client.download_file(self.bucket, key, str(path))
            yield path
        finally:
            path.unlink(missing_ok=True)

    def delete(self, key: str) -> Optional[str]:
        """Delete an object; return an error message instead of raising (the job goes on)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
            return None
        except Exception as exc:  # botocore raises several kinds; none may fail the job
            log.warning("could not delete s3://%s/%s: %s", self.bucket, key, exc)
            return f"{type(exc).__name__}: {exc}"[:300]
