"""Speaker identity on real voices, GE2E and CAM++ side by side: genuine and impostor scores, equal
error rate and threshold, chosen on the tuning half and checked on the test half.

Each (speaker, language) of a half (bench/devset.py) is enrolled from one clip, whole and cut
to 3.5 s of speech, as heard clean; the speaker's other clips, cut into 3-6 s pieces like a
meeting's clusters, are heard through five conditions (clean, phone band, phone band + 40 kb/s
MP3, 16 kb/s Opus, noise). Genuine: a piece against its speaker's voiceprint (same language);
impostor: against every other speaker's. The threshold is the equal-error point of the tuning
half; on the test half the bench reports how that threshold does. Then the issues' meeting: a
lookalike of the five-voice phone meeting, three voices enrolled from other clips, through the
whole pipeline: the share of enrolled speech named right and of strangers' speech left unnamed.
Scores are naming scores: cosines with the embedder's mean taken out (`hearback/embedders/centre.py`).

    python bench/identification_eval.py --half tune                 # choose the threshold
    python bench/identification_eval.py --half test --threshold T   # report with it
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import devset  # noqa: E402
from hearback.decode import SAMPLE_RATE, Audio  # noqa: E402
from hearback.embedders import IDENTIFY_THRESHOLD  # noqa: E402
from hearback.embedders.centre import comparable  # noqa: E402
from hearback.identify import KnownVoice  # noqa: E402
from hearback.pipeline import Options, Pipeline  # noqa: E402
from hearback.vad import speech_regions  # noqa: E402
from service.settings import Settings  # noqa: E402

CONDITIONS = ("clean", "phone", "phone+mp3", "opus", "noise")
SHORT_ENROLMENT = 3.5  # seconds of speech


def speech_only(samples: np.ndarray) -> np.ndarray:
    regions = speech_regions(samples)
    return np.concatenate([samples[int(r.start * SAMPLE_RATE):int(r.end * SAMPLE_RATE)] for r in regions]) \
        if regions else samples


def pieces(clips: list[devset.Clip], rng) -> list[tuple[str, str, np.ndarray]]:
    out = []
    for clip in clips:
        x = clip.samples
        for start in range(0, max(1, len(x) - 4 * SAMPLE_RATE), 6 * SAMPLE_RATE):
            out.append((clip.speaker, clip.language, x[start:start + int(rng.uniform(3, 6) * SAMPLE_RATE)]))
    return out


def scores(pipeline: Pipeline, half: str, short: bool) -> tuple[np.ndarray, np.ndarray, dict]:
    rng = np.random.default_rng(1)
    by_voice: dict[tuple[str, str], list[devset.Clip]] = {}
    for clip in devset.split(half):
        by_voice.setdefault((clip.speaker, clip.language), []).append(clip)
    enrolled, tests = {}, []
    for voice, clips in by_voice.items():
        if len(clips) < 2:
            continue
        sample = speech_only(clips[0].samples)[: int(SHORT_ENROLMENT * SAMPLE_RATE)] if short else clips[0].samples
        enrolled[voice] = pipeline.voice_sample(Audio(sample)).vector
        tests += pieces(clips[1:], rng)
    genuine, impostor, per_condition = [], [], {}
    for condition in CONDITIONS:
        for speaker, language, x in tests:
            vector = pipeline.voice_sample(Audio(devset.degrade(x, condition, rng))).vector
            if not vector.any():
                continue
            for (name, lang), voiceprint in enrolled.items():
                score = float(comparable(vector, pipeline.embedder_name) @ comparable(voiceprint, pipeline.embedder_name))
                if (name, lang) == (speaker, language):
                    genuine.append(score)
                    per_condition.setdefault(condition, ([], []))[0].append(score)
                elif name != speaker:
                    impostor.append(score)
                    per_condition.setdefault(condition, ([], []))[1].append(score)
    return np.array(genuine), np.array(impostor), per_condition


def equal_error(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(equal error rate, threshold)."""
    best = (2.0, 0.0, 0.0)
    for t in np.unique(np.concatenate([genuine, impostor])):
        miss, false = float(np.mean(genuine < t)), float(np.mean(impostor >= t))
        if abs(miss - false) < best[0]:
            best = (abs(miss - false), (miss + false) / 2, float(t))
    return best[1], best[2]


