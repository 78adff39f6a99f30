"""CAM++ speaker windows on the CPU: torch in batches of 8, 16, 32 and 64, and ONNX Runtime in
batches of 16 (what runs), side by side in one run, on the windows of real meetings (a 30 s
excerpt and 2 minutes of four), each variant alternated with the others `--repeat` times; the
median time per window and per recording, and the largest difference between the embeddings (the
same windows, batched or run differently).

Why: batches were padded to 64, the last one too; on 2 cores a window costs less in small
batches, so the embedder batches by 16 on the CPU; ONNX Runtime then took about a quarter less
time than torch, so it runs CAM++ on the CPU (`hearback/embedders/campp.py`, `onnx_forward.py`).

    python bench/embed_batch.py [--repeat 5]
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
    embedder = CamppEmbedder(runtime="torch")
    with tempfile.TemporaryDirectory() as cache:
        onnx = CamppEmbedder(cache_dir=cache)
    assert onnx.runtime.startswith("onnxruntime"), "ONNX Runtime could not be used: see the log"
    variants = [(f"torch, batches of {s[-1]}", embedder, s) for s in BATCHES] + [
        (f"{onnx.runtime}, batches of 16 (used)", onnx, (8, 16))]
    baseline, reference = "torch, batches of 16", "torch, batches of 64"  # times against, vectors against
    meetings = [decode(AUDIO / f"voices/meetings/trn0{i}.flac").samples for i in range(4)]
    recordings = {"trn00 (30 s)": meetings[0], "trn00-03 (2 min)": np.concatenate(meetings)}
    print(f"| recording | windows | {' | '.join(name for name, _, _ in variants)} | largest difference |")
    print(f"|---|---|{'---|' * len(variants)}---|")
    for name, samples in recordings.items():
        features = windows_of(embedder, samples)
        for _, runner, sizes in variants:  # warm-up: oneDNN builds its kernels for each shape once
            timed(runner, features, sizes)
        times: dict[str, list[float]] = {v: [] for v, _, _ in variants}
        outputs = {}
        for _ in range(args.repeat):
            for v, runner, sizes in variants:
                seconds, outputs[v] = timed(runner, features, sizes)
                times[v].append(seconds)
        medians = {v: statistics.median(t) for v, t in times.items()}
        difference = max(float(np.abs(o - outputs[reference]).max()) for o in outputs.values())
        cells = " | ".join(f"{medians[v]:.2f} s ({1000 * medians[v] / len(features):.1f} ms/window, "
                           f"{medians[v] / medians[baseline]:.2f}x)" for v, _, _ in variants)
        print(f"| {name} | {len(features)} | {cells} | {difference:.1e} |", flush=True)


if __name__ == "__main__":
    main()
