"""The service sending its jobs to a RunPod endpoint through the `runpod` SDK.

RunPod's cloud API cannot exist here. The real worker runs with the SDK's local API server, and a
small loopback translator stands in for RunPod's routing layer: the SDK's `/{endpoint}/run` and
`GET /{endpoint}/status/{id}` are passed to the local server's `/run` and `POST /status/{id}`.
Everything else is real: the SDK client, the worker, the pipeline, the service's matching.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import write_wav
from test_service import ENROL, KEY, enrol, meeting


def test_jobs_go_to_runpod_and_come_back_named(runpod_endpoint, pipeline, tmp_path):
    from api.app import create_app
    from hearback.settings import Settings
    from speakers.service import SpeakerService

    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/db.sqlite", api_key=KEY,
                        min_enrol_seconds=3.0, runpod_endpoint_id="hearback-test", runpod_api_key="rp-key")
    with TestClient(create_app(settings, SpeakerService(settings, pipeline=pipeline)),
                    headers={"X-API-Key": KEY}) as client:
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
