"""roles/prefect/files/prefect-worker-drain.py: which runs a worker that died leaves Crashed.

The drain's API calls go through Prefect's client; here a stand-in client
answers with runs as Prefect 3.9's process worker leaves them (infrastructure_pid
the bare PID, the worker's name in the labels). The whole path - a worker unit
killed with SIGKILL, its run Crashed within seconds - is proven on real systemd
in molecule's postgresql scenario."""

from __future__ import annotations

import os
import subprocess
import uuid
from types import SimpleNamespace

from module_harness import load_plugin

drain = load_plugin("roles/prefect/files/prefect-worker-drain.py", "prefect_worker_drain")


def _run(worker: str, pid: int | str | None) -> SimpleNamespace:
    return SimpleNamespace(id=uuid.uuid4(), infrastructure_pid=None if pid is None else str(pid),
                           labels={"prefect.worker.name": worker}, state_type=SimpleNamespace(value="RUNNING"))


def _api(runs: list[SimpleNamespace]) -> object:
    api = drain.Api.__new__(drain.Api)
    api._active_runs = lambda: runs  # type: ignore[attr-defined]
    return api


def test_a_dead_workers_runs_whose_process_is_gone_are_orphans() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    mine_dead = _run("host-etl-1", gone.pid)
    mine_alive = _run("host-etl-1", os.getpid())
    never_started = _run("host-etl-1", None)
    other_instance = _run("host-etl-2", gone.pid)
    api = _api([mine_dead, mine_alive, never_started, other_instance])
    assert api.orphans("host-etl-1") == sorted([str(mine_dead.id), str(never_started.id)])


def test_alive_answers_for_processes_of_other_users() -> None:
    assert drain.alive(os.getpid())
    assert drain.alive(1)  # init: EPERM for an unprivileged caller, still alive
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert not drain.alive(gone.pid)
