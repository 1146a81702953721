"""A host set up by the previous release of this preset (0.1.0: one user for
server and flows, one virtualenv directory, one environment file, flow results
in the server's data directory) converged by this release: the layout moves
over, the database and the flow results are kept and still used."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from prefect_api import Api, journal
from release import DEFAULT_VERSION

HOST = "upgrade-release"
VALID = 600  # seconds: the example flow's cache_expiration (examples/flows/caching.py)
testinfra_hosts = [f"podman://{HOST}"]


def test_the_layout_moved_over(host):
    venv = host.file("/opt/prefect/venv")
    assert venv.is_symlink and venv.linked_to == f"/opt/prefect/venvs/{DEFAULT_VERSION}"
    assert not host.file("/opt/prefect/uv").exists
    assert not host.file("/opt/prefect/requirements.txt").exists
    assert not host.file("/etc/prefect/prefect.env").exists
    assert host.file("/var/lib/prefect").mode == 0o700
    assert host.user("prefect-worker").exists


def test_the_old_worker_unit_is_gone_and_the_new_one_runs(host):
    assert host.run("systemctl is-enabled prefect-worker@default.service").stdout.strip() != "enabled"
    assert not host.service("prefect-worker@default.service").is_running
    assert host.service("prefect-worker@default-1.service").is_running, journal(host, "prefect-worker@default-1.service")


def test_the_database_is_kept(host):
    api = Api(host)
    deployments = api.post("/deployments/filter", {"deployments": {"name": {"any_": ["smoke"]}}})
    runs = api.post("/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}, "limit": 200})
    # 0.1.0's smoke runs and this release's, on one database.
    assert len(deployments) == 9 and len(runs) >= 18


def test_the_results_moved_to_the_workers_and_are_still_used(host):
    assert not host.file("/var/lib/prefect/storage").exists
    storage = host.file("/var/lib/prefect-worker/storage")
    assert storage.is_directory and storage.user == "prefect-worker"
    files = host.run("find /var/lib/prefect-worker/storage -type f -user prefect-worker").stdout.split()
    assert files, "no results moved over"
    # This release's smoke run of `cached` finds the result 0.1.0's run stored, if
    # it runs within the ten minutes the result is valid (cache_expiration): its
    # first call comes from the cache. On a loaded machine the converge can take
    # longer than that; then the result has expired and is computed again, which
    # proves nothing either way, and the test says so instead of failing.
    api = Api(host)
    deployment = api.get("/deployments/name/cached/smoke")
    latest, previous = api.post("/flow_runs/filter", {
        "flow_runs": {"deployment_id": {"any_": [deployment["id"]]}},
        "sort": "EXPECTED_START_TIME_DESC", "limit": 2})
    assert latest["state_type"] == "COMPLETED", latest["state"]
    tasks = sorted(api.post("/task_runs/filter", {"flow_runs": {"id": {"any_": [latest["id"]]}}}),
                   key=lambda t: t["start_time"] or t["created"])
    assert tasks, "the smoke run of cached ran no task"
    gap = _ts(tasks[0]["start_time"] or tasks[0]["created"]) - _ts(previous["start_time"])
    if gap < VALID - 5:
        assert all(t["state_name"] == "Cached" for t in tasks), [t["state_name"] for t in tasks]
    else:
        print(f"[upgrade] 0.1.0's cached result was {gap / 60:.1f} min old at this release's smoke run "
              f"(valid {VALID / 60:.0f} min): expired, computed again; its use is not shown by this run")
        assert tasks[-1]["state_name"] == "Cached", [t["state_name"] for t in tasks]


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
