"""Temporary audio on a real S3-compatible server (moto's, on 127.0.0.1) and signed webhooks to
real receivers on loopback: retries, a receiver that never answers, deletion after the job."""

from __future__ import annotations

import http.server
import json
import threading
import time

import httpx
import pytest
from conftest import KEY, clip, free_port, service_client, wait_until, wav_bytes

from jobs.webhooks import SIGNATURE_HEADER, verify

SECRET = "whsec-test"


@pytest.fixture(scope="module")
def s3():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.create_bucket(Bucket="hearback-audio")
    yield endpoint, client
    server.stop()


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers 500 to the first `failures` deliveries, then 200; records what it got."""

    failures = 0
    hang = False
    received: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cls = type(self)
        cls.received.append((body, self.headers.get(SIGNATURE_HEADER, "")))
        if cls.hang:
            time.sleep(30)
            return
        status = 500 if len(cls.received) <= cls.failures else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def receiver(failures: int = 0, hang: bool = False):
    handler = type("R", (Receiver,), {"failures": failures, "hang": hang, "received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler, f"http://127.0.0.1:{server.server_address[1]}/hook"


@pytest.fixture
def client(s3, tmp_path, pipeline):
    from service.settings import Settings

    endpoint, _ = s3
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/db.sqlite", api_key=KEY,
                        url_allowlist=("127.0.0.1",), s3_endpoint_url=endpoint, s3_bucket="hearback-audio",
                        s3_access_key_id="test", s3_secret_access_key="test", max_bytes=2_000_000,
                        webhook_secret=SECRET, webhook_backoff=0.1, webhook_timeout=1.0, webhook_attempts=3)
    with service_client(settings, pipeline) as c:
        yield c


def upload(client, data: bytes) -> str:
    form = client.post("/uploads", json={"filename": "session.wav"}).json()
    r = httpx.post(form["url"], data=form["fields"], files={"file": ("session.wav", data, "audio/wav")})
    assert r.status_code in (200, 204), r.text
    return form["audio_url"]


def webhook_states(runner, job_ids) -> list[str]:
    from jobs.table import Job

    with runner.database.open() as db:
        return [db.get(Job, job_id).webhook_state for job_id in job_ids]


def wait(client, job_id):
    job = client.app.state.runner.wait(job_id, timeout=300)
    return job, client.get(f"/transcriptions/{job_id}").json()


def test_presigned_upload_then_transcription_then_deletion(client, s3):
    _, s3_client = s3
    source = upload(client, wav_bytes(clip("jfk.flac", 0, 11)))
    assert source.startswith("s3://hearback-audio/hearback/uploads/")
    key = source.split("/", 3)[3]
    assert s3_client.head_object(Bucket="hearback-audio", Key=key)["ContentLength"] > 100_000
    job = client.post("/transcriptions", data={"audio_url": source, "language": "en"}).json()
    done, status = wait(client, job["id"])
    assert done.state == "done", done.error
    result = client.get(f"/transcriptions/{job['id']}/result").json()
    assert "ask not what your country" in result["transcription"]["text"].lower()
    with pytest.raises(Exception, match="404|Not Found"):
        s3_client.head_object(Bucket="hearback-audio", Key=key)
    assert {"event": "audio deleted", "detail": source} in [{k: e[k] for k in ("event", "detail")} for e in status["events"]]


def test_upload_over_the_cap_is_refused(client, s3):
    """The form's policy carries the cap (AWS and MinIO enforce it; moto and R2 do not), and the
    service checks the object's size again before reading it, whatever the store let through."""
    import base64

    _, s3_client = s3
    form = client.post("/uploads", json={"filename": "big.wav"}).json()
    assert form["max_bytes"] == 2_000_000
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 1, 2_000_000] in policy["conditions"]
    key = form["audio_url"].split("/", 3)[3]
    s3_client.put_object(Bucket="hearback-audio", Key=key, Body=bytes(2_100_000))  # a store that ignored the policy
    job = client.post("/transcriptions", data={"audio_url": form["audio_url"]}).json()
    done, status = wait(client, job["id"])
    assert done.state == "failed" and "2100000 bytes, over the limit of 2000000" in done.error
    with pytest.raises(Exception, match="404|Not Found"):
        s3_client.head_object(Bucket="hearback-audio", Key=key)
    assert {"event": "audio deleted", "detail": form["audio_url"]} in [
        {k: e[k] for k in ("event", "detail")} for e in status["events"]]


