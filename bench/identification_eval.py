"""Calibrate the identification threshold on real speech.

Each real voice of ../shared/audio with enough speech is cut in two: the first half is enrolled,
the second half is embedded as a recording's cluster would be. Genuine scores compare a voice's
two halves; impostor scores compare halves of different people. The threshold is chosen between
the highest impostor score and the lowest genuine one.

    python bench/identification_eval.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from diarization_eval import voices  # noqa: E402
from hearback.decode import SAMPLE_RATE, Audio, decode  # noqa: E402
from hearback.pipeline import Pipeline  # noqa: E402
from hearback.settings import Settings  # noqa: E402

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"


def main() -> None:
    pipeline = Pipeline(Settings.from_env()).load()
    sources = voices()
    sources["reader-de"] = decode(AUDIO / "multilingual.mp3").samples[30 * SAMPLE_RATE:]
    halves = {}
    for name, clip in sources.items():
        middle = len(clip) // 2
        first, second = (pipeline.embed_voice(Audio(part)) for part in (clip[:middle], clip[middle:]))
        if first[1] >= 1.5 and second[1] >= 1.5:
            halves[name] = (first[0], second[0], first[1], second[1])
    names = list(halves)
    genuine = {n: float(halves[n][0] @ halves[n][1]) for n in names}
    impostor = {(a, b): float(halves[a][0] @ halves[b][1]) for a in names for b in names
                if a != b and {a, b} != {"reader-en", "reader-de"}}
    print("genuine (enrol half vs test half of one voice):")
    for n in names:
        print(f"  {n:14s} {genuine[n]:.3f}   (enrol {halves[n][2]:.1f} s, test {halves[n][3]:.1f} s of speech)")
    worst = sorted(impostor.items(), key=lambda kv: -kv[1])[:5]
    print("highest impostor scores:")
    for (a, b), score in worst:
        print(f"  {a} vs {b}: {score:.3f}")
    same_person_other_language = float(halves["reader-en"][0] @ halves["reader-de"][1]) if "reader-de" in halves else None
    low, high = max(impostor.values()), min(genuine.values())
    print(f"\nhighest impostor {low:.3f}, lowest genuine {high:.3f}: threshold in between, {(low + high) / 2:.3f}")
    if same_person_other_language is not None:
        print(f"(one reader, English enrolment vs German test: {same_person_other_language:.3f} - not matched)")
    for threshold in (0.70, 0.75, 0.78, 0.80, 0.85):
        accept = np.mean([s >= threshold for s in genuine.values()])
        reject = np.mean([s < threshold for s in impostor.values()])
        print(f"threshold {threshold:.2f}: genuine accepted {accept:.0%}, impostors rejected {reject:.1%}")


if __name__ == "__main__":
    main()
