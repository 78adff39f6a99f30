"""The embedded pipeline on long recordings: 5, 15, 30, 60 and 240 minutes of real speech.

Each recording is a conversation of four real voices from ../shared/audio (turns of 2-6 s, short
pauses), written to a WAV file; `hearback transcribe` runs on it in a child process, whose own
peak RSS comes from wait4() in scripts/peak-rss. Prints a markdown table and writes a PNG plot of time and memory
against length (and the table) to bench/results/.

    python bench/long_sessions.py [--minutes 5 15 30 60 240]     # 240 min takes about 25 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.evaluation import diarization_errors, voices, write_conversation  # noqa: E402

AUDIO = ROOT.parent / "shared" / "audio"
CAST = ["reader-en", "jfk.flac", "stereo-left", "speaker91"]
RESULTS = ROOT / "bench" / "results"


def run(path: Path, out: Path, env: dict) -> tuple[float, float]:
    """Wall time and the child's own peak RSS (MB), through scripts/peak-rss: a child started from
    this process would report this process's peak (it holds the generated audio) as its own."""
    started = time.perf_counter()
    peak_file = out.with_suffix(".peak")
    child = subprocess.run([sys.executable, str(ROOT / "scripts" / "peak-rss"), str(peak_file), sys.executable, "-m",
                            "app", "transcribe", str(path), "-o", str(out), "-q", "--language", "en"],
                           env=env, stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"transcription of {path.name} failed: {child.stderr.decode()[-2000:]}")
    return wall, float(peak_file.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="*", default=[5, 15, 30, 60, 240])
    args = parser.parse_args()
    sources = voices(AUDIO)
    rows = []
    env = {**os.environ}
    with tempfile.TemporaryDirectory() as tmp:
        env.setdefault("HEARBACK_DATA_DIR", str(Path(tmp) / "data"))
        for minutes in args.minutes:
            path = Path(tmp) / f"talk-{minutes:g}min.wav"
            reference = write_conversation(path, sources, CAST, minutes * 60, np.random.default_rng(int(minutes)))
            out = path.with_suffix(".json")
            wall, peak = run(path, out, env)
            transcript = json.loads(out.read_text())
            segments = [(s["start"], s["end"], s["speaker"]) for s in transcript["transcription"]["segments"]]
            errors = diarization_errors(reference, segments)
            row = {"minutes": minutes, "wall_s": round(wall, 1), "rtf": round(minutes * 60 / wall, 2),
                   "s_per_audio_min": round(wall / minutes, 2), "peak_rss_mb": round(peak),
                   "speakers": len(transcript["speakers"]),
                   "confusion": round(errors["confusion"] / errors["total"], 4),
                   "redecoded": transcript["quality"]["segments_redecoded"],
                   "dropped": transcript["quality"]["segments_dropped"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
            path.unlink()
    table = ["| minutes | wall (s) | x real time | s per audio minute | peak RSS (MB) | speakers found (4) | speaker confusion | re-decoded | dropped |",
             "|---|---|---|---|---|---|---|---|---|"]
    table += [f"| {r['minutes']:g} | {r['wall_s']} | {r['rtf']} | {r['s_per_audio_min']} | {r['peak_rss_mb']} | "
              f"{r['speakers']} | {r['confusion']:.1%} | {r['redecoded']} | {r['dropped']} |" for r in rows]
    print("\n".join(table))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "long_sessions.md").write_text("\n".join(table) + "\n")
    plot(rows, RESULTS / "long_sessions.png")


def plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [r["minutes"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(minutes, [r["s_per_audio_min"] for r in rows], "o-")
    left.set(xlabel="recording length (min)", ylabel="processing seconds per audio minute",
             title="time per audio minute", xscale="log", ylim=(0, None))
    right.plot(minutes, [r["peak_rss_mb"] for r in rows], "o-", color="tab:red")
    right.set(xlabel="recording length (min)", ylabel="peak RSS (MB)", title="peak memory", xscale="log",
              ylim=(0, max(3000, max(r["peak_rss_mb"] for r in rows) * 1.1)))
    right.axhline(3000, linestyle="--", color="grey", label="3 GB bound")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
