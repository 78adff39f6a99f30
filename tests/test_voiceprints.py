"""Voiceprints over time (issue 11, the service side), on real voices of other meetings
(../shared/audio/voices/council: NAME_enrol and NAME_test are the same person on different days):
a 3 s enrolment that identifies and grows with use, a model change survived by re-embedding,
no comparison across embedders, and enrichment that does not drift onto another voice."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import CONSENT, KEY, ROOT, clip, service_client, transcribe, wav_bytes
from hearback.embedders import IDENTIFY_THRESHOLD


def council(name: str, part: str, start: float = 0.0, end: float = 60.0) -> np.ndarray:
    return clip(f"voices/council/{name}_{part}.flac", start, end)


@pytest.fixture
def service_settings(tmp_path):
    from service.settings import Settings

    return Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'hearback.db'}", api_key=KEY,
                    enrich=True, enrich_min_seconds=5.0)


def enrol(client, name: str, samples) -> dict:
    sid = client.post("/speakers", json={"name": name}).json()["id"]
    r = client.post(f"/speakers/{sid}/enrol", files={"audio": (f"{name}.wav", wav_bytes(samples), "audio/wav")},
                    data=CONSENT)
    assert r.status_code == 201, r.text
    return r.json()


def vector_of(pipeline, samples) -> list[float]:
    from hearback.decode import Audio

    return pipeline.voice_sample(Audio(samples)).vector.tolist()


@pytest.mark.slow
def test_a_3_s_enrolment_identifies_and_grows_with_use(service_settings, pipeline):
    with service_client(service_settings, pipeline) as client:
        lewis = enrol(client, "Lewis", council("lewis", "enrol", 0.0, 3.8))
        assert 3.0 <= lewis["speech_seconds"] < 4.0 and lewis["warning_codes"] == ["short_sample"]
        assert "10 s" in lewis["warnings"][0] and 0.2 < lewis["quality"] < 0.5
        assert lewis["voiceprint"]["quality"] == lewis["quality"]
        for other in ("juarez", "mosqueda"):
            enrol(client, other.title(), council(other, "enrol"))
        sid = lewis["speaker"]["id"]
        result = transcribe(client, council("lewis", "test"), title="Another meeting")
        assert result["speakers"] == ["Lewis"], result["identified_speakers"]
        # a clear match of enough speech becomes one more voiceprint, recorded under Lewis's consent
        prints = client.get(f"/speakers/{sid}/voiceprints").json()
        assert [p["origin"] for p in prints] == ["enrolment", "enriched"], prints
        consents = client.get(f"/speakers/{sid}/consents").json()
        assert [c["method"] for c in consents] == ["upload", "enrichment"]
        assert f"under consent #{consents[0]['id']}" in consents[1]["note"]
        (entry,) = client.get("/audit", params={"action": "enrich"}).json()["items"]
        assert entry["detail"]["session_id"] == result["session_id"] and entry["detail"]["anchor"] >= IDENTIFY_THRESHOLD["campp"] + 0.05
        # strangers' clips from other meetings are not Lewis
        question = {"embedder": pipeline.embedder_name,
                    "embeddings": {name: vector_of(pipeline, council(name, "test")) for name in ("gonzalez", "morales")}}
        assert all(s["name"] != "Lewis" for s in client.post("/identify", json=question).json()["speakers"])


@pytest.mark.slow
def test_voiceprints_survive_a_model_change(service_settings, pipeline, tmp_path):
    from hearback.pipeline import Pipeline

    settings = service_settings
    ge2e_settings = dataclasses.replace(settings, embedder="ge2e")
    ge2e = Pipeline(ge2e_settings, asr=pipeline.asr)
    with service_client(ge2e_settings, ge2e) as client:
        enrolled = enrol(client, "Lewis", council("lewis", "enrol"))
        assert enrolled["voiceprint"]["embedder"] == "resemblyzer-ge2e-256"
    sid = enrolled["speaker"]["id"]
    lewis_test = {"SPEAKER_00": vector_of(pipeline, council("lewis", "test"))}
    with service_client(service_settings, pipeline) as client:  # the model changed: CAM++
        speaker = client.get(f"/speakers/{sid}").json()
        assert (speaker["needs_reenrolment"], speaker["stale_voiceprints"]) == (True, 1)
        (voiceprint,) = client.get(f"/speakers/{sid}/voiceprints").json()
        assert (voiceprint["current"], voiceprint["audio_kept"], voiceprint["needs_reenrolment"]) == (False, True, False)
        found = client.post("/identify", json={"embedder": pipeline.embedder_name, "embeddings": lewis_test}).json()
        assert found["speakers"][0]["name"] is None  # a GE2E voiceprint is never compared with CAM++ vectors
        old = {"embedder": "resemblyzer-ge2e-256", "embeddings": {"SPEAKER_00": vector_of(ge2e, council("lewis", "test"))}}
        refused = client.post("/identify", json=old)
        assert refused.status_code == 422 and "cannot be compared" in refused.json()["detail"]
    env = {**os.environ, "HEARBACK_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url}
    listing = subprocess.run([sys.executable, "-m", "app.cli", "speakers", "list"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0 and "needs re-embedding or re-enrolment" in listing.stdout, listing
    assert "hearback speakers reembed" in listing.stderr
    with service_client(dataclasses.replace(settings, reembed_on_start=True), pipeline) as client:
        speaker = client.get(f"/speakers/{sid}").json()
        assert (speaker["needs_reenrolment"], speaker["stale_voiceprints"]) == (False, 0)
        found = client.post("/identify", json={"embedder": pipeline.embedder_name, "embeddings": lewis_test}).json()
        assert found["speakers"][0]["name"] == "Lewis" and found["speakers"][0]["score"] > 0.5
        (entry,) = client.get("/audit", params={"action": "reembed"}).json()["items"]
        assert entry["detail"] == {"voiceprint_id": voiceprint["id"], "before": "resemblyzer-ge2e-256",
                                   "after": pipeline.embedder_name}


def test_enrichment_does_not_drift_onto_another_voice(service_settings, pipeline):
    """A stranger whose cluster scores just above the threshold is named but never added; several
    genuine enrichments (capped, the oldest replaced) do not bring the stranger closer."""
    from sqlalchemy import select

    from database.engine import Database
    from hearback.embedders import identify_threshold
    from hearback.embedders.centre import comparable
    from hearback.result import Transcript
    from hearback.vectors import checked_unit
    from sessions import transcripts
    from speakers.consent import Consent
    from speakers.enrichment import Guard
    from speakers.enrolment import enrol as enrol_sample
    from speakers.identification import Embedder
    from speakers.matching import FaissMatcher
    from speakers.tables import Voiceprint

    settings = dataclasses.replace(service_settings, enrich_max=2)
    guard, threshold, running = Guard.of(settings), identify_threshold(settings), Embedder.of(pipeline)
    matcher = FaissMatcher()
    database = Database(settings).upgrade()
    samples = settings.data_dir / "samples"
    samples.mkdir(parents=True)

    def enrolled(name: str, part: np.ndarray) -> str:
        from conftest import write_wav

        path = write_wav(samples / f"{name}.wav", part)
        with database.open() as db:
            return enrol_sample(db, matcher, pipeline, settings, path, new_name=name,
                                consent=Consent(True, "cli", recorded_by="test")).speaker.id

    def session(vector: np.ndarray, seconds: float = 20.0) -> float:
        """A stored session whose one cluster has `vector`; returns the score it was named Lewis with."""
        transcript = Transcript(segments=[], language="en", duration=seconds, embedder=running.name,
                                speaker_embeddings={"SPEAKER_00": vector}, quality={"speaker_seconds": {"SPEAKER_00": seconds}})
        with database.open() as db:
            sid = transcripts.add_session(db, settings.workspace).id
            db.commit()
            transcripts.store_transcript(db, matcher, settings.workspace, sid, transcript, running, threshold, guard)
            (named,) = transcripts.read_transcript(db, settings.workspace, sid)[1].identifications
        return named.score if named.name == "Lewis" else -1.0

    def enriched() -> list[int]:
        with database.open() as db:
            return list(db.scalars(select(Voiceprint.id).where(Voiceprint.origin == "enriched").order_by(Voiceprint.id)))

    lewis = enrolled("Lewis", council("lewis", "enrol", 0.0, 4.5))
    enrolled("Juarez", council("juarez", "enrol"))
    with database.open() as db:
        anchor = db.query(Voiceprint).filter_by(speaker_id=lewis).one().array
    stranger = np.asarray(vector_of(pipeline, council("morales", "test")), np.float32)
    # the stranger's cluster, mixed with Lewis's voice until it scores just above the threshold
    mixed = next(m for m in (checked_unit(w * anchor + (1 - w) * stranger) for w in np.linspace(0, 1, 101))
                 if float(comparable(m, running.name) @ comparable(anchor, running.name)) >= threshold + guard.margin / 2)
    assert threshold <= session(mixed) < threshold + guard.margin and enriched() == []

    genuine = [council("lewis", "test"), council("lewis", "test", 0.0, 6.0), council("lewis", "test", 5.0, 12.0),
               council("lewis", "enrol", 8.0, 23.0)]
    added = []
    for part in genuine:
        assert session(np.asarray(vector_of(pipeline, part), np.float32)) >= threshold + guard.margin
        added.append(enriched())
    assert [len(ids) for ids in added] == [1, 2, 2, 2] and added[-1][0] > added[1][1]  # capped: the oldest go
    assert session(stranger) == -1.0  # the stranger still does not match Lewis
    session(mixed)  # may score higher now (against enriched voiceprints), but its anchors still say no
    assert enriched() == added[-1]
    with database.open() as db:
        assert db.query(Voiceprint).filter_by(speaker_id=lewis, origin="enrolment").count() == 1
