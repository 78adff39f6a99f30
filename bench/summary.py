"""Time and memory of the summary of a long transcript with the test model (Qwen2.5-Coder-0.5B-Instruct
Q4_K_M) behind llama-cpp-python's server (`--n_ctx 4096 --n_threads 1`), as the tests run it.

    python bench/summary.py [--minutes 60]

The transcript is a French meeting in Hearback's JSON shape (tests/meetings.py) at about 150 words
a minute. Reports the wall time, the pieces of the map-reduce, the server's peak RSS (VmHWM) and
this process's, with the machine's load before and after; writes bench/results/summary.json.
Needs `scripts/setup-test-llm` first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from llm_server import LlamaServer  # noqa: E402
from meetings import RECORDED, document, long_meeting  # noqa: E402

from hearback.result import Transcript  # noqa: E402
from hearback.summary import SummaryContext, summarize  # noqa: E402
from hearback.summary.pieces import lines_of, render, tokens  # noqa: E402
from service.settings import Settings  # noqa: E402


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    lines, owners = long_meeting(args.minutes)
    transcript = Transcript.from_dict(document(lines, "fr"))
    text = render(lines_of(transcript))
    load_before = os.getloadavg()[0]
    server = LlamaServer(8911, Path("/tmp/hearback-bench-llm.log")).start()
    try:
        started = time.perf_counter()
        summary = summarize(transcript, Settings.from_env(**server.settings()), SummaryContext(recorded_at=RECORDED),
                            lambda f: print(f"  {f:5.0%} after {time.perf_counter() - started:6.1f} s", flush=True))
        wall = time.perf_counter() - started
        server_mb = peak_rss_mb(server.process.pid)
    finally:
        server.stop()
    found = {(i.owner, i.due) for i in summary.action_items}
    result = {"minutes": round(transcript.duration / 60, 1), "words": len(transcript.text.split()),
              "estimated_tokens": tokens(text), "pieces": summary.pieces, "wall_s": round(wall, 1),
              "server_peak_rss_mb": round(server_mb), "client_peak_rss_mb": round(resource.getrusage(
                  resource.RUSAGE_SELF).ru_maxrss / 1024), "action_items": len(summary.action_items),
              "commitments_found": sorted(o for o, d in owners.items() if (o, d) in found),
              "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
              "model": summary.model, "cpus": os.cpu_count()}
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "summary.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
