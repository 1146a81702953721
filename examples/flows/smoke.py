"""The preset's smoke test: deploy the example flows to a work pool, run
them through that pool's worker, and prove each run completed there.

    python smoke.py --pool default --worker-prefix HOST-default- [--timeout 180]
    python smoke.py --local          # no worker (no systemd): run in-process

With a worker: deploys every example as FLOW/smoke (and scheduled.py as
nightly_report/nightly, paused, with its cron schedule) from this directory,
creating or updating only the deployments that are missing or differ (so a
re-run creates no duplicates), triggers one run of each (at most three at a
time), waits for them, and checks that each run completed, in the pool, run
by a worker whose name starts with one of the prefixes (an instance on this
host or, in a fleet, on one of its worker hosts: HOST-POOL-N), as the run's
label prefect.worker.name (or, on releases without it, the worker's line
"Worker 'NAME' submitting flow run" in the run's logs) says. Prints a
JSON report (deployments changed, runs, pickup latency); exits 1 with the
failing runs' state messages and last log lines if any run did not complete.

With --local: calls each flow in this process against a temporary local
server (Prefect's ephemeral mode) and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import re
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# (file, flow function, expected return value or None to accept any)
SMOKE_FLOWS: list[tuple[str, str]] = [
    ("basic", "hello"),
    ("basic", "etl"),
    ("concurrency", "sequential_vs_concurrent"),
    ("fan_in", "shopping"),
    ("retries", "retrying"),
    ("caching", "cached"),
    ("mapping", "sentence_stats"),
    ("async_flow", "gather_sources"),
    ("parameters", "make_report"),
]
DEPLOYMENT = "smoke"
LOG_WAIT_SECONDS = 20.0


def _flow_name(module: str, function: str) -> str:
    return getattr(importlib.import_module(module), function).name


def _wanted(client: Any, flow_name: str, entrypoint: str, pool: str) -> bool:
    """True when FLOW/smoke is missing or differs from what we would deploy."""
    response = client.get(f"deployments/name/{flow_name}/{DEPLOYMENT}")
    if response.status_code == 404:
        return True
    response.raise_for_status()
    current = response.json()
    return not (
        current["entrypoint"] == entrypoint
        and current["work_pool_name"] == pool
        and current["pull_steps"]
        == [{"prefect.deployments.steps.set_working_directory": {"directory": str(HERE)}}]
    )


def deploy_all(pool: str, force: bool) -> list[str]:
    import scheduled
    from prefect import flow
    from trigger_deployment import api_client

    changed: list[str] = []
    # deploy() prints tables meant for a terminal; keep stdout for the report.
    with api_client() as client, contextlib.redirect_stdout(sys.stderr):
        for module, function in SMOKE_FLOWS:
            entrypoint = f"{module}.py:{function}"
            name = _flow_name(module, function)
            if force or _wanted(client, name, entrypoint, pool):
                flow.from_source(source=str(HERE), entrypoint=entrypoint).deploy(
                    name=DEPLOYMENT,
                    work_pool_name=pool,
                    build=False,
                    push=False,
                    print_next_steps=False,
                    ignore_warnings=True,
                )
                changed.append(f"{name}/{DEPLOYMENT}")
        nightly = client.get("deployments/name/nightly-report/nightly")
        if force or nightly.status_code == 404 or not nightly.json().get("schedules"):
            scheduled.deploy(pool, HERE)
            changed.append("nightly-report/nightly")
    return changed


def _last_logs(client: Any, flow_run_id: str, limit: int = 15) -> list[dict[str, Any]]:
    response = client.post_idempotent(
        "logs/filter",
        json={
            "logs": {"flow_run_id": {"any_": [flow_run_id]}},
            "sort": "TIMESTAMP_DESC",
            "limit": limit,
        },
    )
    response.raise_for_status()
    return list(reversed(response.json()))


def run_all(pool: str, prefixes: list[str], timeout: float, in_flight: int) -> dict[str, Any]:
    """One run of each smoke deployment, at most `in_flight` at a time: nine
    flow-run processes starting at once would load a small host (and its
    SQLite database) far beyond what the check is about."""
    from trigger_deployment import (
        api_client,
        create_flow_run,
        find_deployment,
        wait_for_final_state,
    )

    def run_one(module_function: tuple[str, str]) -> dict[str, Any]:
        name = f"{_flow_name(*module_function)}/{DEPLOYMENT}"
        # A server busy beside other work may answer 503 for longer than
        # Prefect's own client waits: the smoke test waits up to its timeout.
        with api_client(retry_for=timeout) as client:
            deployment = find_deployment(client, *name.split("/"))
            run_id = create_flow_run(client, deployment["id"])["id"]
            try:
                done = wait_for_final_state(client, run_id, timeout)
            except TimeoutError as error:
                logs = [log["message"] for log in _last_logs(client, run_id)]
                return {
                    "deployment": name,
                    "id": run_id,
                    "ok": False,
                    "problem": str(error),
                    "logs": logs,
                }
            # The worker labels the run with its name before it starts it
            # (whatever the log level); older releases only say so in its logs,
            # which it sends in batches, every few seconds.
            labeled = (done.run.get("labels") or {}).get("prefect.worker.name", "")
            workers = [labeled] if labeled.startswith(tuple(prefixes)) else []
            logs: list[dict[str, Any]] = []
            alternatives = "|".join(re.escape(prefix) for prefix in prefixes)
            marker = re.compile(
                rf"Worker '((?:{alternatives})[^']*)' submitting flow run '{run_id}'"
            )
            deadline = time.monotonic() + LOG_WAIT_SECONDS
            while not labeled:
                logs = _last_logs(client, run_id, limit=200)
                workers = [m.group(1) for log in logs if (m := marker.search(log["message"]))]
                if workers or time.monotonic() > deadline:
                    break
                time.sleep(1)
            if not workers or done.run["state_type"] != "COMPLETED":
                logs = logs or _last_logs(client, run_id, limit=200)
        run = done.run
        problems = []
        if run["state_type"] != "COMPLETED":
            problems.append(f"state {run['state_name']}: {run['state'].get('message')}")
        if run["work_pool_name"] != pool:
            problems.append(f"ran in pool {run['work_pool_name']!r}, not {pool!r}")
        if not run.get("infrastructure_pid"):
            problems.append("no worker process recorded (infrastructure_pid unset)")
        if not workers:
            problems.append(
                f"run by worker {labeled!r}, not one named {prefixes[0]}...: not run by these hosts"
                if labeled
                else f"no worker named {prefixes[0]}... labeled the run or logged submitting it:"
                " not run by these hosts"
            )
        return {
            "deployment": name,
            "id": run_id,
            "state": run["state_name"],
            "worker": workers[0] if workers else None,
            "ok": not problems,
            "problem": "; ".join(problems),
            "to_running": done.to_running,
            "to_completed": done.to_final,
            "logs": [log["message"] for log in logs[-15:]] if problems else [],
        }

    with ThreadPoolExecutor(max_workers=in_flight) as executor:
        runs = list(executor.map(run_one, SMOKE_FLOWS))
    return {"runs": runs}


def run_local() -> dict[str, Any]:
    runs = []
    for module, function in SMOKE_FLOWS:
        fn = getattr(importlib.import_module(module), function)
        state = (
            asyncio.run(fn(return_state=True))
            if asyncio.iscoroutinefunction(fn.fn)
            else fn(return_state=True)
        )
        runs.append(
            {
                "deployment": f"{fn.name} (in-process)",
                "state": state.name,
                "ok": state.is_completed(),
                "problem": "" if state.is_completed() else str(state.message),
            }
        )
    return {"runs": runs}


def _summary(values: list[float]) -> dict[str, float]:
    return (
        {"median": round(statistics.median(values), 2), "max": round(max(values), 2)}
        if values
        else {}
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool")
    parser.add_argument(
        "--worker-prefix",
        action="append",
        help="name prefix of workers that may run the flows (HOST-POOL-); repeat for a fleet",
    )
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--force-deploy", action="store_true", help="redeploy even when unchanged")
    parser.add_argument("--in-flight", type=int, default=3, help="runs at a time (default 3)")
    parser.add_argument(
        "--local", action="store_true", help="no worker: run in-process, ephemeral server"
    )
    args = parser.parse_args()

    started = time.monotonic()
    if args.local:
        # The temporary server gets the smoke test's time to start, not Prefect's
        # 20 s: a host busy beside other work (a converge of its neighbours, a
        # cold page cache) can take longer, and that says nothing about the host.
        os.environ.setdefault(
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(int(args.timeout))
        )
        report: dict[str, Any] = {"mode": "local", "deployments_changed": [], **run_local()}
    else:
        if not (args.pool and args.worker_prefix):
            parser.error("--pool and --worker-prefix are required unless --local")
        changed = deploy_all(args.pool, args.force_deploy)
        report = {
            "mode": "worker",
            "pool": args.pool,
            "worker": " or ".join(f"{prefix}*" for prefix in args.worker_prefix),
            "deployments_changed": changed,
            **run_all(args.pool, args.worker_prefix, args.timeout, args.in_flight),
        }
        report["latency"] = {
            "to_running": _summary(
                [r["to_running"] for r in report["runs"] if r.get("to_running") is not None]
            ),
            "to_completed": _summary(
                [r["to_completed"] for r in report["runs"] if r.get("to_completed") is not None]
            ),
        }
    report["ok"] = all(r["ok"] for r in report["runs"])
    report["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
