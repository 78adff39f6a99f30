"""The service sending its jobs to a RunPod endpoint through the `runpod` SDK.

RunPod's cloud API cannot exist here. The real worker runs with the SDK's local API server, and a
small loopback translator stands in for RunPod's routing layer: the SDK's `/{endpoint}/run` and
`GET /{endpoint}/status/{id}` are passed to the local server's `/run` and `POST /status/{id}`.
Everything else is real: the SDK client, the worker, the pipeline, the service's matching.
"""

from __future__ import annotations

import pytest
from conftest import ENROL, KEY, clip, enrol, meeting, service_client, write_wav


def test_jobs_go_to_runpod_and_come_back_named(runpod_endpoint, pipeline, tmp_path):
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/db.sqlite", api_key=KEY,
                        min_enrol_seconds=3.0, runpod_endpoint_id="hearback-test", runpod_api_key="rp-key")
    with service_client(settings, pipeline) as client:
        for name in ENROL:
            enrol(client, name)
        samples, _ = meeting()
        wav = write_wav(tmp_path / "meeting.wav", samples).read_bytes()
        job = client.post("/transcriptions", files={"audio": ("m.wav", wav, "audio/wav")},
                          data={"language": "en", "title": "on RunPod"}).json()
        done = client.app.state.runner.wait(job["id"], timeout=300)
        assert done.state == "done", done.error
        result = client.get(f"/transcriptions/{job['id']}/result").json()
    assert {i["name"] for i in result["identified_speakers"] if i["name"]} == set(ENROL)
    assert result["model"]["asr"]["backend"] == "faster-whisper"
    calls = [(m, p.split("/")[2]) for m, p, _ in runpod_endpoint.seen]
    assert ("POST", "run") in calls and ("GET", "status") in calls
    assert all(auth == "Bearer rp-key" for _, _, auth in runpod_endpoint.seen)
    assert all(p.startswith("/hearback-test/") for _, p, _ in runpod_endpoint.seen)
    # the worker's transcript came back typed: word scores and timings survive the trip
    words = [w for s in result["transcription"]["segments"] for w in s["words"]]
    assert words and all(0.0 <= w["score"] <= 1.0 for w in words) and len({w["score"] for w in words}) > 10
    assert result["timings"]["fetch"] >= 0 and result["timings"]["asr"] > 0


def test_participants_travel_to_the_runpod_worker_and_come_back_named(runpod_endpoint, pipeline, tmp_path):
    """Participants' voiceprints go in the worker's `speakers` (name, embedding, embedder as
    `model`): the worker anchors on them and the clusters come back as their speaker ids."""
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/db.sqlite", api_key=KEY,
                        min_enrol_seconds=3.0, runpod_endpoint_id="hearback-test", runpod_api_key="rp-key")
    with service_client(settings, pipeline) as client:
        for name in ENROL:
            enrol(client, name)
        samples, _ = meeting()
        wav = write_wav(tmp_path / "meeting.wav", samples).read_bytes()
        job = client.post("/transcriptions", files={"audio": ("m.wav", wav, "audio/wav")},
                          data={"language": "en", "participants": ",".join(ENROL)}).json()
        done = client.app.state.runner.wait(job["id"], timeout=300)
        assert done.state == "done", done.error
        result = client.get(f"/transcriptions/{job['id']}/result").json()
    assert {i["name"] for i in result["identified_speakers"] if i["name"]} == set(ENROL)
    sent = [body for method, path, body in runpod_endpoint.bodies if path.endswith("/run")]
    speakers = sent[-1]["input"]["speakers"]
    assert {s["model"] for s in speakers} == {pipeline.embedder_name}
    assert all(len(s["embedding"]) == pipeline.embedding_dim for s in speakers)


def test_a_failed_runpod_job_says_why(runpod_endpoint, pipeline, tmp_path):
    """The worker refuses the job (an audio_url it may not fetch): the job fails with the worker's
    own words, read through the SDK's public status request."""
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/db.sqlite", api_key=KEY,
                        runpod_endpoint_id="hearback-test", runpod_api_key="rp-key")
    with service_client(settings, pipeline) as client:
        job = client.post("/transcriptions", data={"audio_url": "http://10.0.0.1/meeting.wav"}).json()
        done = client.app.state.runner.wait(job["id"], timeout=120)
    assert done.state == "failed" and "private" in done.error, done.error


def test_runpod_without_a_key_is_refused_at_start(tmp_path):
    from api.app import create_app
    from hearback.errors import ConfigError
    from service.settings import Settings

    with pytest.raises(ConfigError, match="RUNPOD_API_KEY"):
        create_app(Settings(data_dir=tmp_path, api_key=KEY, runpod_endpoint_id="hearback-test"))


@pytest.mark.slow
def test_status_requests_that_fail_are_asked_again(runpod_endpoint, pipeline, tmp_path, monkeypatch):
    """RunPod's status answers 503 twice (a hiccup of its API): the job goes on and ends done."""
    from service.settings import Settings

    answer = runpod_endpoint.do_GET
    hiccups = []

    def flaky(handler):
        if len(hiccups) < 2:
            hiccups.append(handler.path)
            handler._answer(503, b'{"error": "busy"}')
            return
        answer(handler)

    monkeypatch.setattr(runpod_endpoint, "do_GET", flaky)
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/db.sqlite", api_key=KEY,
                        runpod_endpoint_id="hearback-test", runpod_api_key="rp-key")
    with service_client(settings, pipeline) as client:
        wav = write_wav(tmp_path / "jfk.wav", clip("jfk.flac", 0.0, 4.0)).read_bytes()
        job = client.post("/transcriptions", files={"audio": ("jfk.wav", wav, "audio/wav")}, data={"language": "en"})
        done = client.app.state.runner.wait(job.json()["id"], timeout=300)
    assert done.state == "done" and len(hiccups) == 2, done.error
