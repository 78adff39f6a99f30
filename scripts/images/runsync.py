"""Inside the worker's container (no network): wait for the RunPod SDK's local API on 127.0.0.1,
send one audio file to /runsync as base64, print the transcript's text and the seconds waited.
Standard library only: the worker image carries no test tools.

    python runsync.py PORT AUDIO_FILE [TIMEOUT_SECONDS]
"""

from __future__ import annotations

import base64
import json
import sys
import time
import urllib.error
import urllib.request


def main(port: str, path: str, timeout: str = "600") -> int:
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + float(timeout)
    while True:  # the API answers once the models are loaded (handler.py loads them first)
        try:
            urllib.request.urlopen(f"{base}/", timeout=5).close()  # its docs page
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                print(f"runsync: the local API did not answer on {base} within {timeout} s", file=sys.stderr)
                return 1
            time.sleep(0.5)
    job = {"input": {"audio_base64": base64.b64encode(open(path, "rb").read()).decode(), "language": "auto"}}
    request = urllib.request.Request(f"{base}/runsync", data=json.dumps(job).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=max(deadline - time.monotonic(), 30)) as response:
        result = json.load(response)
    if result.get("status") != "COMPLETED":
        print(f"runsync: the job did not complete: {json.dumps(result)[:2000]}", file=sys.stderr)
        return 1
    print(json.dumps({"text": result["output"]["transcription"]["text"], "language": result["output"]["language"]}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
