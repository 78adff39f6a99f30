"""WhisperX's batched transcription alone (no alignment, no diarization), the peer users pick for speed.

Run in .venv-whisperx (whisperx 3.8.6 pins torch 2.8, which cannot share .venv) by
bench/pipeline_vs_bare.py, on the WAV files it wrote; prints one JSON line per file: the median
seconds of `--repeat` runs after a warm-up, and the words found. The model is Hearback's own
`WHISPER_MODEL` loaded the way the WhisperX backend loads it (hearback.asr.whisperx).

    PYTHONPATH=. .venv-whisperx/bin/python bench/whisperx_batched.py [--repeat 3] FILE.wav ...
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hearback.asr.whisperx import load_model_arguments  # noqa: E402
from hearback.decode import decode  # noqa: E402
from hearback.models import resolve_whisper_model  # noqa: E402
from hearback.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from whisperx.asr import load_model

    settings = Settings.from_env()
    positional, keywords = load_model_arguments(resolve_whisper_model(settings.whisper_model, settings.model_cache_dir),
                                                settings)
    model = load_model(*positional, **keywords)
    for path in args.files:
        samples = decode(path).samples

        def run() -> tuple[float, int]:
            started = time.perf_counter()
            result = model.transcribe(samples, batch_size=settings.batch_size)
            words = sum(len(s["text"].split()) for s in result["segments"])
            return time.perf_counter() - started, words

        run()  # warm-up
        runs = [run() for _ in range(args.repeat)]
        print(json.dumps({"file": path, "seconds": statistics.median(r[0] for r in runs), "words": runs[-1][1]}),
              flush=True)


if __name__ == "__main__":
    main()
