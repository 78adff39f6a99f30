"""No speech lost: mixed-language recordings of real voices, turn by turn.

Each recording is assembled from the development set's real clips (bench/devset.py): lookalikes
of the meeting the issues describe (five voices in ~5 s turns, one French among four English, phone
band and 40 kb/s MP3) and bilingual conversations (French, English, Spanish, Italian, and a reader
switching from English to German). For each reference turn it checks that words cover it (the turn
is present) and that they came out in the turn's language; it also reports the share of speech
covered by words, the untranscribed seconds and the time taken, with `auto` and with `fr` fixed.

    python bench/language_eval.py --half tune   # choose settings on this half
    python bench/language_eval.py --half test   # report on this one
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import devset  # noqa: E402
from hearback.decode import Audio  # noqa: E402
from hearback.pipeline import Options, Pipeline  # noqa: E402
from service.settings import Settings  # noqa: E402

PRESENT = 0.4  # a turn is present when its words last at least this share of it (pauses are not words)


def recordings(half: str, count: int) -> list[devset.Recording]:
    out = [devset.phone_meeting(half, seed) for seed in range(count)]
    pool = devset.split(half)
    rng = np.random.default_rng(7 if half == devset.TUNE else 1007)
    multilingual = sorted({c.speaker for c in pool if c.language != "en"} | {"allison"})
    for i in range(count):
        speakers = [str(s) for s in rng.choice(multilingual, min(3, len(multilingual)), replace=False)]
        rec = devset.conversation(pool, speakers, 40.0, rng, turn=(3.0, 8.0), name=f"bilingual-{half}-{i}")
        condition = ("clean", "opus", "phone+mp3")[i % 3]
        rec.samples, rec.condition = devset.degrade(rec.samples, condition, rng), condition
        out.append(rec)
    return out


def score(rec: devset.Recording, transcript) -> dict:
    words = [(w.start, w.end, s.language) for s in transcript.segments for w in s.words]
    present = right = 0
    for start, end, language in rec.languages:
        inside = [(a, b, lang) for a, b, lang in words if start - 0.2 <= (a + b) / 2 <= end + 0.2]
        covered = sum(min(b, end) - max(a, start) for a, b, _ in inside if b > start and a < end)
        if inside and covered >= PRESENT * (end - start):
            present += 1
            spoken: dict[str, float] = {}
            for a, b, lang in inside:
                spoken[lang] = spoken.get(lang, 0.0) + (b - a)
            right += max(spoken, key=spoken.get) == language
    q = transcript.quality
    return {"turns": len(rec.languages), "present": present, "right": right, "covered": q["speech_covered"],
            "lost": sum(r["end"] - r["start"] for r in q["untranscribed"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=(devset.TUNE, devset.TEST), default=devset.TUNE)
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--languages", default="auto,fr")
    args = parser.parse_args()
    pipeline = Pipeline(Settings.from_env()).load()
    totals: dict[str, list] = {}
    print(f"{'recording':28s} {'cond':10s} {'lang':4s} {'turns':>5s} {'present':>7s} {'right lang':>10s} "
          f"{'covered':>7s} {'lost s':>6s} {'x real':>6s}")
    for rec in recordings(args.half, args.count):
        for language in args.languages.split(","):
            started = time.perf_counter()
            transcript = pipeline.transcribe_audio(Audio(rec.samples), Options(language=language, diarize=False))
            seconds = time.perf_counter() - started
            s = score(rec, transcript)
            totals.setdefault(language, []).append((s, seconds, len(rec.samples) / 16000))
            print(f"{rec.name:28s} {rec.condition:10s} {language:4s} {s['turns']:5d} {s['present']:7d} "
                  f"{s['right']:10d} {s['covered']:7.1%} {s['lost']:6.1f} {len(rec.samples) / 16000 / seconds:6.1f}")
    for language, rows in totals.items():
        turns = sum(r[0]["turns"] for r in rows)
        print(f"\n{language}: turns present {sum(r[0]['present'] for r in rows)}/{turns}, in the right language "
              f"{sum(r[0]['right'] for r in rows)}/{turns}, speech covered {np.mean([r[0]['covered'] for r in rows]):.1%}"
              f" (lowest {min(r[0]['covered'] for r in rows):.1%}), {sum(r[1] for r in rows):.1f} s for "
              f"{sum(r[2] for r in rows):.0f} s of audio")


if __name__ == "__main__":
    main()
