"""Identification latency against 1k, 10k and 100k enrolled voiceprints, and enrolment time.

Voiceprints are synthetic unit vectors (the scale is what is measured), stored in a real SQLite
database and indexed by the service's FAISS index; a recording's 6 cluster embeddings are then
identified (FAISS search + one-to-one assignment + names from the database). Enrolment time is
measured on a real 30 s sample.

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

from hearback.settings import Settings  # noqa: E402
from speakers.models import Speaker, Voiceprint  # noqa: E402
from speakers.service import SpeakerService  # noqa: E402

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"
MODEL = "resemblyzer-ge2e-256"


def fill(service: SpeakerService, count: int, rng) -> None:
    vectors = rng.standard_normal((count, 256)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with service.db.session() as db:
        speakers = [Speaker(workspace="default", name=f"person {i}") for i in range(count // 2)]
        db.add_all(speakers)
        db.flush()
        db.add_all([Voiceprint(speaker_id=speakers[i % len(speakers)].id, model=MODEL, dimension=256,
                               vector=v.tobytes(), source="synthetic") for i, v in enumerate(vectors)])
        db.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--clusters", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'voiceprints':>11s} {'index build s':>13s} {'identify ms (median)':>21s} {'per cluster ms':>15s}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/bench.db")
            service = SpeakerService(settings)
            service.db.upgrade()
            fill(service, size, rng)
            started = time.perf_counter()
            service.rebuild_index()
            build = time.perf_counter() - started
            service._pipeline = type("P", (), {"diarizer": type("D", (), {"embedder_name": MODEL, "embedding_dim": 256})()})()
            queries = rng.standard_normal((args.clusters, 256)).astype(np.float32)
            clusters = {f"SPEAKER_{i:02d}": q for i, q in enumerate(queries)}
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                service.identify(clusters, MODEL)
                times.append(time.perf_counter() - t)
            ms = statistics.median(times) * 1000
            print(f"{size:11d} {build:13.2f} {ms:21.2f} {ms / args.clusters:15.3f}")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/enrol.db")
        service = SpeakerService(settings).start()
        _ = service.pipeline
        sid = service.create_speaker("Sample").id
        sample = AUDIO / "pyannote_sample.wav"
        service.enrol(sid, sample)  # warm
        times = []
        for _ in range(3):
            t = time.perf_counter()
            service.enrol(sid, sample)
            times.append(time.perf_counter() - t)
        print(f"enrolment of a 30 s sample (decode + VAD + embed + store), median of 3: {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
