"""Who spoke when, on real voices: DER and speakers found, per embedder, with and without
segmentation-3.0, on one half of the development set.

Recordings (bench/devset.py): the AMI-style meeting excerpts (tuning half: trn00-09; test half:
dev00/dev01; human reference turns, overlapping speech), harder conversations assembled from the
half's real voices (2-8 speakers, turns of 1-10 s, phone band, 40 kb/s MP3, 16 kb/s Opus, noise),
and lookalikes of the issues' five-voice phone meeting; the test half adds `pyannote_sample.wav`.
DER is pyannote.metrics' with a 0.25 s collar, overlapped speech scored ("DER") and not ("no-ovl").

    python bench/diarization_eval.py --half tune [--same-voice 0.3,0.35,0.4]   # choose on this half
    python bench/diarization_eval.py --half test                               # report on this one
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import devset  # noqa: E402
from bench.evaluation import diarization_errors, read_rttm  # noqa: E402
from hearback.decode import Audio, decode  # noqa: E402
from hearback.pipeline import Pipeline  # noqa: E402
from service.settings import Settings  # noqa: E402


def recordings(half: str, conversations: int, meetings: int) -> list[devset.Recording]:
    out = list(devset.meetings(half))
    out += list(devset.conversations(half, conversations))
    out += [devset.phone_meeting(half, seed) for seed in range(meetings)]
    if half == devset.TEST:
        out.append(devset.Recording("pyannote_sample", decode(devset.AUDIO / "pyannote_sample.wav").samples,
                                    read_rttm(devset.AUDIO / "pyannote_sample.rttm")))
    return out


def evaluate(pipeline: Pipeline, recs: list[devset.Recording], show: bool) -> dict:
    rows = []
    for rec in recs:
        true_k = len(rec.speakers)
        started = time.perf_counter()
        free = pipeline.diarize(Audio(rec.samples))
        seconds = time.perf_counter() - started
        fixed = pipeline.diarize(Audio(rec.samples), true_k, true_k)
        hyp_free = [(t.start, t.end, t.speaker) for t in free.turns]
        hyp_fixed = [(t.start, t.end, t.speaker) for t in fixed.turns]
        scored = diarization_errors(rec.turns, hyp_free)
        no_overlap = diarization_errors(rec.turns, hyp_free, skip_overlap=True)
        with_k = diarization_errors(rec.turns, hyp_fixed)
        row = {"name": rec.name, "condition": rec.condition, "true": true_k, "found": len(free.embeddings),
               "der": scored["diarization error rate"], "der_no_overlap": no_overlap["diarization error rate"],
               "der_known": with_k["diarization error rate"], "total": scored["total"],
               "errors": scored["total"] * scored["diarization error rate"], "seconds": seconds,
               "audio": len(rec.samples) / 16000}
        rows.append(row)
        if show:
            print(f"  {rec.name:24s} {rec.condition:16s} speakers {true_k}/{row['found']}  DER {row['der']:.3f}  "
                  f"no-ovl {row['der_no_overlap']:.3f}  known count {row['der_known']:.3f}", flush=True)
    return summary(rows)


def summary(rows: list[dict]) -> dict:
    out = {}
    groups = {"meetings": [r for r in rows if r["name"].startswith(("trn", "dev"))],
              "assembled": [r for r in rows if not r["name"].startswith(("trn", "dev"))]}
    for group, rs in groups.items():
        if not rs:
            continue
        out[group] = {"DER": np.mean([r["der"] for r in rs]), "no-ovl": np.mean([r["der_no_overlap"] for r in rs]),
                      "known": np.mean([r["der_known"] for r in rs]),
                      "pooled": sum(r["errors"] for r in rs) / max(sum(r["total"] for r in rs), 1e-9),
                      "exact": np.mean([r["true"] == r["found"] for r in rs]),
                      "x real": sum(r["audio"] for r in rs) / max(sum(r["seconds"] for r in rs), 1e-9)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=(devset.TUNE, devset.TEST), default=devset.TUNE)
    parser.add_argument("--embedders", default="campp,ge2e")
    parser.add_argument("--segmentation", default="on,off")
    parser.add_argument("--same-voice", default="", help="comma-separated cuts to try (tuning half only)")
    parser.add_argument("--conversations", type=int, default=14)
    parser.add_argument("--meetings", type=int, default=4, help="lookalikes of the five-voice phone meeting")
    parser.add_argument("--quiet", action="store_true", help="no line per recording")
    args = parser.parse_args()
    if args.same_voice and args.half == devset.TEST:
        parser.error("--same-voice is for the tuning half: never tune on the figures you report")
    recs = recordings(args.half, args.conversations, args.meetings)
    print(f"{len(recs)} recordings, {sum(len(r.samples) for r in recs) / 16000 / 60:.1f} min, half {args.half}")
    for embedder in args.embedders.split(","):
        for segmentation in args.segmentation.split(","):
            pipeline = Pipeline(Settings.from_env(embedder=embedder, segmentation=segmentation == "on"))
            cuts = [float(c) for c in args.same_voice.split(",")] if args.same_voice else [None]
            for cut in cuts:
                if cut is not None:
                    pipeline.diarizer.embedder.same_voice = cut
                label = f"{embedder}, segmentation {segmentation}" + (f", cut {cut}" if cut is not None else "")
                print(f"\n{label}")
                for group, figures in evaluate(pipeline, recs, not args.quiet).items():
                    print(f"  {group:10s} " + "  ".join(f"{k} {v:.3f}" if k != "x real" else f"{k} {v:.0f}"
                                                         for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
