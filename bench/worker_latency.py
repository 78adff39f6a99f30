"""Cold start and warm-job latency of the RunPod worker (embedded backend, CPU).

Starts `python handler.py --rp_serve_api` on 127.0.0.1 with a 30 s two-speaker recording served
from a loopback HTTP server, then measures:
- cold start: process start to the first job's result (model loads + first job);
- model load: what the worker logs for it;
- warm job: /runsync latency of the following jobs (median of --jobs).

    python bench/worker_latency.py [--audio PATH] [--jobs 5]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT.parent / "shared" / "audio"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=Path, default=AUDIO / "pyannote_sample.wav")
    parser.add_argument("--jobs", type=int, default=5)
    args = parser.parse_args()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    served = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(args.audio.parent)))
    threading.Thread(target=served.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{served.server_address[1]}/{args.audio.name}"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    env = {**os.environ, "HEARBACK_URL_ALLOWLIST": "127.0.0.1", "RUNPOD_LOG_LEVEL": "INFO"}
    started = time.perf_counter()
    worker = subprocess.Popen([sys.executable, "handler.py", "--rp_serve_api", "--rp_api_host", "127.0.0.1",
                               "--rp_api_port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
    try:
        while True:
            try:
                first = client.post("/runsync", json={"input": {"audio_url": url}})
                break
            except httpx.TransportError:
                if worker.poll() is not None:
                    raise SystemExit("worker exited:\n" + Path(log.name).read_text()[-3000:])
                time.sleep(0.2)
        cold = time.perf_counter() - started
        assert first.json()["status"] == "COMPLETED", first.text[:500]
        warm = []
        for _ in range(args.jobs):
            t = time.perf_counter()
            assert client.post("/runsync", json={"input": {"audio_url": url}}).json()["status"] == "COMPLETED"
            warm.append(time.perf_counter() - t)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        served.shutdown()
    text = Path(log.name).read_text()
    load = float(re.search(r"models loaded in ([\d.]+) s", text).group(1))
    loads = sorted({int(n) for n in re.findall(r"model loads in this worker: (\d+)", text)})
    duration = float(first.json()["output"]["duration"])
    print(f"audio: {args.audio.name} ({duration:.1f} s)")
    print(f"cold start (process start to first result): {cold:.2f} s   of which model load: {load:.2f} s")
    print(f"warm job (median of {args.jobs}): {statistics.median(warm):.2f} s   "
          f"(min {min(warm):.2f}, max {max(warm):.2f}; {duration / statistics.median(warm):.1f}x real time)")
    print(f"model loads seen in the worker's log: {loads}")


if __name__ == "__main__":
    main()
