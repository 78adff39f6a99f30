"""A big workspace, timed: every list of the API and every page through the real app.

Fills a database (SQLite by default, PostgreSQL with --database-url) with --speakers speakers
(20,000; one fake 192-d voiceprint each, no model) and --sessions sessions (100,000; one line of a
speaker in each), by bulk inserts, then asks each list endpoint and page once over TestClient and
prints the milliseconds, the answer's size and the growth of the process's RSS per request.
Issue 25: before pagination, /ui/speakers grew with the square of the speakers (20,000: killed at
17 GB) and GET /speakers sent all of them (20,000: 26 MB).

    PYTHONPATH=. python bench/big_workspace.py [--speakers 20000 --sessions 100000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

BATCH = 5000  # rows per bulk insert
KEY = "bench-key"


def rss_mb() -> float:
    """The process's resident memory now (Linux), in MB."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 1e6


def fill(database, speakers: int, sessions: int) -> str:
    """Bulk inserts (SQLAlchemy Core); the id of one speaker, for the per-speaker lists."""
    from database.clock import now
    from database.folding import name_key
    from sessions.tables import Session, Utterance
    from speakers.tables import Speaker, Voiceprint

    vector = np.ones(192, np.float32) / np.sqrt(192)
    at = now()
    speaker_ids = [f"s{i:031d}" for i in range(speakers)]
    with database.engine.begin() as c:
        for start in range(0, speakers, BATCH):
            rows = range(start, min(start + BATCH, speakers))
            c.execute(Speaker.__table__.insert(), [{
                "id": speaker_ids[i], "workspace": "default", "name": f"Speaker {i:05}",
                "name_key": name_key(f"Speaker {i:05}"), "notes": "", "created_at": at, "consent": "given"}
                for i in rows])
            c.execute(Voiceprint.__table__.insert(), [{
                "speaker_id": speaker_ids[i], "embedder": "campp-192", "dimension": 192, "vector": vector.tobytes(),
                "source": "bench", "speech_seconds": 10.0, "created_at": at, "origin": "enrolment", "quality": 1.0,
                "audio_key": ""} for i in rows])
        for start in range(0, sessions, BATCH):
            rows = range(start, min(start + BATCH, sessions))
            c.execute(Session.__table__.insert(), [{
                "id": f"r{i:031d}", "workspace": "default", "title": f"Session {i}", "tag": f"tag{i % 50}",
                "language": "en", "duration": 60.0, "status": "done", "meta": {}, "created_at": at,
                "participants": []} for i in rows])
            c.execute(Utterance.__table__.insert(), [{
                "session_id": f"r{i:031d}", "cluster_label": "SPEAKER_00", "speaker_id": speaker_ids[i % speakers],
                "start": 0.0, "end": 5.0, "text": f"line {i}", "search_text": f"line {i}", "words": [],
                "language": "en"} for i in rows])
    return speaker_ids[0]


def timed(client, path: str) -> tuple[float, int, float]:
    """Milliseconds, bytes of the answer and RSS growth (MB) of one request."""
    before = rss_mb()
    started = time.perf_counter()
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])
    return (time.perf_counter() - started) * 1000, len(answer.content), rss_mb() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speakers", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL (emptied first); default: a new SQLite file")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from api.app import create_app
    from database.engine import Database
    from service.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="big-workspace-"))
    settings = Settings(data_dir=folder, database_url=args.database_url or f"sqlite:///{folder}/big.db", api_key=KEY,
                        embedder="campp")
    started = time.perf_counter()
    speaker = fill(Database(settings).upgrade(), args.speakers, args.sessions)
    print(f"filled {args.speakers} speakers, {args.sessions} sessions in {time.perf_counter() - started:.0f} s")
    paths = ["/speakers", "/speakers?offset=19000&limit=200", "/sessions", "/groups", "/audit",
             f"/speakers/{speaker}/utterances", f"/speakers/{speaker}/talk-time", f"/speakers/{speaker}/actions",
             "/ui/speakers", "/ui/speakers?offset=10000", "/ui/speakers/names?q=speaker%201", "/ui/sessions",
             "/ui/sessions?offset=50000", "/ui/search?q=line%2042", "/ui/groups"]
    with TestClient(create_app(settings), headers={"X-API-Key": KEY}) as client:
        client.get("/speakers")  # warm: the first request loads what every later one shares
        print(f"{'request':45} {'ms':>8} {'KB':>8} {'RSS +MB':>8}")
        for path in paths:
            ms, size, grown = timed(client, path)
            print(f"{path[:45]:45} {ms:8.0f} {size / 1000:8.0f} {grown:8.1f}")
    print(f"RSS at the end: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
