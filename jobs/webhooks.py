"""Webhooks: when a job ends, a signed POST to the job's `webhook_url`, with retries.

The body is JSON; the header `X-Hearback-Signature: t=<unix time>,v1=<hex>` carries an HMAC-SHA256
of `"<t>.<body>"` with `HEARBACK_WEBHOOK_SECRET`, so a receiver can check both origin and freshness
(README has a verification snippet). 5xx answers, time-outs and connection errors are retried with
exponential backoff; 4xx answers are final. Every attempt is recorded; a failing webhook never
fails or loses the job it reports on.

Delivery is at least once: a replica claims a job's webhook for as long as its tries can take
(`lease`); when it dies before it is done (`kill -9`, a lost machine), the claim expires and the
next sweep of any replica sends it. A receiver may therefore see a job twice: `job_id` tells.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import httpx

from database.engine import Database
from jobs.table import Job, JobState, add_webhook_attempt, claim_webhook, end_webhook, unsent_webhooks
from service.settings import Settings
from sessions.summaries import maybe_document
from sessions.transcripts import transcript_document

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Hearback-Signature"
ERROR_CHARS = 300  # of an exception's text logged per attempt
NOT_DELIVERED = "not delivered"  # an attempt that reached no receiver, as the job records it: no network detail
LEASE_MARGIN = 30.0  # seconds a claim outlives its sender's longest possible run of tries
# Deliveries in flight: a stopping replica waits for them (a daemon thread would die with it and
# take the webhook along: it was claimed, so no other replica sends it)
_in_flight: set[threading.Thread] = set()
_in_flight_lock = threading.Lock()


@dataclass
class Attempt:
    at: float
    status: Optional[int]
    error: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"at": round(self.at, 3), "status": self.status, "error": self.error, "seconds": round(self.seconds, 3)}


def sign(body: bytes, secret: str, timestamp: Optional[int] = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(body: bytes, header: str, secret: str, tolerance: float = 300.0) -> bool:
    """What a receiver does: recompute the HMAC and refuse stale timestamps."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = sign(body, secret, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def deliver(url: str, payload: dict[str, Any], secret: str, attempts: int = 5, timeout: float = 10.0,
            backoff: float = 1.0, on_attempt: Optional[Callable[[Attempt], None]] = None,
            sleep: Callable[[float], None] = time.sleep) -> bool:
    """POST `payload` until a 2xx, a 4xx, or `attempts` tries; True when delivered."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    for number in range(attempts):
        started = time.time()
        status, error = None, ""
        try:
            headers = {"Content-Type": "application/json", "User-Agent": "hearback-webhook"}
            if secret:
                headers[SIGNATURE_HEADER] = sign(body, secret)
            response = httpx.post(url, content=body, headers=headers, timeout=timeout, follow_redirects=False)
            status = response.status_code
        except httpx.HTTPError as exc:  # the OS's words ("Connection refused") would map the network
            log.warning("webhook %s not delivered: %s", url, f"{type(exc).__name__}: {exc}"[:ERROR_CHARS])
            error = NOT_DELIVERED
        attempt = Attempt(started, status, error, time.time() - started)
        if on_attempt:
            on_attempt(attempt)
        if status is not None and 200 <= status < 300:
            return True
        if status is not None and 400 <= status < 500:
            log.warning("webhook %s refused with HTTP %s: not retried", url, status)
            return False
        if number + 1 < attempts:
            sleep(backoff * (2 ** number))
    log.warning("webhook %s failed after %d attempts", url, attempts)
    return False


def result_url(job: Job, settings: Settings) -> str:
    """Where the result can be fetched: behind a proxy, HEARBACK_PUBLIC_URL; else the address the
    job was submitted to."""
    base = settings.public_url or job.request.get("public_url") or ""
    return f"{base.rstrip('/')}/transcriptions/{job.id}/result"


def notify(database: Database, settings: Settings, job: Job) -> None:
    """Send the ended job's webhook, if it has one, on a thread of its own: a receiver that never
    answers holds up no other job. Every attempt is recorded on the job."""
    if not job.webhook_url:
        return
    with database.open() as db:
        if not claim_webhook(db, job.id, lease(settings)):
            return  # sent or being sent, by an earlier run of this job or by another replica
    done = job.state == JobState.DONE.value
    payload: dict[str, Any] = {"job_id": job.id, "state": job.state, "session_id": job.session_id,
                               "error": job.error or None, "result_url": result_url(job, settings) if done else None}
    if done:
        with database.open() as db:
            result = transcript_document(db, job.workspace, job.session_id)
            summary = maybe_document(db, job.workspace, job.session_id)
        payload.update(speakers=result["speakers"], identified_speakers=result["identified_speakers"], result=result,
                       summary=summary)

    def record(attempt: Attempt) -> None:
        with database.open() as db:
            add_webhook_attempt(db, job.id, attempt.to_dict())

    def send() -> None:
        try:
            delivered = deliver(job.webhook_url, payload, settings.webhook_secret, attempts=settings.webhook_attempts,
                                timeout=settings.webhook_timeout, backoff=settings.webhook_backoff, on_attempt=record)
            with database.open() as db:
                end_webhook(db, job.id, delivered)
        finally:
            with _in_flight_lock:
                _in_flight.discard(threading.current_thread())

    thread = threading.Thread(target=send, daemon=True)
    with _in_flight_lock:
        _in_flight.add(thread)
    thread.start()


def lease(settings: Settings) -> float:
    """Seconds a sender may hold a webhook: every try timing out, every backoff, and a margin."""
    tries = max(settings.webhook_attempts, 1)
    return tries * settings.webhook_timeout + settings.webhook_backoff * (2 ** (tries - 1) - 1) + LEASE_MARGIN


def send_unsent(database: Database, settings: Settings) -> int:
    """Send the webhooks a dead replica left claimed or unclaimed (the sweeps call this); how many."""
    with database.open() as db:
        job_ids = unsent_webhooks(db, lease(settings))
    for job_id in job_ids:
        with database.open() as db:
            job = db.get(Job, job_id)
        if job is not None:
            log.info("job %s: its webhook was left unsent (its replica stopped); sending it now", job_id)
            notify(database, settings, job)
    return len(job_ids)


def drain(timeout: float) -> int:
    """Wait up to `timeout` seconds for the deliveries in flight; how many are still going."""
    deadline = time.monotonic() + timeout
    with _in_flight_lock:
        threads = list(_in_flight)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return sum(thread.is_alive() for thread in threads)
