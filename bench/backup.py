"""How long `hearback backup` and `hearback restore` take for 10k voiceprints (README figures).

A database with 10,000 voiceprints (2,000 speakers x 5, CAM++-sized vectors, each with a consent
record), 200 sessions of 100 utterances, and 200 kept enrolment samples of 10 s (the kept audio's
cost grows with its size: the figure per sample is printed too). Backup, then restore into an
empty database and rebuild the FAISS index; SQLite always, PostgreSQL with DATABASE_TEST_URL.

    python bench/backup.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.backup import backup, restore  # noqa: E402
from database.engine import Database  # noqa: E402
from service.settings import Settings  # noqa: E402
from sessions.tables import Session, Utterance  # noqa: E402
from speakers.tables import ConsentRecord, Speaker, Voiceprint  # noqa: E402
from speakers.voice_audio import VoiceAudio  # noqa: E402

SPEAKERS, PRINTS_EACH, DIM, SESSIONS, LINES_EACH, SAMPLES, SAMPLE_SECONDS = 2000, 5, 192, 200, 100, 200, 10.0


def fill(database: Database, voices: VoiceAudio) -> None:
    rng = np.random.default_rng(0)
    sample = (0.1 * rng.standard_normal(int(SAMPLE_SECONDS * 16000))).astype(np.float32)
    with database.open() as db:
        speakers = [Speaker(name=f"person {i}", consent="given") for i in range(SPEAKERS)]
        db.add_all(speakers)
        db.flush()
        consents = [ConsentRecord(speaker_id=s.id, given_by=s.name, method="upload") for s in speakers]
        db.add_all(consents)
        db.flush()
        for n, (speaker, consent) in enumerate(zip(speakers, consents)):
            for k in range(PRINTS_EACH):
                vector = rng.standard_normal(DIM).astype(np.float32)
                key = voices.keep(speaker.id, sample) if n * PRINTS_EACH + k < SAMPLES else ""
                db.add(Voiceprint(speaker_id=speaker.id, embedder="campp-3dspeaker-zh-en-192", dimension=DIM,
                                  vector=(vector / np.linalg.norm(vector)).tobytes(), audio_key=key,
                                  consent_id=consent.id, speech_seconds=SAMPLE_SECONDS))
        for i in range(SESSIONS):
            session = Session(title=f"meeting {i}", status="done", meta={"model": {}})
            db.add(session)
            db.flush()
            db.add_all(Utterance(session_id=session.id, speaker_id=speakers[(i + j) % SPEAKERS].id,
                                 cluster_label=f"SPEAKER_{j % 6:02d}", start=j * 5.0, end=j * 5.0 + 4.0,
                                 text="a line of about a dozen words said in a meeting by someone",
                                 words=[{"word": "a", "start": j * 5.0, "end": j * 5.0 + 0.2, "score": 0.9}] * 12)
                       for j in range(LINES_EACH))
        db.commit()


def empty_postgres(url: str, name: str) -> str:
    server = url.rsplit("/", 1)[0]
    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server}/{name}"


def run(kind: str, source_url: str, target_url: str, folder: Path) -> None:
    source = Settings(data_dir=folder / "a", database_url=source_url)
    target = Settings(data_dir=folder / "b", database_url=target_url)
    folder.mkdir(parents=True, exist_ok=True)
    database = Database(source).upgrade()
    fill(database, VoiceAudio.of(source))
    archive = folder / f"{kind}.backup"
    started = time.perf_counter()
    made = backup(database, VoiceAudio.of(source), archive)
    backed = time.perf_counter() - started
    started = time.perf_counter()
    done = restore(Database(target), VoiceAudio.of(target), archive, "bench")
    restored = time.perf_counter() - started
    size = archive.stat().st_size / 1e6
    print(f"| {kind} | {made.rows['voiceprints']} | {sum(made.rows.values())} | {made.audio} x {SAMPLE_SECONDS:g} s | "
          f"{size:.0f} MB | {backed:.1f} s | {restored:.1f} s (index: {done.voiceprints_indexed}) |", flush=True)


def main() -> None:
    print("| database | voiceprints | rows | kept samples | archive | backup | restore + index |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="hearback-bench-") as folder:
        run("SQLite", f"sqlite:///{folder}/a.db", f"sqlite:///{folder}/b.db", Path(folder) / "sqlite")
        url = os.environ.get("DATABASE_TEST_URL")
        if url:
            run("PostgreSQL", empty_postgres(url, "hearback_bench_a"), empty_postgres(url, "hearback_bench_b"),
                Path(folder) / "postgresql")


if __name__ == "__main__":
    main()
