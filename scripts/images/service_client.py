"""A plain API client for the service running in a container (scripts/images/service and
bundle): `first` waits for /health, enrols a speaker with consent and transcribes jfk.flac through
the API; `again` (after the container restarted) finds the speaker, its voiceprint and the
transcript still there. What `first` made is kept in STATE_FILE for `again`.

    python scripts/images/service_client.py first|again BASE_URL API_KEY STATE_FILE
"""

from __future__ import annotations

import io
import json
import sys
import time
import wave
from pathlib import Path

import httpx

AUDIO = Path(__file__).resolve().parents[2].parent / "shared" / "audio" / "jfk.flac"
WORDS = "ask not what your country"
NAME = "Kennedy"
ENROL_SECONDS = (5.5, 11.0)  # his part for the enrolment; the transcript then names him


class Failed(Exception):
    pass


def wait_healthy(client: httpx.Client, seconds: float) -> float:
    started = time.monotonic()
    while True:
        try:
            r = client.get("/health", timeout=5)
            if r.status_code == 200 and r.json() == {"status": "ok"}:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        if time.monotonic() - started > seconds:
            raise Failed(f"/health did not answer within {seconds:.0f} s")
        time.sleep(1)


def enrolment_wav() -> bytes:
    from hearback.decode import decode

    samples = decode(AUDIO).samples[int(ENROL_SECONDS[0] * 16000):int(ENROL_SECONDS[1] * 16000)]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes((samples.clip(-1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


def expect(response: httpx.Response, status: int, what: str) -> dict:
    if response.status_code != status:
        raise Failed(f"{what}: HTTP {response.status_code}: {response.text[:500]}")
    return response.json()


def transcribe(client: httpx.Client, seconds: float = 900) -> tuple[str, dict]:
    with AUDIO.open("rb") as f:
        job = expect(client.post("/transcriptions", files={"audio": ("jfk.flac", f, "audio/flac")},
                                 data={"language": "auto", "title": "image check"}), 202, "POST /transcriptions")
    started = time.monotonic()
    while job["state"] not in ("done", "failed"):
        if time.monotonic() - started > seconds:
            raise Failed(f"the transcription job {job['id']} is still {job['state']} after {seconds:.0f} s")
        time.sleep(2)
        job = expect(client.get(f"/transcriptions/{job['id']}"), 200, "GET /transcriptions/ID")
    if job["state"] != "done":
        raise Failed(f"the transcription job failed: {job.get('error')}")
    return job["id"], expect(client.get(f"/transcriptions/{job['id']}/result"), 200, "GET the result")


def check_transcript(transcript: dict) -> None:
    text = transcript["transcription"]["text"].lower()
    if WORDS not in text:
        raise Failed(f"the transcript lacks {WORDS!r}: {text!r}")
    if NAME not in transcript["speakers"]:
        raise Failed(f"the enrolled speaker was not named: speakers {transcript['speakers']}")


def first(client: httpx.Client, state: Path) -> str:
    ready = wait_healthy(client, 600)
    speaker = expect(client.post("/speakers", json={"name": NAME}), 201, "POST /speakers")["id"]
    refused = client.post(f"/speakers/{speaker}/enrol", files={"audio": ("k.wav", enrolment_wav(), "audio/wav")})
    if refused.status_code != 422:  # no consent, no voiceprint
        raise Failed(f"an enrolment without consent got HTTP {refused.status_code}, not 422")
    enrolled = expect(client.post(f"/speakers/{speaker}/enrol", files={"audio": ("k.wav", enrolment_wav(), "audio/wav")},
                                  data={"consent": "true", "consent_by": "image-check"}), 201, "POST /speakers/ID/enrol")
    started = time.monotonic()
    job, transcript = transcribe(client)
    check_transcript(transcript)
    state.write_text(json.dumps({"speaker": speaker, "job": job, "session": transcript.get("session_id")}))
    return (f"healthy after {ready:.0f} s, enrolled {NAME} ({enrolled['speech_seconds']} s of speech, with consent), "
            f"JFK transcribed and named in {time.monotonic() - started:.0f} s")


def again(client: httpx.Client, state: Path) -> str:
    made = json.loads(state.read_text())
    ready = wait_healthy(client, 600)
    speaker = expect(client.get(f"/speakers/{made['speaker']}"), 200, "GET /speakers/ID after the restart")
    if speaker["voiceprints"] < 1 or speaker["consent"] != "given":
        raise Failed(f"the speaker lost its voiceprint or consent over the restart: {speaker}")
    check_transcript(expect(client.get(f"/transcriptions/{made['job']}/result"), 200, "GET the result after the restart"))
    return f"healthy again after {ready:.0f} s; speaker, voiceprint, consent and transcript kept"


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in ("first", "again"):
        print(__doc__, file=sys.stderr)
        return 2
    phase, base, key, state = argv
    if not AUDIO.exists():
        print(f"service_client: {AUDIO} is missing (the shared recordings)", file=sys.stderr)
        return 1
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=120) as client:
        try:
            print((first if phase == "first" else again)(client, Path(state)))
        except Failed as exc:
            print(f"service_client: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
