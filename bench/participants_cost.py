"""What knowing the participants costs: the full pipeline with and without them, beside bare
faster-whisper (sequential, VAD + word times), side by side on the identity meetings of the test
half (bench/identity_eval.py: real voices enrolled from other recordings, strangers mixed in, phone
band and codecs). Issue 22's target: with participants, within 1.15x of bare. The words each found
are counted too: faster-whisper alone drops speech in dense meetings, so a ratio of seconds says
what the pipeline costs, and the words what it buys.

    python bench/participants_cost.py [--count 4] [--repeat 2] [--torch-too]

`--torch-too` adds the pipeline with participants and CAM++ in torch (HEARBACK_EMBEDDER_RUNTIME=torch),
alternated with the others in the same process, to show what ONNX Runtime saves.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
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
    parser.add_argument("--torch-too", action="store_true", help="also time CAM++ in torch, alternated")
    args = parser.parse_args()
    settings = Settings.from_env()
    pipeline = Pipeline(settings).load()
    in_torch = Pipeline(replace(settings, embedder_runtime="torch")).load() if args.torch_too else None
    pool = voices(devset.TEST)
    prints = enrol(pipeline, pool)
    embedder = pipeline.embedder_name
    print(f"{'meeting':22s} {'dur':>5s} {'bare s':>6s} {'full s':>6s} {'with participants s':>19s} "
          f"{'full/bare':>9s} {'participants/bare':>17s} {'participants/full':>17s} {'words bare/participants':>23s}")
    totals = [0.0] * (4 if in_torch is not None else 3)
    words = [0, 0]
    for meeting in meetings(devset.TEST, args.count, pool):
        audio = Audio(meeting.recording.samples)
        listed = listed_voiceprints(meeting, prints, "participants", embedder)

        found = [0, 0]  # words of bare faster-whisper, and of the pipeline with participants

        def bare() -> float:
            seconds, found[0] = sequential(pipeline, audio.samples, settings)
            return seconds

        def full(voiceprints, runner=pipeline) -> float:
            started = time.perf_counter()
            transcript = runner.transcribe_audio(audio, Options(), voiceprints=voiceprints)
            if voiceprints is not None:
                found[1] = sum(len(s.words) for s in transcript.segments)
            return time.perf_counter() - started

        runs = [bare, lambda: full(None), lambda: full(listed)]
        if in_torch is not None:
            runs.append(lambda: full(listed, in_torch))
        for run in runs:  # warm-up
            run()
        seconds: list[list[float]] = [[] for _ in runs]
        for _ in range(args.repeat):  # alternated, so that the machine's drift hits every variant alike
            for i, run in enumerate(runs):
                seconds[i].append(run())
        times = [statistics.median(s) for s in seconds]
        totals = [t + x for t, x in zip(totals, times)]
        words = [w + x for w, x in zip(words, found)]
        print(row(meeting.recording.name, audio.duration, times, found))
    print(row("all", None, totals, words))


def row(name: str, duration, times: list[float], words: list[int]) -> str:
    b, f, p = times[:3]
    out = (f"{name:22s} {f'{duration:5.1f}' if duration else '':5s} {b:6.2f} {f:6.2f} {p:19.2f} {f / b:9.2f} "
           f"{p / b:17.2f} {p / f:17.2f} {f'{words[0]} / {words[1]}':>23s}")
    if len(times) > 3:
        out += f"   participants, CAM++ in torch: {times[3]:.2f} s ({times[3] / b:.2f}x bare)"
    return out


if __name__ == "__main__":
    main()
