"""Drain a Prefect worker unit instead of killing its flows (the unit's ExecStop=).

A process worker stopped with SIGTERM kills its flow-run processes at once and
reports nothing, so the runs stay Running forever. systemd runs this before it
signals the unit: it stops the worker itself (SIGKILL to the worker process only;
the flow runs are in sessions of their own and, with the pools' stream_output
false, hold no pipe to it), then waits until the flow runs in the unit's cgroup
have finished, up to --timeout seconds (the runs are found through the API: the
pool's active runs whose process is in the cgroup). Runs still going then are set Cancelled
through the API with a message that says why, and their process groups are
stopped. A run cancelled from the UI meanwhile is stopped as the worker would.
When the whole system is shutting down it does not wait: it marks the runs
Crashed with the reason, so retries and automations can act at once.

systemd runs ExecStop= also when the worker died on its own (killed by the
out-of-memory killer, or `systemctl kill`), without a MAINPID. Then every
active run this worker submitted (--worker: the runs' prefect.worker.name
label) whose process is gone is marked Crashed at once, with a message that
says so: only a lost host has to wait for the heartbeat automation. Runs
whose processes survived the worker are drained as above.

    prefect-worker-drain --timeout 1800 --unit prefect-worker@etl-1.service \\
        --worker HOST-etl-1 MAINPID

Runs as the unit's user, with the unit's environment (API URL and credentials).
Prints what it does to the journal; the preset's play shows those lines.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

POLL_SECONDS = 2.0
KILL_GRACE_SECONDS = 10.0


def say(message: str) -> None:
    print(f"drain: {message}", flush=True)


def own_cgroup_procs() -> Path:
    """cgroup.procs of the unit's cgroup (v2, or the systemd hierarchy on hybrid hosts)."""
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    by_controller = {line.split(":", 2)[1]: line.split(":", 2)[2] for line in lines}
    for controller, mount in (("", "/sys/fs/cgroup"), ("name=systemd", "/sys/fs/cgroup/systemd")):
        path = by_controller.get(controller)
        if path is not None:
            candidate = Path(mount + path) / "cgroup.procs"
            if candidate.exists():
                return candidate
    raise SystemExit("drain: cannot find this unit's cgroup")


def remaining(procs: Path, exclude: set[int]) -> set[int]:
    """The processes still in the unit's cgroup (the flow runs), but this program."""
    try:
        return {int(p) for p in procs.read_text().split()} - exclude
    except OSError:
        return set()


def stop_processes(procs: Path, pids: set[int], exclude: set[int]) -> None:
    """SIGTERM the runs' process groups (each run has its own session), then SIGKILL.
    (PrivateUsers hides the processes' /proc entries from this program; signals and
    the cgroup's member list still work.)"""
    groups = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(pid))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for group in groups:
            with contextlib.suppress(OSError):
                os.killpg(group, sig)
        deadline = time.monotonic() + KILL_GRACE_SECONDS
        while time.monotonic() < deadline and remaining(procs, exclude) & pids:
            time.sleep(0.2)


