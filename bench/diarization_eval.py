"""Calibrate and check the embedded diarization on real speech.

Cases: the real recordings of ../shared/audio as they are (one speaker each, and the two-speaker
pyannote sample with its reference RTTM), plus conversations assembled from real clips of several
people (turns of 2-6 s separated by short pauses, reference turns known by construction). For each
case it prints the estimated speaker count and the DER (pyannote.metrics, collar 0.25) with the count
left free and with the true count given.

    python bench/diarization_eval.py [--seed 0] [--mixes 6]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hearback.decode import SAMPLE_RATE, decode  # noqa: E402
from hearback.diarize import EmbeddedDiarizer  # noqa: E402
from hearback.embed import Ge2eEmbedder  # noqa: E402
from hearback.evaluation import conversation, diarization_error_rate as der, read_rttm, voices  # noqa: E402
from hearback.vad import speech_regions  # noqa: E402

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"


def cases(seed: int, mixes: int):
    rng = np.random.default_rng(seed)
    sources = voices(AUDIO)
    for name, clip in sources.items():
        if len(clip) > 3 * SAMPLE_RATE:
            yield name, clip, [(r.start, r.end, name) for r in speech_regions(clip)], 1
    yield "multilingual.mp3 (one reader, en then de)", decode(AUDIO / "multilingual.mp3").samples, \
        [(r.start, r.end, "reader") for r in speech_regions(decode(AUDIO / "multilingual.mp3").samples)], 1
    yield "pyannote_sample (real 2-speaker)", decode(AUDIO / "pyannote_sample.wav").samples, \
        read_rttm(AUDIO / "pyannote_sample.rttm"), 2
    pool = list(sources)
    for i in range(mixes):
        n = 2 + i % 3
        names = list(rng.choice(pool, n, replace=False))
        audio, ref = conversation(sources, names, 45.0, rng)
        yield "mix: " + " + ".join(names), audio, ref, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mixes", type=int, default=9)
    args = parser.parse_args()
    diarizer = EmbeddedDiarizer(Ge2eEmbedder())
    rows = []
    print(f"{'case':58s} {'true':>4s} {'found':>5s} {'coher':>6s} {'DER free':>8s} {'DER fixed':>9s}")
    for name, audio, reference, true_k in cases(args.seed, args.mixes):
        regions = speech_regions(audio)
        free = diarizer.diarize(audio, regions, None, None)
        fixed = diarizer.diarize(audio, regions, true_k, true_k)
        found = len(free.embeddings)
        hyp_free = [(t.start, t.end, t.speaker) for t in free.turns]
        hyp_fixed = [(t.start, t.end, t.speaker) for t in fixed.turns]
        d_free, d_fixed = der(reference, hyp_free), der(reference, hyp_fixed)
        rows.append((true_k, found, d_free, d_fixed))
        print(f"{name[:58]:58s} {true_k:4d} {found:5d} {free.details.get('turn_coherence', float('nan')):6.2f} "
              f"{d_free:8.1%} {d_fixed:9.1%}")
    rows = np.array(rows)
    exact = np.mean(rows[:, 0] == rows[:, 1])
    print(f"\ncount exact: {exact:.0%}   mean DER free: {rows[:, 2].mean():.1%}   mean DER fixed: {rows[:, 3].mean():.1%}")


if __name__ == "__main__":
    main()
