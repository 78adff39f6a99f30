"""A speaker network run by ONNX Runtime on the CPU instead of torch.

CAM++ on 2 cores embeds a meeting's windows in about a quarter less time through ONNX Runtime
than in torch, with the same vectors within 1e-5 (`python bench/embed_batch.py`). ONNX Runtime
already comes with faster-whisper (its VAD); the export needs the `onnx` package. The network is exported once per
weights, torch version and input shape into the model cache and read back from there; where the
export or the file cannot be used (no `onnx`, a read-only cache, a damaged file) torch runs
instead and the log says why: the vectors are the same, only slower.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Optional

import numpy as np

log = logging.getLogger(__name__)

RUNTIMES = ("onnx", "torch")
INPUT, OUTPUT = "features", "embedding"


class OnnxForward:
    """One ONNX Runtime session; one run at a time, on `threads` cores (the ASR shares them)."""

    def __init__(self, path: Path, threads: int):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.version = onnxruntime.__version__
        self._lock = threading.Lock()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            return self.session.run([OUTPUT], {INPUT: np.ascontiguousarray(batch, np.float32)})[0]


def onnx_forward(model, example: np.ndarray, path: Path, threads: int) -> Optional[OnnxForward]:
    """`model` (a torch module taking batches shaped like `example`) as an ONNX Runtime session,
    exported to `path` first if it is not there; None (run torch) where that fails."""
    try:
        return _session(model, example, path, threads)
    except Exception as exc:  # noqa: BLE001 - any failure here only means torch runs instead
        log.warning("the speaker embedder runs in torch (slower, same vectors): ONNX Runtime could not be "
                    "used with %s: %s", path, exc)
        return None


def _session(model, example: np.ndarray, path: Path, threads: int) -> OnnxForward:
    """The session on `path`, exported first if missing; a file that does not load (damaged) is
    exported again, once."""
    if path.exists():
        try:
            return OnnxForward(path, threads)
        except Exception:  # noqa: BLE001 - a damaged file: made again below
            path.unlink(missing_ok=True)
    export(model, example, path)
    return OnnxForward(path, threads)


def export(model, example: np.ndarray, path: Path) -> None:
    """Write `model` as ONNX (batch size free, the rest of `example`'s shape fixed), atomically:
    another process reading the cache never sees half a file."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the tracer's notes on shape-dependent Python branches
            torch.onnx.export(model, torch.from_numpy(np.ascontiguousarray(example, np.float32)), str(partial),
                              input_names=[INPUT], output_names=[OUTPUT], opset_version=17, dynamo=False,
                              dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}})
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    log.info("exported the speaker embedder to %s", path)
