"""Ask an API through the load balancer, again and again, for a while, and
report every request that failed: what a user of the UI or a worker would
have seen while parts of the topology went away. Standard library only; runs
on a test host with its system Python (which trusts the system store).

    AVAILABILITY_AUTH=user:pass python3 availability.py URL --seconds 300 \\
        --stop-file /root/stop --out result.json

It stops after --seconds, or as soon as --stop-file exists.

A GET whose connection closed before any answer (no status line) is sent
once more on a new connection, as Prefect's own client does (it retries
httpx's RemoteProtocolError and ReadError) and as HTTP allows for an
idempotent request (RFC 9110, 9.2.2): such a request counts as failed only
when the second attempt fails too. How often that happened is reported as
"closed_then_retried", so a load balancer that drops connections shows.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--stop-file", default="")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    auth = os.environ.get("AVAILABILITY_AUTH", "")
    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    started = time.monotonic()
    requests, failures, retried = 0, [], []

    def get() -> None:
        with urllib.request.urlopen(urllib.request.Request(args.url, headers=headers), timeout=10) as answer:
            answer.read()

    while time.monotonic() - started < args.seconds and not (args.stop_file and Path(args.stop_file).exists()):
        at = time.monotonic() - started
        try:
            try:
                get()
            except (http.client.RemoteDisconnected, ConnectionResetError) as closed:
                retried.append({"at": round(at, 2), "error": str(closed)})
                get()
        except urllib.error.HTTPError as error:
            failures.append({"at": round(at, 2), "error": f"HTTP {error.code}"})
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            failures.append({"at": round(at, 2), "error": str(getattr(error, "reason", error))})
        requests += 1
        time.sleep(args.interval)
    # The longest stretch of consecutive failed requests, in seconds.
    longest, start, previous = 0.0, None, None
    for failure in failures:
        if previous is None or failure["at"] - previous > 3 * args.interval + 10:
            start = failure["at"]
        longest = max(longest, failure["at"] - start + args.interval)
        previous = failure["at"]
    with Path(args.out).open("w") as handle:
        json.dump({"requests": requests, "seconds": round(time.monotonic() - started, 1),
                   "failed": len(failures), "failures": failures[:50],
                   "closed_then_retried": len(retried), "retries": retried[:50],
                   "longest_outage_seconds": round(longest, 2)}, handle)


if __name__ == "__main__":
    main()
