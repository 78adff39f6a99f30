"""What knowing the participants costs: the full pipeline with and without them, beside bare
faster-whisper (sequential, VAD + word times), side by side on the identity meetings of the test
half (bench/identity_eval.py: real voices enrolled from other recordings, strangers mixed in, phone
band and codecs). Issue 22's target: with participants, within 1.15x of bare.

    python bench/participants_cost.py [--count 4] [--repeat 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import devset  # noqa: E402
from bench.identity_eval import enrol, listed_voiceprints, meetings, voices  # noqa: E402
from bench.pipeline_vs_bare import sequential  # noqa: E402
from hearback.decode import Audio  # noqa: E402
from hearback.pipeline import Options, Pipeline  # noqa: E402
from service.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    settings = Settings.from_env()
    pipeline = Pipeline(settings).load()
    pool = voices(devset.TEST)
    prints = enrol(pipeline, pool)
    embedder = pipeline.embedder_name
    print(f"{'meeting':22s} {'dur':>5s} {'bare s':>6s} {'full s':>6s} {'with participants s':>19s} "
          f"{'full/bare':>9s} {'participants/bare':>17s} {'participants/full':>17s}")
    totals = [0.0, 0.0, 0.0]
    for meeting in meetings(devset.TEST, args.count, pool):
        audio = Audio(meeting.recording.samples)
        listed = listed_voiceprints(meeting, prints, "participants", embedder)

        def bare() -> float:
            return sequential(pipeline, audio.samples, settings)[0]

        def full(voiceprints) -> float:
            started = time.perf_counter()
            pipeline.transcribe_audio(audio, Options(), voiceprints=voiceprints)
            return time.perf_counter() - started

        bare(), full(None), full(listed)  # warm-up
        times = [statistics.median(run() for _ in range(args.repeat))
                 for run in (bare, lambda: full(None), lambda: full(listed))]
        totals = [t + x for t, x in zip(totals, times)]
        b, f, p = times
        print(f"{meeting.recording.name:22s} {audio.duration:5.1f} {b:6.2f} {f:6.2f} {p:19.2f} {f / b:9.2f} "
              f"{p / b:17.2f} {p / f:17.2f}")
    b, f, p = totals
    print(f"{'all':22s} {'':5s} {b:6.2f} {f:6.2f} {p:19.2f} {f / b:9.2f} {p / b:17.2f} {p / f:17.2f}")


if __name__ == "__main__":
    main()
