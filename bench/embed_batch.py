"""CAM++ speaker windows per forward on the CPU: batches of 8, 16, 32 and 64 side by side in one
run, on the windows of real meetings (a 30 s excerpt and 2 minutes of four), each batching
alternated with the others `--repeat` times; the median time per window and per recording, and
the largest difference between the embeddings (the same windows, batched differently).

Why: batches were padded to 64, the last one too; on 2 cores a window costs less in small
batches, so the embedder batches by 16 on the CPU (`hearback/embedders/campp.py`).

    python bench/embed_batch.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.devset import AUDIO  # noqa: E402
from hearback.decode import SAMPLE_RATE, decode  # noqa: E402
from hearback.embedders.campp import CamppEmbedder  # noqa: E402
from hearback.inference import BATCH_SIZES  # noqa: E402

BATCHES = ((8,), (8, 16), (8, 16, 32), BATCH_SIZES)


def windows_of(embedder: CamppEmbedder, samples: np.ndarray) -> np.ndarray:
    starts = np.arange(0.0, len(samples) / SAMPLE_RATE - embedder.window_seconds, embedder.window_hop)
    return embedder.window_features(samples, [(s, s + embedder.window_seconds) for s in starts])


def timed(embedder: CamppEmbedder, features: np.ndarray, sizes: tuple[int, ...]) -> tuple[float, np.ndarray]:
    embedder.batch_sizes = sizes
    started = time.perf_counter()
    out = embedder.embed_features(features)
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    embedder = CamppEmbedder()
    meetings = [decode(AUDIO / f"voices/meetings/trn0{i}.flac").samples for i in range(4)]
    recordings = {"trn00 (30 s)": meetings[0], "trn00-03 (2 min)": np.concatenate(meetings)}
    print(f"| recording | windows | {' | '.join(f'batches of {s[-1]}' for s in BATCHES)} | largest difference |")
    print(f"|---|---|{'---|' * len(BATCHES)}---|")
    for name, samples in recordings.items():
        features = windows_of(embedder, samples)
        for sizes in BATCHES:  # warm-up: oneDNN builds its kernels for each shape once
            timed(embedder, features, sizes)
        times: dict[tuple[int, ...], list[float]] = {s: [] for s in BATCHES}
        outputs = {}
        for _ in range(args.repeat):
            for sizes in BATCHES:
                seconds, outputs[sizes] = timed(embedder, features, sizes)
                times[sizes].append(seconds)
        medians = {s: statistics.median(t) for s, t in times.items()}
        reference = outputs[BATCH_SIZES]
        difference = max(float(np.abs(o - reference).max()) for o in outputs.values())
        cells = " | ".join(f"{medians[s]:.2f} s ({1000 * medians[s] / len(features):.1f} ms/window, "
                           f"{medians[s] / medians[BATCH_SIZES]:.2f}x)" for s in BATCHES)
        print(f"| {name} | {len(features)} | {cells} | {difference:.1e} |", flush=True)


if __name__ == "__main__":
    main()
