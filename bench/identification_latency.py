"""Identification latency against 1k, 10k and 100k enrolled voiceprints, and enrolment time.

Voiceprints are synthetic unit vectors of the running embedder's size (the scale is what is
measured), stored in a real SQLite database and indexed by the service's FAISS matcher; a
recording's 6 cluster embeddings are then identified through the service's one path
(`speakers.identification.identify`: FAISS search, consent check, one-to-one assignment, names
from the database). Enrolment time is measured on a real 30 s sample through
`speakers.enrolment.enrol` (decode, VAD, embedding, checks, storage, index).

    python bench/identification_latency.py [--sizes 1000 10000 100000] [--clusters 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from database.engine import Database  # noqa: E402
from hearback.pipeline import Pipeline  # noqa: E402
from service.settings import Settings  # noqa: E402
from speakers import matching  # noqa: E402
from speakers.consent import GIVEN, Consent  # noqa: E402
from speakers.enrolment import enrol  # noqa: E402
from speakers.identification import Embedder, identify  # noqa: E402
from speakers.tables import Speaker, Voiceprint  # noqa: E402

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"


def fill(database: Database, count: int, embedder: Embedder, rng) -> None:
    vectors = rng.standard_normal((count, embedder.dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with database.open() as db:
        speakers = [Speaker(workspace="default", name=f"person {i}", consent=GIVEN) for i in range(max(1, count // 2))]
        db.add_all(speakers)
        db.flush()
        db.add_all([Voiceprint(speaker_id=speakers[i % len(speakers)].id, embedder=embedder.name,
                               dimension=embedder.dimension, vector=v.tobytes(), source="synthetic")
                    for i, v in enumerate(vectors)])
        db.commit()


def latency(size: int, clusters: int, repeat: int, embedder: Embedder, threshold: float, rng) -> tuple[float, float]:
    """(index build seconds, median identification milliseconds) with `size` voiceprints."""
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/bench.db")).upgrade()
        fill(database, size, embedder, rng)
        matcher = matching.FaissMatcher()
        started = time.perf_counter()
        with database.open() as db:
            matching.load(db, matcher)
        build = time.perf_counter() - started
        queries = rng.standard_normal((clusters, embedder.dimension)).astype(np.float32)
        labelled = {f"SPEAKER_{i:02d}": q for i, q in enumerate(queries)}
        times = []
        with database.open() as db:
            for _ in range(repeat):
                t = time.perf_counter()
                identify(db, matcher, "default", labelled, embedder.name, embedder, threshold)
                times.append(time.perf_counter() - t)
        return build, statistics.median(times) * 1000


def enrolment_seconds(pipeline: Pipeline) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/enrol.db")
        database = Database(settings).upgrade()
        matcher = matching.FaissMatcher()
        consent = Consent(True, "cli", recorded_by="bench")
        sample = AUDIO / "pyannote_sample.wav"
        times = []
        with database.open() as db:
            sid = enrol(db, matcher, pipeline, settings, sample, new_name="Sample", consent=consent).speaker.id
            for _ in range(3):
                t = time.perf_counter()
                enrol(db, matcher, pipeline, settings, sample, speaker_id=sid, consent=consent)
                times.append(time.perf_counter() - t)
        return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--clusters", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    pipeline = Pipeline(Settings.from_env()).load()
    embedder = Embedder.of(pipeline)
    print(f"embedder {embedder.name} ({embedder.dimension}-d)")
    print(f"{'voiceprints':>11s} {'index build s':>13s} {'identify ms (median)':>21s} {'per cluster ms':>15s}")
    for size in args.sizes:
        build, ms = latency(size, args.clusters, args.repeat, embedder, pipeline.identify_threshold, rng)
        print(f"{size:11d} {build:13.2f} {ms:21.2f} {ms / args.clusters:15.3f}")
    print(f"enrolment of a 30 s sample (decode + VAD + embed + checks + store), median of 3: "
          f"{enrolment_seconds(pipeline):.2f} s")


if __name__ == "__main__":
    main()
