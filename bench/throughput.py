"""Throughput on a host with a server and a worker: deploy the trivial flow,
queue N runs of it at once, and time them from the first creation to the last
Completed, on the server's clock. Runs with the host's Prefect:

    python bench/throughput.py --runs 100 --source /opt/prefect/flows

Prints one JSON object: runs, seconds, runs_per_minute, and the states seen.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from datetime import datetime


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--pool", default="default")
    parser.add_argument("--source", default="/opt/prefect/flows")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    sys.path.insert(0, args.source)
    from prefect import flow
    from trigger_deployment import api_client, create_flow_run, find_deployment

    with contextlib.redirect_stdout(sys.stderr):
        flow.from_source(source=args.source, entrypoint="basic.py:hello").deploy(
            name="throughput",
            work_pool_name=args.pool,
            build=False,
            push=False,
            print_next_steps=False,
            ignore_warnings=True,
        )
    with api_client() as client:
        deployment = find_deployment(client, "hello", "throughput")
        ids = [create_flow_run(client, deployment["id"])["id"] for _ in range(args.runs)]
        deadline = time.monotonic() + args.timeout
        while True:
            response = client.post("flow_runs/filter", json={"flow_runs": {"id": {"any_": ids}}})
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
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