class ExpiringS3(http.server.BaseHTTPRequestHandler):
    """Answers a presigned GET as S3 does once X-Amz-Date + X-Amz-Expires has passed: 403
    AccessDenied, "Request has expired"; 200 before. (moto's server does not check expiry, so this
    stands in.) Its clock runs `ahead` of the wall clock: a test moves it past the expiry."""

    ahead = 0.0  # seconds

    def log_message(self, *args):
        pass

    def do_GET(self):
        from datetime import datetime, timezone
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(self.path).query)
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        expired = (datetime.now(timezone.utc) - signed).total_seconds() + self.ahead > int(query["X-Amz-Expires"][0])
        body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
        self.send_response(403 if expired else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.slow
def test_expired_presigned_url_gives_a_clear_error(client, s3):
    import boto3
    from botocore.config import Config

    store = type("Store", (ExpiringS3,), {})  # its own clock
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), store)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    signer = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{server.server_address[1]}", region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    url = signer.generate_presigned_url("get_object", Params={"Bucket": "hearback-audio", "Key": "a.wav"}, ExpiresIn=60)
    assert httpx.get(url).status_code == 200  # fresh, the URL is good...
    store.ahead = 61.0  # ...and a minute later the store says it has expired
    assert httpx.get(url).status_code == 403
    try:
        job = client.post("/transcriptions", data={"audio_url": url}).json()
        done, _ = wait(client, job["id"])
    finally:
        server.shutdown()
    assert done.state == "failed" and "probably expired" in done.error and "X-Amz" not in done.error


def test_s3_source_outside_the_bucket_and_missing_object(client):
    r = client.post("/transcriptions", data={"audio_url": "s3://someone-else/key.wav"})
    assert r.status_code == 422 and "not in this service's bucket" in r.json()["detail"]
    job = client.post("/transcriptions", data={"audio_url": "s3://hearback-audio/hearback/uploads/nope.wav"}).json()
    done, _ = wait(client, job["id"])
    assert done.state == "failed" and "does not exist" in done.error


def test_an_s3_source_reaches_only_what_was_uploaded_for_the_job(client, s3):
    """Issue 25: a job given a kept enrolment sample's key transcribed it and deleted it. Only
    objects directly under the upload prefix are accepted, never another job's, and a job deletes
    only its own upload at its end."""
    _, s3_client = s3
    sample = wav_bytes(clip("jfk.flac", 0, 5.5))
    kept = {"hearback/voices/kennedy/1.wav": sample, "hearback/uploads/../voices/kennedy/1.wav": sample,
            "hearback/uploads/deeper/x.wav": sample, "other/x.wav": sample}
    for key, body in kept.items():
        s3_client.put_object(Bucket="hearback-audio", Key=key, Body=body)
        r = client.post("/transcriptions", data={"audio_url": f"s3://hearback-audio/{key}"})
        assert (r.status_code, r.json().get("code"), r.json().get("field")) == (422, "s3_outside_uploads", "audio_url"), r.text
        assert "POST /uploads" in r.json()["detail"]
    first = client.post("/transcriptions", files={"audio": ("a.wav", sample, "audio/wav")}, data={"language": "en"}).json()
    theirs = f"s3://hearback-audio/hearback/uploads/{first['id']}.wav"
    s3_client.put_object(Bucket="hearback-audio", Key=theirs.split("/", 3)[3], Body=sample)  # e.g. its staged copy
    r = client.post("/transcriptions", data={"audio_url": theirs})
    assert (r.status_code, r.json().get("code")) == (422, "s3_other_job"), r.text
    wait(client, first["id"])
    for key in kept:
        assert s3_client.head_object(Bucket="hearback-audio", Key=key)["ContentLength"] == len(sample)


def test_webhook_is_signed_and_retried_until_delivered(client):
    server, handler, url = receiver(failures=2)
    try:
        job = client.post("/transcriptions", files={"audio": ("a.wav", wav_bytes(clip("jfk.flac", 0, 11)), "audio/wav")},
                          data={"language": "en", "webhook_url": url}).json()
        wait(client, job["id"])
        wait_until(lambda: len(handler.received) >= 3, 20, "three deliveries")
        wait_until(lambda: len(client.get(f"/transcriptions/{job['id']}").json()["webhook_attempts"]) >= 3, 10,
                   "three attempts recorded")
        status = client.get(f"/transcriptions/{job['id']}").json()
    finally:
        server.shutdown()
    assert len(handler.received) == 3
    assert [a["status"] for a in status["webhook_attempts"]] == [500, 500, 200]
    body, signature = handler.received[-1]
    assert verify(body, signature, SECRET) and not verify(body, signature, "wrong-secret")
    assert not verify(body + b" ", signature, SECRET)
    payload = json.loads(body)
    assert payload["job_id"] == job["id"] and payload["state"] == "done"
    assert payload["speakers"] == ["SPEAKER_00"] and payload["result_url"].endswith("/result")
    assert "fellow americans" in payload["result"]["transcription"]["text"].lower()