def meeting(pipeline: Pipeline, half: str, threshold: float, seeds: int) -> tuple[float, float]:
    """Share of enrolled speech named right and of strangers' speech left unnamed, over lookalikes
    of the phone meeting whose first three English voices are enrolled from clips the meeting
    does not use."""
    named = named_total = unnamed = stranger_total = 0.0
    clips = devset.split(half)
    twice = [s for s in dict.fromkeys(c.speaker for c in clips if c.language == "en")
             if sum(c.speaker == s and c.language == "en" for c in clips) >= 2 and s not in ("allison", "reader")]
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        enrolled = [str(s) for s in rng.choice(twice, 3, replace=False)]
        sources = tuple(next(c for c in clips if c.speaker == name and c.language == "en") for name in enrolled)
        prints = [KnownVoice(c.speaker, pipeline.voice_sample(Audio(c.samples)).vector, pipeline.embedder_name)
                  for c in sources]
        rec = devset.phone_meeting(half, seed, leave_out=sources)
        transcript = pipeline.transcribe_audio(Audio(rec.samples), Options(language="auto"), voiceprints=prints,
                                               threshold=threshold)
        for start, end, truth in rec.turns:
            said = [s.speaker for s in transcript.segments for w in s.words if start <= (w.start + w.end) / 2 <= end]
            if not said:
                continue
            majority = max(set(said), key=said.count)
            if truth in enrolled:
                named_total += end - start
                named += end - start if majority == truth else 0.0
            else:
                stranger_total += end - start
                unnamed += end - start if majority not in enrolled else 0.0
    return named / max(named_total, 1e-9), unnamed / max(stranger_total, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=(devset.TUNE, devset.TEST), default=devset.TUNE)
    parser.add_argument("--embedders", default="campp,ge2e")
    parser.add_argument("--threshold", type=float, default=None,
                        help="test half: the threshold chosen on the tuning half (default: the calibrated one)")
    parser.add_argument("--meetings", type=int, default=3)
    args = parser.parse_args()
    for embedder in args.embedders.split(","):
        pipeline = Pipeline(Settings.from_env(embedder=embedder))
        print(f"\n{embedder} ({pipeline.embedder_name}), half {args.half}")
        for short in (False, True):
            genuine, impostor, per_condition = scores(pipeline, args.half, short)
            eer, at = equal_error(genuine, impostor)
            chosen = args.threshold if args.threshold is not None else (
                at if args.half == devset.TUNE else IDENTIFY_THRESHOLD[embedder])
            print(f"  enrolment {'3.5 s' if short else 'whole clip'}: genuine min {genuine.min():.3f} p5 "
                  f"{np.percentile(genuine, 5):.3f} mean {genuine.mean():.3f} | impostor max {impostor.max():.3f} "
                  f"p99 {np.percentile(impostor, 99):.3f} mean {impostor.mean():.3f} | EER {eer:.1%} at {at:.3f}")
            print("    at threshold %.3f: " % chosen + "  ".join(
                f"{c}: miss {np.mean(np.array(g) < chosen):.0%} false {np.mean(np.array(i) >= chosen):.1%}"
                for c, (g, i) in per_condition.items()))
        threshold = args.threshold if args.threshold is not None else IDENTIFY_THRESHOLD[embedder]
        right, strangers = meeting(pipeline, args.half, threshold, args.meetings)
        print(f"  phone meeting lookalikes (3 enrolled, 2 strangers), threshold {threshold:.3f}: enrolled speech "
              f"named right {right:.0%}, strangers' speech unnamed {strangers:.0%}")


if __name__ == "__main__":
    main()
