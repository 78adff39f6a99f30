"""Kept enrolment audio: the sample each enrolment voiceprint was made from, so that voiceprints can
be recomputed when the embedder changes (`speakers.reembed`), exported and erased with the speaker.

The samples are kept as 16 kHz mono 16-bit WAV (what the embedder hears, whatever was uploaded),
under HEARBACK_DATA_DIR/voices, or in the S3 bucket when HEARBACK_UPLOAD_STORAGE=s3 (replicas on
several machines), under the key `<HEARBACK_S3_PREFIX's parent>/voices/...`. A key is
`<speaker id>/<random>.wav`; the database keeps it on the voiceprint (`audio_key`).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import uuid
import wave
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from hearback.decode import SAMPLE_RATE
from service.settings import Settings

log = logging.getLogger(__name__)
INT16 = 32767


class VoiceAudio:
    """Where kept samples live: a folder, or a bucket through a boto3 S3 client."""

    def __init__(self, root: Path, client=None, bucket: str = "", prefix: str = "voices"):
        self.root, self.client, self.bucket, self.prefix = Path(root), client, bucket, prefix.strip("/")

    @classmethod
    def of(cls, settings: Settings, client=None) -> "VoiceAudio":
        """The store the settings choose; `client` is the service's boto3 S3 client when the
        uploads go to the bucket (HEARBACK_UPLOAD_STORAGE=s3)."""
        if client is not None and settings.upload_storage == "s3":
            parent = settings.s3_prefix.strip("/").rpartition("/")[0]
            return cls(Path(settings.data_dir) / "voices", client, settings.s3_bucket,
                       f"{parent}/voices" if parent else "voices")
        return cls(Path(settings.data_dir) / "voices")

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.client is not None else str(self.root)

    def keep(self, speaker_id: str, samples: np.ndarray) -> str:
        """Store `samples` (16 kHz float) and return their key."""
        key = f"{speaker_id}/{uuid.uuid4().hex}.wav"
        with tempfile.TemporaryDirectory(prefix="hearback-voice-") as folder:
            path = Path(folder) / "voice.wav"
            write_wav(path, samples)
            self.put(key, path)
        return key

    def put(self, key: str, path: Path) -> None:
        if self.client is not None:
            self.client.upload_file(str(path), self.bucket, f"{self.prefix}/{key}")
            return
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(path).read_bytes())

    def read(self, key: str) -> bytes:
        with self.local(key) as path:
            return path.read_bytes()

    @contextlib.contextmanager
    def local(self, key: str) -> Iterator[Path]:
        """The sample as a local file for as long as the block runs."""
        if self.client is None:
            yield self._path(key)
            return
        with tempfile.TemporaryDirectory(prefix="hearback-voice-") as folder:
            path = Path(folder) / "voice.wav"
            self.client.download_file(self.bucket, f"{self.prefix}/{key}", str(path))
            yield path

    def delete(self, key: str) -> Optional[str]:
        """Delete a sample; an error message instead of raising (the caller records it)."""
        try:
            if self.client is not None:
                self.client.delete_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")
            else:
                self._path(key).unlink(missing_ok=True)
            return None
        except Exception as exc:  # OSError or any of botocore's: the erasure goes on and says so
            log.warning("could not delete kept voice sample %s: %s", key, exc)
            return f"{type(exc).__name__}: {exc}"[:300]

    def exists(self, key: str) -> bool:
        if self.client is None:
            return self._path(key).is_file()
        try:
            self.client.head_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")
            return True
        except Exception:  # botocore's ClientError (404) or a connection error: not readable
            return False

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"kept voice key {key!r} leaves {self.root}")
        return path


def write_wav(path: Path, samples: np.ndarray) -> Path:
    pcm = (np.clip(samples, -1.0, 1.0) * INT16).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return path