@pytest.mark.slow
def test_a_receiver_that_never_answers_blocks_nobody(client):
    server, handler, url = receiver(hang=True)
    try:
        first = client.post("/transcriptions", files={"audio": ("a.wav", wav_bytes(clip("english.wav", 0, 2.7)), "audio/wav")},
                            data={"language": "en", "webhook_url": url}).json()
        second = client.post("/transcriptions", files={"audio": ("b.wav", wav_bytes(clip("hotwords.mp3", 0, 4)), "audio/wav")},
                             data={"language": "en"}).json()
        started = time.time()
        done_first, _ = wait(client, first["id"])
        done_second, _ = wait(client, second["id"])
        assert done_first.state == done_second.state == "done"
        assert time.time() - started < 60
        assert client.get(f"/transcriptions/{first['id']}/result").status_code == 200
    finally:
        server.shutdown()


def test_webhook_targets_outside_the_allowlist_are_refused_and_failures_say_nothing_of_the_network(
        client, tmp_path, pipeline):
    """Issue 25: any key holder could map internal ports through webhook_url ("Connection refused"
    in the delivery log). HEARBACK_WEBHOOK_ALLOWLIST refuses other targets at submission, and a
    delivery that reaches nobody is logged as a plain "not delivered"."""
    import dataclasses

    closed = f"http://127.0.0.1:{free_port()}/hook"
    job = client.post("/transcriptions", files={"audio": ("x.wav", b"not audio at all" * 100, "audio/wav")},
                      data={"webhook_url": closed}).json()
    wait(client, job["id"])
    wait_until(lambda: len(client.get(f"/transcriptions/{job['id']}").json()["webhook_attempts"]) >= 3, 20,
               "three attempts recorded")
    attempts = client.get(f"/transcriptions/{job['id']}").json()["webhook_attempts"]
    assert [(a["status"], a["error"]) for a in attempts] == [(None, "not delivered")] * 3, attempts
    settings = dataclasses.replace(client.app.state.settings, webhook_allowlist=("127.0.0.0/8", "hooks.example.org"),
                                   data_dir=tmp_path / "other", database_url=f"sqlite:///{tmp_path}/other.sqlite")
    with service_client(settings, pipeline) as guarded:
        for url in ("http://10.0.0.1:22/hook", "http://[::1]:5432/hook", "https://169.254.169.254/latest"):
            r = guarded.post("/transcriptions", files={"audio": ("x.wav", b"x" * 100, "audio/wav")},
                             data={"webhook_url": url})
            assert (r.status_code, r.json().get("code"), r.json().get("field")) == (
                422, "webhook_not_allowed", "webhook_url"), r.text
            assert "HEARBACK_WEBHOOK_ALLOWLIST" in r.json()["detail"]
        r = guarded.post("/transcriptions", files={"audio": ("x.wav", b"x" * 100, "audio/wav")},
                         data={"webhook_url": closed})
        assert r.status_code == 202, r.text
        guarded.app.state.runner.wait(r.json()["id"], timeout=60)


def test_failed_job_sends_a_webhook_too(client):
    server, handler, url = receiver()
    try:
        job = client.post("/transcriptions", files={"audio": ("x.wav", b"not audio at all" * 100, "audio/wav")},
                          data={"webhook_url": url}).json()
        done, _ = wait(client, job["id"])
        wait_until(lambda: handler.received, 10, "the failed job's webhook")
    finally:
        server.shutdown()
    assert done.state == "failed"
    payload = json.loads(handler.received[0][0])
    assert payload["state"] == "failed" and "not a readable audio" in payload["error"]


