"""Summaries in the service, on the real small model behind a real llama.cpp server: stored with the
session (SQLite and PostgreSQL), action items listed per speaker with today's names, the web page's
section, a job's `summary: true` with its webhook, and faults (endpoint stopped mid-job, time-out,
invalid output, no endpoint) that fail the summary with its reason while the transcript stays done."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from datetime import datetime

import numpy as np
import pytest
from conftest import KEY, audio, database_urls, free_port, fresh_database, service_client
from meetings import FRENCH, FRENCH_OWNERS, RECORDED, document

from hearback.result import Transcript
from hearback.summary import ActionItem, Outcome, Summary
from service.settings import Settings
from sessions.summaries import store_outcome
from sessions.transcripts import add_session, store_transcript
from speakers import roster
from speakers.consent import Consent, record_consent
from speakers.enrolment import add_voiceprint
from speakers.identification import Embedder


@contextlib.contextmanager
def service(pipeline, tmp_path, database: str = "sqlite", **overrides):
    """The whole service (job runner started) on a fresh database, with summary settings."""
    url = fresh_database(database, tmp_path)
    settings = Settings.from_env(data_dir=tmp_path / "data", api_key=KEY, database_url=url, **overrides)
    with service_client(settings, pipeline) as client:
        yield client


def stored_meeting(client, lines, language: str, tag: str = "", strangers: tuple = ()) -> tuple[str, dict[str, str]]:
    """A session whose transcript came out of the pipeline with cluster labels and embeddings, and
    whose speakers are enrolled (one voiceprint each, with consent), but `strangers`: the service
    names them when it stores it."""
    state = client.app.state
    embedder, ws = Embedder("test-voices-16", 16), state.settings.workspace  # the voices are made up, not heard
    doc = document(lines, language, enrolled={})
    rng = np.random.default_rng(16)
    names = {i["label"]: i for i in doc["identified_speakers"]}
    order = list(dict.fromkeys(name for name, _ in lines))
    vectors = {label: rng.normal(size=embedder.dimension).astype(np.float32) for label in names}
    doc["speaker_embeddings"] = {"model": embedder.name, "dimension": embedder.dimension,
                                 "vectors": {label: v.tolist() for label, v in vectors.items()}}
    with state.database.open() as db:
        ids = {}
        for label, name in zip(sorted(names), order):
            if name in strangers:
                continue
            speaker = roster.create_speaker(db, ws, name)
            record = record_consent(db, speaker, Consent(True, "cli", recorded_by="test"), ws)
            add_voiceprint(db, speaker, vectors[label], embedder.name, source="test", consent_id=record.id)
            ids[name] = speaker.id
        session = add_session(db, ws, "Rapport annuel", tag, datetime.combine(RECORDED, datetime.min.time()))
        db.commit()
        store_transcript(db, state.matcher, ws, session.id, Transcript.from_dict(doc), embedder,
                         state.settings.identify_threshold)
    return session.id, ids


def wait_for_summary(client, session_id: str, seconds: float = 300) -> dict:
    deadline = time.time() + seconds
    while time.time() < deadline:
        body = client.get(f"/sessions/{session_id}/summary").json()
        if body["state"] != "pending":
            return body
        time.sleep(0.5)
    pytest.fail(f"the summary of {session_id} was still pending after {seconds} s")


@pytest.mark.slow
@pytest.mark.parametrize("database", database_urls())
def test_a_summary_is_stored_with_the_session_and_actions_are_listed_per_speaker(database, pipeline, llm_server,
                                                                                tmp_path):
    with service(pipeline, tmp_path, database, **llm_server.settings()) as client:
        session_id, ids = stored_meeting(client, FRENCH, "fr")
        missing = client.get(f"/sessions/{session_id}/summary")
        assert missing.status_code == 404 and missing.json()["code"] == "summary_not_found"

        r = client.post(f"/sessions/{session_id}/summary", params={"wait": "true"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["state"] == "done" and body["kind"] == "meeting" and body["reason"] is None
        items = body["summary"]["action_items"]
        assert {(i["owner"], i["due"]) for i in items} <= set(FRENCH_OWNERS.items()) and len(items) >= 2
        assert all(i["speaker_id"] == ids[i["owner"]] for i in items)
        assert body["markdown"].startswith("## Résumé")

        owner = items[0]["owner"]
        actions = client.get(f"/speakers/{ids[owner]}/actions").json()
        assert actions["total"] == 1 and actions["items"][0]["session_id"] == session_id
        assert actions["items"][0]["due"] == FRENCH_OWNERS[owner] and actions["items"][0]["owner"] == owner
        assert client.get(f"/speakers/{ids[owner]}/actions", params={"tag": "autre"}).json()["total"] == 0

        assert client.patch(f"/speakers/{ids[owner]}", json={"name": f"{owner} R."}).status_code == 200
        renamed = client.get(f"/sessions/{session_id}/summary").json()
        assert f"{owner} R." in {i["owner"] for i in renamed["summary"]["action_items"]}
        md = client.get(f"/sessions/{session_id}/summary", params={"format": "md"})
        assert md.headers["content-type"].startswith("text/markdown") and f"**{owner} R.**" in md.text

        page = client.get(f"/ui/sessions/{session_id}", headers={"Accept-Language": "fr"})
        assert page.status_code == 200 and "Actions à faire" in page.text and f"{owner} R." in page.text
        assert "Redemander" in page.text


@pytest.mark.parametrize("database", database_urls())
def test_action_items_follow_renames_merges_and_clusters_named_later(database, pipeline, tmp_path):
    """The database's part, with a summary as a model would give it: owners by speaker id or label."""
    with service(pipeline, tmp_path, database) as client:
        session_id, ids = stored_meeting(client, FRENCH, "fr", strangers=("Claire",))
        transcript = client.get(f"/sessions/{session_id}/transcript").json()
        starts = {s["speaker"]: s["start"] for s in transcript["transcription"]["segments"]}
        assert set(starts) == {"Alice", "Bruno", "SPEAKER_02"}
        items = [ActionItem(owner="Bruno", task="la partie financière", due="2026-03-15", quote_start=starts["Bruno"],
                            speaker_id=ids["Bruno"]),
                 ActionItem(owner="SPEAKER_02", task="les graphiques", due=None, quote_start=starts["SPEAKER_02"]),
                 ActionItem(owner="Paul", task="réserver la salle", due="vendredi", quote_start=starts["Alice"])]
        summary = Summary(language="fr", summary="Le rapport annuel.", decisions=[], action_items=items,
                          open_questions=[], model="test")
        with client.app.state.database.open() as db:
            store_outcome(db, session_id, Outcome("done", summary))
        named = client.post(f"/sessions/{session_id}/clusters/SPEAKER_02/name", json={"name": "Claire", "consent": True})
        assert named.status_code == 200, named.text
        claire = named.json()["id"]
        assert [a["task"] for a in client.get(f"/speakers/{claire}/actions").json()["items"]] == ["les graphiques"]
        assert client.post(f"/speakers/{ids['Alice']}/merge", json={"source_id": ids["Bruno"]}).status_code == 200
        mine = client.get(f"/speakers/{ids['Alice']}/actions").json()
        assert [(a["owner"], a["task"], a["due"]) for a in mine["items"]] == [("Alice", "la partie financière",
                                                                               "2026-03-15")]
        owners = [a["owner"] for a in client.get(f"/sessions/{session_id}/summary").json()["summary"]["action_items"]]
        assert owners == ["Alice", "Claire", "Paul"]
        assert client.get(f"/speakers/{claire}/actions", params={"limit": 0}).status_code == 422
        assert client.get("/speakers/nobody/actions").status_code == 404


