"""The allocator tuning that keeps long recordings in small memory (hearback/allocator.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

PROBE = "from hearback import allocator; print(allocator.tune())"


def probe(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


def test_glibc_is_tuned_unless_the_user_chose():
    assert probe() == "True"  # this machine runs glibc: both settings applied
    assert probe(MALLOC_ARENA_MAX="4", MALLOC_MMAP_THRESHOLD_="65536") == "False"  # the user's values win
    assert probe(MALLOC_ARENA_MAX="4") == "True"  # the other one is still set


def test_every_shell_tunes_before_loading_models():
    for shell, call in (("app/cli.py", "allocator.tune()"), ("handler.py", "allocator.tune()")):
        source = (ROOT / shell).read_text()
        main = source[source.index("def main("):]
        assert call in main.split("\n\n")[0], f"{shell}: main() must call {call} first"
