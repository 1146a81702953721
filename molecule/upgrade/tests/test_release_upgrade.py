"""A host set up by the previous release of this preset (0.1.0: one user for
server and flows, one virtualenv directory, one environment file, flow results
in the server's data directory) converged by this release: the layout moves
over, the database and the flow results are kept and still used."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from prefect_api import Api, journal
from release import DEFAULT_VERSION

HOST = "upgrade-release"
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
    # This release's smoke run of `cached` found the result 0.1.0's run stored:
    # its first call came from the cache (within the ten minutes it is valid).
    api = Api(host)
    deployment = api.get("/deployments/name/cached/smoke")
    [run] = api.post("/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [deployment["id"]]}},
                                           "sort": "EXPECTED_START_TIME_DESC", "limit": 1})
    tasks = api.post("/task_runs/filter", {"flow_runs": {"id": {"any_": [run["id"]]}}})
    assert tasks and all(t["state_name"] == "Cached" for t in tasks), [t["state_name"] for t in tasks]
