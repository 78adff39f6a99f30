"""Backups for real: `hearback backup FILE` on a service's database (real speech enrolled and
transcribed), `hearback restore FILE` into a fresh one (SQLite to SQLite, PostgreSQL to PostgreSQL),
then the same identification results, transcripts and kept audio as before."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import (
    CONSENT,
    ENROL,
    KEY,
    ROOT,
    clip,
    database_urls,
    enrol,
    fresh_database,
    service_client,
    transcribe,
    wav_bytes,
)
from sqlalchemy import create_engine, select, text


def second_database(url: str, tmp_path) -> str:
    """An empty database beside the test one: a new SQLite file, or a PostgreSQL database created now."""
    if url == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    server, name = url.rsplit("/", 1)
    restored = f"{name}_restored"
    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{restored}"'))
    engine.dispose()
    return f"{server}/{restored}"


def hearback(*args: str, data_dir, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HEARBACK_DATA_DIR": str(data_dir), "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("url", database_urls())
def test_backup_then_restore_into_a_fresh_database_identifies_the_same(url, tmp_path, pipeline):
    from hearback.decode import Audio
    from service.settings import Settings

    source = Settings(data_dir=tmp_path / "data", database_url=fresh_database(url, tmp_path), api_key=KEY)
    parts = {"Kennedy": clip("jfk.flac", 0.0, 5.5), "Reader": clip("multilingual.mp3", 0.0, 14.5),
             "stranger": clip("hotwords.mp3", 0.0, 4.0)}
    question = {"embedder": pipeline.embedder_name, "embeddings": {
        label: pipeline.voice_sample(Audio(samples)).vector.tolist() for label, samples in parts.items()}}
    with service_client(source, pipeline) as client:
        for name in ENROL:
            enrol(client, name)
        result = transcribe(client, np.concatenate([parts["Kennedy"], np.zeros(8000, np.float32), parts["Reader"]]),
                            title="Session 12", tag="campaign")
        before = (client.post("/identify", json=question).json(),
                  client.get(f"/sessions/{result['session_id']}/transcript").json(), client.get("/speakers").json())
        indexed = client.app.state.matcher.snapshot()
    names = {s["label"]: s["name"] for s in before[0]["speakers"]}
    assert names == {"Kennedy": "Kennedy", "Reader": "Reader", "stranger": None}, before[0]

    archive = tmp_path / "hearback.backup"
    made = hearback("backup", str(archive), data_dir=source.data_dir, database_url=source.database_url)
    assert made.returncode == 0 and "3 audio file(s)" in made.stdout, made.stderr
    restored = Settings(data_dir=tmp_path / "restored", database_url=second_database(url, tmp_path), api_key=KEY)
    loaded = hearback("restore", str(archive), data_dir=restored.data_dir, database_url=restored.database_url)
    assert loaded.returncode == 0 and f"index rebuilt with {len(indexed)} voiceprints" in loaded.stdout, loaded.stderr
    assert len(list((restored.data_dir / "voices").rglob("*.wav"))) == 3
    with service_client(restored, pipeline) as client:
        after = (client.post("/identify", json=question).json(),
                 client.get(f"/sessions/{result['session_id']}/transcript").json(), client.get("/speakers").json())
        assert after == before and client.app.state.matcher.snapshot() == indexed
        kennedy = next(s["id"] for s in after[2] if s["name"] == "Kennedy")
        assert client.get(f"/speakers/{kennedy}/export").status_code == 200  # its kept audio came along
        assert client.get("/audit", params={"action": "restore"}).json()["total"] == 1
        extra = client.post("/speakers", json={"name": "Kennedy again"}).json()["id"]  # new ids follow the restored
        r = client.post(f"/speakers/{extra}/enrol", files={"audio": ("k.wav", wav_bytes(parts["Kennedy"]))}, data=CONSENT)
        assert r.status_code == 201 and r.json()["voiceprint"]["id"] > max(indexed), r.text

    again = hearback("restore", str(archive), data_dir=restored.data_dir, database_url=restored.database_url)
    assert again.returncode == 2 and "restore into an empty one" in again.stderr and "Traceback" not in again.stderr
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup")
    bad = hearback("restore", str(junk), data_dir=tmp_path / "other", database_url=f"sqlite:///{tmp_path / 'o.db'}")
    assert bad.returncode == 2 and "is not a Hearback backup" in bad.stderr


def test_a_small_database_round_trips_with_its_kept_audio(tmp_path):
    """The fast tier's backup check, in process and without models: a speaker, a voiceprint with a
    kept sample and an audit entry go into the archive and come back into an empty database, index
    rebuilt; a restore into a database that is not empty is refused and changes nothing."""
    from app.backup import backup, restore
    from database.engine import Database
    from hearback.errors import HearbackError
    from service.settings import Settings
    from speakers.enrolment import add_voiceprint
    from speakers.roster import create_speaker
    from speakers.tables import Speaker
    from speakers.voice_audio import VoiceAudio

    source = Settings(data_dir=tmp_path / "a", database_url=f"sqlite:///{tmp_path / 'a.db'}")
    voices = VoiceAudio(source.data_dir / "voices")
    (voices.root / "alice").mkdir(parents=True)
    (voices.root / "alice" / "sample.wav").write_bytes(b"RIFF kept sample")
    database = Database(source).upgrade()
    vector = np.eye(192, dtype=np.float32)[3]
    with database.open() as db:
        alice = create_speaker(db, source.workspace, "Alice")
        add_voiceprint(db, alice, vector, "campp-3dspeaker-zh-en-192", "enrolment", 12.0, audio_key="alice/sample.wav")
        db.commit()
    made = backup(database, voices, tmp_path / "hearback.backup")
    assert made.audio == 1 and made.rows["speakers"] == 1 and made.rows["voiceprints"] == 1

    target = Settings(data_dir=tmp_path / "b", database_url=f"sqlite:///{tmp_path / 'b.db'}")
    restored_voices = VoiceAudio(target.data_dir / "voices")
    done = restore(Database(target), restored_voices, made.path, "test")
    assert done.voiceprints_indexed == 1 and done.audio == 1
    assert (restored_voices.root / "alice" / "sample.wav").read_bytes() == b"RIFF kept sample"
    with Database(target).open() as db:
        assert [s.name for s in db.scalars(select(Speaker))] == ["Alice"]
    with pytest.raises(HearbackError):
        restore(Database(target), restored_voices, made.path, "test")  # not empty now
    with Database(target).open() as db:
        assert [s.name for s in db.scalars(select(Speaker))] == ["Alice"]
