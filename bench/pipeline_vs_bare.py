"""Full Hearback pipeline vs bare faster-whisper ASR and WhisperX, side by side in one run.

All run on the same audio with the same Whisper model (beam 5). "Bare" is faster-whisper's
BatchedInferencePipeline with its own VAD and one language detected for the recording, with word
timestamps; "seq" is faster-whisper's plain `transcribe(vad_filter=True, word_timestamps=True)`,
what most users run; "WhisperX" is WhisperX 3.8.6's batched transcription alone (no alignment, no
diarization, no word times: the peer users pick for speed), run in .venv-whisperx by
bench/whisperx_batched.py when that environment exists; "full" adds Hearback's speech stage (Silero +
segmentation-3.0), a language per chunk with the coverage check, diarization (CAM++ windows +
clustering), speaker assignment and sentence splitting. Words found are reported beside the times,
so that speed is never bought by dropping speech. `--mixed` adds a phone-band lookalike of the
issues' mixed French/English meeting; `--meeting` a 3-minute one (five voices in ~5 s turns, test
half of bench/devset.py). Each is run --repeat times after a warm-up, sequential, batched and full
interleaved, and the median is reported, with per-stage times and the peak RSS of each.

    python bench/pipeline_vs_bare.py [--audio PATH ...] [--repeat 3] [--mixed] [--meeting]

Target on a 2-core CPU: full <= 1.3 x bare.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
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


def bare(pipeline: Pipeline, samples, settings: Settings) -> tuple[float, int]:
    from faster_whisper import BatchedInferencePipeline

    started = time.perf_counter()
    segments, _ = BatchedInferencePipeline(pipeline.asr.model).transcribe(
        samples, word_timestamps=True, batch_size=settings.batch_size, beam_size=settings.beam_size)
    words = sum(len(s.words) for s in segments)
    return time.perf_counter() - started, words


def sequential(pipeline: Pipeline, samples, settings: Settings) -> tuple[float, int]:
    started = time.perf_counter()
    segments, _ = pipeline.asr.model.transcribe(samples, vad_filter=True, word_timestamps=True,
                                                beam_size=settings.beam_size)
    words = sum(len(s.words) for s in segments)
    return time.perf_counter() - started, words


def whisperx_batched(cases: list, repeat: int) -> dict[str, tuple[float, int]]:
    """{case name: (median seconds, words)} from bench/whisperx_batched.py in .venv-whisperx; empty,
    with the reason printed, where that environment is missing."""
    root = Path(__file__).resolve().parents[1]
    python = root / ".venv-whisperx" / "bin" / "python"
    if not python.exists():
        print("WhisperX: not run (no .venv-whisperx: scripts/setup-whisperx builds it)")
        return {}
    import soundfile

    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for i, (name, audio) in enumerate(cases):
            files[name] = Path(folder) / f"case{i}.wav"
            soundfile.write(files[name], audio.samples, 16000)
        done = subprocess.run([str(python), str(root / "bench" / "whisperx_batched.py"), "--repeat", str(repeat),
                               *map(str, files.values())], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(root)})
    if done.returncode != 0:
        print(f"WhisperX: failed ({done.stderr.strip().splitlines()[-1:]})")
        return {}
    by_file = {json.loads(line)["file"]: json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")}
    return {name: (by_file[str(f)]["seconds"], by_file[str(f)]["words"]) for name, f in files.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", nargs="*", default=[str(AUDIO / name) for name in ONE_LANGUAGE])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mixed", action="store_true", help="also a mixed-language phone meeting (test half)")
    parser.add_argument("--meeting", action="store_true", help="also a 3-minute meeting of 5 voices (test half)")
    args = parser.parse_args()
    settings = Settings.from_env()
    pipeline = Pipeline(settings).load()
    print(f"model: {pipeline.asr.describe()}  diarization: {pipeline.diarizer.describe()}  "
          f"load: {os.getloadavg()[0]:.2f}")
    cases = [(Path(p).name, decode(p)) for p in args.audio]
    if args.mixed or args.meeting:
        from bench import devset
        from hearback.decode import Audio

        if args.mixed:
            cases.append(("multilingual.mp3 (en, de)", decode(AUDIO / "multilingual.mp3")))
            cases.append(("mixed phone meeting (fr, en)", Audio(devset.phone_meeting(devset.TEST, 0).samples)))
        if args.meeting:
            cases.append(("3-min phone meeting, 5 voices", Audio(devset.phone_meeting(devset.TEST, 0, 180.0).samples)))
    peers = whisperx_batched(cases, args.repeat)
    print(f"{'audio':30s} {'dur':>6s} {'seq s':>6s} {'words':>5s} {'bare s':>6s} {'words':>5s} {'wx s':>6s} "
          f"{'words':>5s} {'full s':>6s} {'words':>5s} {'full/seq':>8s} {'full/bare':>9s} {'full/wx':>7s} "
          f"{'bare MB':>7s} {'full MB':>7s}  stages (median s)")
    for name, audio in cases:
        samples = audio.samples
        bare(pipeline, samples, settings)  # warm-up
        pipeline.transcribe_audio(audio, Options())
        # interleaved, a run of each at a time: a slow spell of this shared machine then falls on
        # all three alike instead of on whichever was being measured
        seq, bare_runs, runs, bare_peak, full_peak = [], [], [], 0.0, 0.0
        for _ in range(args.repeat):
            seq.append(sequential(pipeline, samples, settings))
            reset_peak_rss()
            bare_runs.append(bare(pipeline, samples, settings))
            bare_peak = max(bare_peak, peak_rss_mb())
            reset_peak_rss()
            runs.append(pipeline.transcribe_audio(audio, Options()))
            full_peak = max(full_peak, peak_rss_mb())
        q, b = statistics.median(r[0] for r in seq), statistics.median(r[0] for r in bare_runs)
        f = statistics.median(r.processing_time for r in runs)
        full_words = sum(len(s.words) for s in runs[-1].segments)
        wx, wx_words = peers.get(name, (float("nan"), 0))
        stages = {k: statistics.median(r.timings.get(k, 0.0) for r in runs) for k in runs[0].timings}
        stage_text = " ".join(f"{k}={v:.2f}" for k, v in stages.items())
        print(f"{name[:30]:30s} {audio.duration:6.1f} {q:6.2f} {seq[-1][1]:5d} {b:6.2f} {bare_runs[-1][1]:5d} "
              f"{wx:6.2f} {wx_words:5d} {f:6.2f} {full_words:5d} {f / q:8.2f} {f / b:9.2f} {f / wx:7.2f} "
              f"{bare_peak:7.0f} {full_peak:7.0f}  {stage_text}")


if __name__ == "__main__":
    main()