class Receiver(http.server.BaseHTTPRequestHandler):
    bodies: list = []

    def do_POST(self):
        type(self).bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_endpoint_stopped_mid_job_fails_the_summary_not_the_transcript_and_it_can_be_asked_again(pipeline,
                                                                                                 tmp_path):
    from llm_server import LlamaServer

    server = LlamaServer(free_port(), tmp_path / "llm.log").start()
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    try:
        with service(pipeline, tmp_path, **server.settings(), webhook_attempts=1) as client:
            r = client.post("/transcriptions", data={"language": "en", "summary": "true", "webhook_url": hook},
                            files={"audio": ("jfk.flac", audio("jfk.flac").read_bytes(), "audio/flac")})
            assert r.status_code == 202, r.text
            job_id = r.json()["id"]
            deadline = time.time() + 300
            while (status := client.get(f"/transcriptions/{job_id}").json())["stage"] != "summarizing":
                assert time.time() < deadline and status["state"] not in ("done", "failed"), status
                time.sleep(0.05)
            server.stop()
            job = client.app.state.runner.wait(job_id)
            assert job.state == "done" and job.error == ""
            session_id = job.session_id
            transcript = client.get(f"/sessions/{session_id}/transcript").json()
            assert "fellow Americans" in transcript["transcription"]["text"]
            failed = client.get(f"/sessions/{session_id}/summary").json()
            assert failed["state"] == "failed" and failed["code"] == "llm_unreachable"
            assert "cannot be reached" in failed["reason"] or "broke off" in failed["reason"]
            deadline = time.time() + 30
            while not Receiver.bodies and time.time() < deadline:
                time.sleep(0.1)
            assert Receiver.bodies[-1]["state"] == "done" and Receiver.bodies[-1]["summary"]["state"] == "failed"
            page = client.get(f"/ui/sessions/{session_id}", headers={"Accept-Language": "fr"}).text
            assert "Le résumé a échoué" in page and "Le modèle de langue est injoignable" in page

            server.start()  # back on the same port: ask again
            again = client.post(f"/sessions/{session_id}/summary")
            assert again.status_code == 202 and again.json()["state"] == "pending"
            busy = client.post(f"/sessions/{session_id}/summary")
            assert busy.status_code in (202, 409)  # 409 while the first one is still being written
            done = wait_for_summary(client, session_id)
            assert done["state"] == "done" and done["summary"]["language"] == "en"
    finally:
        server.stop()
        receiver.shutdown()


