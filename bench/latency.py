"""Pickup latency on a provisioned host: create runs of a deployment one at
a time and time, on the server's clock, creation -> Running -> Completed.

Runs inside the host with the provisioned Prefect:
    /opt/prefect/venv/bin/python /src/bench/latency.py --runs 20
Prints one JSON object: the per-run figures, their median and worst, and
the median of each stage on the server's clock: created -> Pending (the
worker's poll found the run), Pending -> Running (the run's own Python
process started, imported Prefect and loaded the flow), Running -> Completed
(the flow ran and its final state was proposed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

sys.path.insert(0, "/opt/prefect/flows")

from hello_deployment import deploy_hello
from trigger_deployment import (
    _ts,
    api_client,
    create_flow_run,
    find_deployment,
    wait_for_final_state,
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pool", default="default")
    args = parser.parse_args()
    deploy_hello("/opt/prefect/flows", "latency", args.pool)
    running: list[float] = []
    completed: list[float] = []
    stages: dict[str, list[float]] = {"poll": [], "process start": [], "flow and final state": []}
    with api_client() as client:
        deployment = find_deployment(client, "hello", "latency")
        for _ in range(args.runs):
            run = create_flow_run(client, deployment["id"])
            done = wait_for_final_state(client, run["id"], timeout=120, poll=0.2)
            if done.run["state_type"] != "COMPLETED" or done.to_running is None:
                raise SystemExit(f"run {run['id']} ended {done.run['state_name']}")
            running.append(done.to_running)
            completed.append(done.to_final)
            states = client.get("flow_run_states/", params={"flow_run_id": run["id"]}).json()
            first = {}
            for state in sorted(states, key=lambda s: s["timestamp"]):
                first.setdefault(state["type"], _ts(state["timestamp"]))
            created = _ts(done.run["created"])
            if "PENDING" in first:
                stages["poll"].append((first["PENDING"] - created).total_seconds())
                stages["process start"].append(
                    (first["RUNNING"] - first["PENDING"]).total_seconds()
                )
            stages["flow and final state"].append(done.to_final - done.to_running)
    print(
        json.dumps(
            {
                "to_running": running,
                "to_completed": completed,
                "median_to_running": statistics.median(running),
                "worst_to_running": max(running),
                "median_to_completed": statistics.median(completed),
                "worst_to_completed": max(completed),
                "stage_medians": {
                    stage: statistics.median(values) for stage, values in stages.items() if values
                },
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
