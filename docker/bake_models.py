"""Download every production model into one directory at image build time, so that a cold start
reads only local disk (run by the Dockerfile; needs network and, for pyannote, HF_TOKEN).

    python docker/bake_models.py /models            # download
    python docker/bake_models.py /models --check    # verify the layout, download nothing

Layout (the image's environment points the settings at it):
    /models/whisper-large-v3/                faster-whisper CTranslate2 model   WHISPER_MODEL
    /models/align/                           wav2vec2 alignment models (fr)     HEARBACK_ALIGN_MODEL_DIR
    /models/torch/                           torchaudio's English aligner       TORCH_HOME
    /models/nltk/tokenizers/punkt_tab/       sentence splitter WhisperX needs   NLTK_DATA
    /models/speaker-diarization-community-1/ pyannote pipeline                  HEARBACK_DIARIZATION_MODEL
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

WHISPER = "large-v3"
PYANNOTE = "pyannote/speaker-diarization-community-1"
ALIGN_LANGUAGES = ("fr", "en")


def expected(root: Path) -> dict[str, Path]:
    return {
        "whisper": root / f"whisper-{WHISPER}" / "model.bin",
        "align": root / "align",
        "torch": root / "torch",
        "nltk": root / "nltk" / "tokenizers" / "punkt_tab",
        "pyannote": root / PYANNOTE.split("/")[1] / "config.yaml",
    }


def check(root: Path) -> list[str]:
    return [f"{name}: {path} is missing" for name, path in expected(root).items() if not path.exists()]


def bake(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    os.environ["TORCH_HOME"] = str(root / "torch")
    from faster_whisper import download_model

    download_model(WHISPER, output_dir=str(root / f"whisper-{WHISPER}"))
    import whisperx

    for language in ALIGN_LANGUAGES:
        whisperx.load_align_model(language_code=language, device="cpu", model_dir=str(root / "align"))
    import nltk

    nltk.download("punkt_tab", download_dir=str(root / "nltk"), quiet=True)
    token = os.environ.get("HF_TOKEN")
    if not token:
        raise SystemExit("HF_TOKEN is not set: pass it as a build secret (see README, 'Docker image')")
    from huggingface_hub import snapshot_download

    snapshot_download(PYANNOTE, local_dir=str(root / PYANNOTE.split("/")[1]), token=token)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--check", action="store_true", help="only verify that every model is in place")
    args = parser.parse_args(argv)
    if not args.check:
        bake(args.root)
    problems = check(args.root)
    for problem in problems:
        print(f"bake_models: {problem}", file=sys.stderr)
    if not problems:
        print(f"bake_models: all models present under {args.root}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