def test_a_webhook_whose_sender_died_is_sent_by_the_next_sweep(client):
    """A replica killed after a job ended (before its webhook was claimed, or in the middle of
    sending it) leaves the webhook to the next sweep of any replica: at least once, never lost."""
    from datetime import timedelta

    from database.clock import now
    from jobs.table import SENDING, Job

    server, handler, url = receiver()
    runner = client.app.state.runner
    try:
        jobs = [client.post("/transcriptions", files={"audio": ("x.wav", b"not audio at all" * 100, "audio/wav")},
                            data={"webhook_url": url}).json()["id"] for _ in range(3)]
        for job_id in jobs:
            wait(client, job_id)
        wait_until(lambda: len(handler.received) >= 3, 10, "three deliveries")
        assert len(handler.received) == 3
        # the receiver answers before the sender records "sent": wait for the record too
        wait_until(lambda: webhook_states(runner, jobs) == ["sent"] * 3, 10, "three rows saying sent")
        # as a killed replica leaves them: one never claimed, one claimed long ago, one being sent now
        states = ["", f"{SENDING}{int(time.time()) - 3600:010d}", f"{SENDING}{int(time.time()):010d}"]
        with runner.database.open() as db:
            for job_id, state in zip(jobs, states):
                job = db.get(Job, job_id)
                assert job.webhook_state == "sent"
                job.webhook_state, job.finished_at = state, now() - timedelta(minutes=5)
            db.commit()
        runner.sweep()
        wait_until(lambda: len(handler.received) >= 5, 10, "the two webhooks resent")
        time.sleep(0.3)
        runner.sweep()
        time.sleep(0.3)
    finally:
        server.shutdown()
    resent = [json.loads(body)["job_id"] for body, _ in handler.received[3:]]
    assert sorted(resent) == sorted(jobs[:2]), "the unclaimed and the expired one, once each"
    wait_until(lambda: webhook_states(runner, jobs) == ["sent", "sent", states[2]], 10, "the resent ones recorded")


def test_retention_keeps_audio_until_the_sweep(s3, tmp_path, pipeline):
    from jobs.table import Job
    from service.settings import Settings

    endpoint, s3_client = s3
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/db.sqlite", api_key=KEY,
                        s3_endpoint_url=endpoint, s3_bucket="hearback-audio", s3_access_key_id="test",
                        s3_secret_access_key="test", audio_retention_hours=1.0)
    with service_client(settings, pipeline) as c:
        sent = wav_bytes(clip("english.wav", 0, 2.7))
        source = upload(c, sent)
        job = c.post("/transcriptions", data={"audio_url": source}).json()
        done, status = wait(c, job["id"])
        key = source.split("/", 3)[3]
        # kept after the job, whole, until the retention has passed
        assert s3_client.head_object(Bucket="hearback-audio", Key=key)["ContentLength"] == len(sent)
        assert 3540 <= (done.audio_expires_at - done.finished_at).total_seconds() <= 3610  # set a moment apart
        assert not [e for e in status["events"] if e["event"].startswith("audio delet")]
        runner = c.app.state.runner
        assert runner.sweep() == 0
        with runner.database.open() as db:
            db.get(Job, job["id"]).audio_expires_at = db.get(Job, job["id"]).created_at
            db.commit()
        assert runner.sweep() == 1
        with pytest.raises(Exception, match="404|Not Found"):
            s3_client.head_object(Bucket="hearback-audio", Key=key)
        events = c.get(f"/transcriptions/{job['id']}").json()["events"]
        assert [(e["event"], e["detail"]) for e in events] == [("audio deleted", source)]
        result = c.get(f"/transcriptions/{job['id']}/result").json()  # the transcript outlives its audio
        assert result["speakers"] == ["SPEAKER_00"] and result["transcription"]["text"]


@pytest.mark.slow
def test_uploads_stream_to_the_bucket_when_replicas_run_on_several_machines(s3, tmp_path, pipeline):
    """HEARBACK_UPLOAD_STORAGE=s3: an upload is kept in the bucket, not on this machine's disk, so
    any replica can run its job; it is deleted with the job's audio."""
    from service.settings import Settings

    endpoint, s3_client = s3
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/db.sqlite", api_key=KEY,
                        s3_endpoint_url=endpoint, s3_bucket="hearback-audio", s3_access_key_id="test",
                        s3_secret_access_key="test", upload_storage="s3")
    with service_client(settings, pipeline) as c:
        r = c.post("/transcriptions", files={"audio": ("jfk.wav", wav_bytes(clip("jfk.flac", 0, 11)), "audio/wav")},
                   data={"language": "en"})
        done, status = wait(c, r.json()["id"])
        assert done.state == "done", done.error
        text = c.get(f"/transcriptions/{done.id}/result").json()["transcription"]["text"]
        assert "ask not what your country" in text.lower()
    assert not done.audio_path and not list((tmp_path / "data" / "uploads").rglob("*.wav"))
    source = done.request["audio_url"]
    assert source == f"s3://hearback-audio/hearback/uploads/{done.id}.wav" and done.request["filename"] == "jfk.wav"
    assert {"event": "audio deleted", "detail": source} in [{k: e[k] for k in ("event", "detail")} for e in status["events"]]
    with pytest.raises(Exception, match="404|Not Found"):
        s3_client.head_object(Bucket="hearback-audio", Key=source.split("/", 3)[3])