def alive(pid: int) -> bool:
    """Whether a process exists (one of another unit's user namespace answers EPERM)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def system_stopping() -> bool:
    state = subprocess.run(
        ["systemctl", "is-system-running"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return state == "stopping"


class Api:
    """The few flow-run calls the drain needs, through Prefect's own client
    (credentials and CSRF as configured for the worker)."""

    ACTIVE = ("PENDING", "RUNNING", "CANCELLING")

    def __init__(self, pool: str) -> None:
        from prefect.client.orchestration import get_client

        self._client = get_client(sync_client=True)
        self._pool = pool

    def runs_of(self, pids: set[int]) -> dict[str, tuple[int, str]] | None:
        """Active runs of this pool whose process is one of `pids`: id -> (pid, state type).
        None when the API cannot be asked (it may be restarting too)."""
        runs = self._active_runs()
        if runs is None:
            return None
        found = {}
        for run in runs:
            pid = str(run.infrastructure_pid or "").rpartition(":")[2]
            if pid.isdigit() and int(pid) in pids:
                found[str(run.id)] = (int(pid), run.state_type.value)
        return found

    def orphans(self, worker: str) -> list[str]:
        """Active runs this worker submitted (the label prefect.worker.name the process worker
        gives each run) whose process is gone."""
        found = []
        for run in self._active_runs() or []:
            labels = dict(getattr(run, "labels", None) or {})
            pid = str(run.infrastructure_pid or "").rpartition(":")[2]
            gone = not (pid.isdigit() and alive(int(pid)))
            if labels.get("prefect.worker.name") == worker and gone:
                found.append(str(run.id))
        return sorted(found)

    def _active_runs(self) -> list | None:
        from prefect.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterState,
            FlowRunFilterStateType,
            WorkPoolFilter,
            WorkPoolFilterName,
        )
        from prefect.client.schemas.objects import StateType

        try:
            return self._client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(
                        type=FlowRunFilterStateType(any_=[StateType(s) for s in self.ACTIVE])
                    )
                ),
                work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[self._pool])),
                limit=200,
            )
        except Exception as error:
            say(f"could not list the pool's runs: {error}")
            return None

    def set_state(self, run_id: str, kind: str, message: str) -> None:
        from prefect.states import Cancelled, Crashed

        state = {"CANCELLED": Cancelled, "CRASHED": Crashed}[kind](message=message)
        try:
            self._client.set_flow_run_state(run_id, state, force=True)
        except Exception as error:
            say(f"could not set flow run {run_id} {kind}: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--timeout", type=float, required=True, help="seconds to wait for runs")
    parser.add_argument("--unit", required=True, help="the unit's name, for messages")
    parser.add_argument("--worker", default="", help="the worker's name (its runs' label)")
    parser.add_argument("mainpid", nargs="?", default="", help="the worker's PID ($MAINPID)")
    args = parser.parse_args()

    if args.mainpid.isdigit():  # empty when the worker already exited on its own
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(args.mainpid), signal.SIGKILL)
            say(f"stopped the worker of {args.unit} (pid {args.mainpid}); it takes no new runs")

    procs = own_cgroup_procs()
    # The killed worker stays in the cgroup until systemd has reaped it.
    exclude = {os.getpid(), os.getppid(), *([int(args.mainpid)] if args.mainpid.isdigit() else [])}
    pids = remaining(procs, exclude)
    api: Api | None = None
    if not args.mainpid.isdigit():  # the worker died on its own: its dead runs crashed
        api = Api(os.environ.get("PREFECT_WORKER_POOL", ""))
        host = socket.gethostname()
        orphans = api.orphans(args.worker) if args.worker else []
        message = (
            f"Crashed: {args.unit} on {host} died (its worker was killed - out of memory, or "
            "a kill - and this run's process with it). Marked at once by the prefect preset's "
            "worker unit, so that retries and automations can act."
        )
        for run_id in orphans:
            api.set_state(run_id, "CRASHED", message)
        if orphans:
            say(f"{args.unit} died: marked {len(orphans)} run(s) Crashed: {', '.join(orphans)}")
    if not pids:
        say(f"{args.unit}: no flow run in flight")
        return 0
    api = api or Api(os.environ.get("PREFECT_WORKER_POOL", ""))
    runs = api.runs_of(pids) or {}

    if system_stopping():
        message = f"The host is shutting down; {args.unit} could not let the run finish."
        for run_id in runs:
            api.set_state(run_id, "CRASHED", message)
        say(f"system shutdown: marked {len(runs)} run(s) Crashed: {', '.join(sorted(runs))}")
        return 0

    started = time.monotonic()
    say(
        f"{args.unit}: waiting up to {args.timeout:.0f} s for {len(runs) or 'the'} flow run(s) "
        f"to finish: {', '.join(sorted(runs)) or 'processes ' + ' '.join(map(str, sorted(pids)))}"
    )
    while pids:
        for run_id, (pid, state) in list(runs.items()):
            if state == "CANCELLING":  # cancelled from the UI meanwhile
                # Stopped first: a stopped flow reports itself Crashed, which this overrides.
                stop_processes(procs, {pid}, exclude)
                api.set_state(run_id, "CANCELLED", "Cancelled while the worker was draining.")
                say(f"flow run {run_id} was cancelled meanwhile; stopped it")
        if time.monotonic() - started >= args.timeout:
            message = (
                f"Cancelled by the prefect preset: {args.unit} had to restart (configuration, "
                f"software or units changed) and this run was still going after drain_timeout "
                f"({args.timeout:.0f} s)."
            )
            # Stopped first: a stopped flow reports itself Crashed, which this overrides.
            stop_processes(procs, pids, exclude)
            for run_id in runs:
                api.set_state(run_id, "CANCELLED", message)
            say(f"drain_timeout reached: cancelled {len(runs)} run(s): {', '.join(sorted(runs))}")
            return 0
        time.sleep(POLL_SECONDS)
        pids = remaining(procs, exclude)
        current = api.runs_of(pids) if pids else {}
        if current is not None:
            for run_id in sorted(set(runs) - set(current)):
                say(f"flow run {run_id} finished after {time.monotonic() - started:.0f} s")
            runs = current
    say(f"{args.unit}: drained in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
