"""Throughput on a host with a server and a worker: deploy the trivial flow,
queue N runs of it at once, and time them from the first creation to the last
Completed, on the server's clock. Runs with the host's Prefect:

    python bench/throughput.py --runs 100 --source /opt/prefect/flows

Prints one JSON object: runs, seconds, runs_per_minute, and the states seen.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import datetime


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--pool", default="default")
    parser.add_argument("--source", default="/opt/prefect/flows")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    sys.path.insert(0, args.source)
    from hello_deployment import deploy_hello
    from trigger_deployment import api_client, find_deployment

    deploy_hello(args.source, "throughput", args.pool)
    import httpx

    stalls = 0
    with api_client(timeout=60.0) as client:
        deployment = find_deployment(client, "hello", "throughput")

        def create(key: str) -> str:
            nonlocal stalls
            # With an idempotency key a create that got no answer can be sent again:
            # the server returns the run it made, if it made one.
            for _ in range(5):
                try:
                    response = client.post(
                        f"deployments/{deployment['id']}/create_flow_run",
                        json={"idempotency_key": key},
                    )
                except httpx.TimeoutException:
                    stalls += 1
                    continue
                response.raise_for_status()
                return str(response.json()["id"])
            raise SystemExit(f"the server did not answer the creation of run {key}")

        batch = uuid.uuid4().hex
        ids = [create(f"throughput-{batch}-{i}") for i in range(args.runs)]
        deadline = time.monotonic() + args.timeout
        while True:
            # A read sent as POST: repeated when a busy server leaves it unanswered.
            try:
                response = client.post(
                    "flow_runs/filter", json={"flow_runs": {"id": {"any_": ids}}}
                )
            except httpx.TimeoutException:
                stalls += 1
                continue
            response.raise_for_status()
            runs = response.json()
            states = [run["state_type"] for run in runs]
            if all(s in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"} for s in states):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"not done after {args.timeout} s: {sorted(set(states))}")
            time.sleep(2)
    created = min(datetime.fromisoformat(run["created"]) for run in runs)
    ended = max(datetime.fromisoformat(run["end_time"]) for run in runs if run["end_time"])
    seconds = (ended - created).total_seconds()
    print(
        json.dumps(
            {
                "runs": len(runs),
                "completed": states.count("COMPLETED"),
                "seconds": seconds,
                "runs_per_minute": states.count("COMPLETED") / seconds * 60,
                "unanswered_polls": stalls,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
