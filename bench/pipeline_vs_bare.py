"""Full Hearback pipeline vs bare faster-whisper ASR, side by side in one process.

Both run on the same audio with the same loaded Whisper model and decoding options (batched,
word timestamps, beam 5). "Bare" is faster-whisper's BatchedInferencePipeline with its own VAD and
one language detected for the recording, the least a user would run; "full" adds Hearback's speech
stage (Silero + segmentation-3.0), a language per chunk with the coverage check, diarization
(CAM++ windows + clustering), speaker assignment and sentence splitting. `--mixed` adds a
phone-band lookalike of the issues' mixed French/English meeting (the cost of several languages). Each is run --repeat times after a warm-up and the
median is reported, with per-stage times and the peak RSS of each phase.

    python bench/pipeline_vs_bare.py [--audio PATH ...] [--repeat 3]

Target on a 2-core CPU: full <= 1.3 x bare.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hearback.decode import decode  # noqa: E402
from hearback.pipeline import Options, Pipeline  # noqa: E402
from service.settings import Settings  # noqa: E402

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"
# one-language recordings, where the target applies: English phone call, English council meeting, French
ONE_LANGUAGE = ("pyannote_sample.wav", "voices/council/mosqueda_test.flac", "voices/prompts/armelle_fr_vm-options.flac")


def reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets VmHWM, so each phase gets its own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bare(pipeline: Pipeline, samples, settings: Settings) -> float:
    from faster_whisper import BatchedInferencePipeline

    started = time.perf_counter()
    segments, _ = BatchedInferencePipeline(pipeline.asr.model).transcribe(
        samples, word_timestamps=True, batch_size=settings.batch_size, beam_size=settings.beam_size)
    list(segments)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", nargs="*", default=[str(AUDIO / name) for name in ONE_LANGUAGE])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mixed", action="store_true", help="also a mixed-language phone meeting (test half)")
    args = parser.parse_args()
    settings = Settings.from_env()
    pipeline = Pipeline(settings).load()
    print(f"model: {pipeline.asr.describe()}  diarization: {pipeline.diarizer.describe()}")
    print(f"{'audio':28s} {'dur':>6s} {'bare s':>7s} {'bare RTF':>8s} {'full s':>7s} {'full RTF':>8s} "
          f"{'full/bare':>9s} {'bare MB':>8s} {'full MB':>8s}  stages (median s)")
    cases = [(Path(p).name, decode(p)) for p in args.audio]
    if args.mixed:
        from bench import devset
        from hearback.decode import Audio

        cases.append(("multilingual.mp3 (en, de)", decode(AUDIO / "multilingual.mp3")))
        cases.append(("mixed phone meeting (fr, en)", Audio(devset.phone_meeting(devset.TEST, 0).samples)))
    for name, audio in cases:
        samples = audio.samples
        bare(pipeline, samples, settings)  # warm-up
        pipeline.transcribe_audio(audio, Options())
        reset_peak_rss()
        bare_times = [bare(pipeline, samples, settings) for _ in range(args.repeat)]
        bare_peak = peak_rss_mb()
        reset_peak_rss()
        runs = [pipeline.transcribe_audio(audio, Options()) for _ in range(args.repeat)]
        full_peak = peak_rss_mb()
        full_times = [r.processing_time for r in runs]
        b, f = statistics.median(bare_times), statistics.median(full_times)
        stages = {k: statistics.median(r.timings.get(k, 0.0) for r in runs) for k in runs[0].timings}
        stage_text = " ".join(f"{k}={v:.2f}" for k, v in stages.items())
        print(f"{name[:28]:28s} {audio.duration:6.1f} {b:7.2f} {audio.duration / b:7.1f}x {f:7.2f} "
              f"{audio.duration / f:7.1f}x {f / b:9.2f} {bare_peak:8.0f} {full_peak:8.0f}  {stage_text}")


if __name__ == "__main__":
    main()
