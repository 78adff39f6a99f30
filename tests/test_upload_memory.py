"""A 600 MB upload streams to disk: the service (`hearback serve` in its own process, SQLite)
grows by less than 200 MB while it receives it."""

from __future__ import annotations

import pytest
import threading
import time

import httpx
import psutil

from conftest import KEY, free_port, start_service

pytestmark = pytest.mark.slow  # a 600 MB upload: the slow tier

UPLOAD_BYTES = 600 * 1024 * 1024
CHUNK = b"\0" * (1024 * 1024)
LIMIT = 200 * 1024 * 1024  # most the service may grow by while receiving it
BOUNDARY = "hearback-test-boundary"


def body(sent: threading.Event | None = None):
    """A multipart form with one 600 MB file, made as it is sent (the test holds 1 MB of it);
    `sent` is set once the last byte is handed over."""
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"big.wav\"\r\n"
           "Content-Type: audio/wav\r\n\r\n").encode()
    for _ in range(UPLOAD_BYTES // len(CHUNK)):
        yield CHUNK
    yield f"\r\n--{BOUNDARY}--\r\n".encode()
    if sent is not None:
        sent.set()


def test_a_600_mb_upload_streams_to_disk(tmp_path):
    port = free_port()
    process = start_service(port, tmp_path / "serve.log", HEARBACK_DATA_DIR=str(tmp_path / "data"),
                            TMPDIR=str(tmp_path), HEARBACK_AUDIO_RETENTION_HOURS="1")
    try:
        service = psutil.Process(process.pid)
        idle = service.memory_info().rss
        peak, sent = idle, threading.Event()

        def sample() -> None:  # while the upload is received, not once its job has begun (loading models)
            nonlocal peak
            while not sent.is_set():
                peak = max(peak, service.memory_info().rss)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        length = sum(len(part) for part in body())
        r = httpx.post(f"http://127.0.0.1:{port}/transcriptions", content=body(sent), timeout=300,
                       headers={"X-API-Key": KEY, "Content-Length": str(length),
                                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
        sent.set()
        sampler.join()
        grown = (peak - idle) / 1024**2
        print(f"idle RSS {idle / 1024**2:.0f} MB, peak while receiving 600 MB: {peak / 1024**2:.0f} MB (+{grown:.0f} MB)")
        assert r.status_code == 202, r.text
        kept = list((tmp_path / "data" / "uploads").glob("*.wav"))
        assert len(kept) == 1 and kept[0].stat().st_size == UPLOAD_BYTES
        assert peak - idle < LIMIT
    finally:
        process.terminate()
        process.wait(30)