@pytest.mark.slow
def test_a_time_out_and_invalid_output_fail_the_summary_with_the_reason(pipeline, llm_server, tmp_path):
    for overrides, code, words in (({"llm_timeout": 0.5}, "llm_timeout", "did not answer within 0.5 s"),
                                   ({"llm_max_tokens": 12}, "llm_invalid_output", "invalid twice")):
        with service(pipeline, tmp_path / code, **{**llm_server.settings(), **overrides}) as client:
            session_id, _ = stored_meeting(client, FRENCH, "fr")
            body = client.post(f"/sessions/{session_id}/summary", params={"wait": "true"}).json()
            assert body["state"] == "failed" and body["code"] == code and words in body["reason"]
            assert body["summary"] is None and body["markdown"] is None
            sessions = client.get("/sessions").json()["items"]
            assert [s["status"] for s in sessions] == ["done"]
            assert client.get(f"/sessions/{session_id}/transcript").status_code == 200
            md = client.get(f"/sessions/{session_id}/summary", params={"format": "md"})
            assert md.status_code == 409 and words in md.json()["detail"]


def test_without_an_endpoint_nothing_is_sent_and_asking_says_so(pipeline, tmp_path):
    with service(pipeline, tmp_path) as client:
        refused = client.post("/transcriptions", data={"audio_url": "https://example.org/a.wav", "summary": "true"})
        assert refused.status_code == 503 and refused.json()["code"] == "summary_unavailable"
        assert client.get("/sessions").json()["total"] == 0
        session_id, _ = stored_meeting(client, FRENCH, "fr")
        asked = client.post(f"/sessions/{session_id}/summary")
        assert asked.status_code == 503 and "HEARBACK_LLM_URL" in asked.json()["detail"]
        page = client.get(f"/ui/sessions/{session_id}").text
        assert 'id="summary"' not in page
        assert client.post("/sessions/nope/summary").status_code in (404, 503)
