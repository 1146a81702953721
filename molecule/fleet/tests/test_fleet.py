"""A fleet from one inventory: the server on fleet-server, two instances of
pool etl on each of fleet-etl-1 and fleet-etl-2, which find the server by its
address and its generated credentials from the inventory; a flow that needs a
package outside Prefect runs on both worker hosts; scaling down and removing
a worker host touch exactly what they should.

The tests run in order and build on each other (one fleet, one history)."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest
import testinfra

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from converge import converge
from prefect_api import Api, admin_python, journal
from release import DEFAULT_VERSION

SERVER = "fleet-server"
WORKERS = ["fleet-etl-1", "fleet-etl-2"]
FLOW = '''
from prefect import flow


@flow(name="uses-tabulate")
def uses_tabulate(n: int = 0) -> str:
    import tabulate  # installed for pool etl only (work_pools[].packages)

    return tabulate.tabulate([[n, n * n]], headers=["n", "square"])
'''


def _host(name: str):
    return testinfra.get_host(f"podman://{name}")


@pytest.fixture(scope="module")
def server():
    return _host(SERVER)


@pytest.fixture(scope="module")
def auth(server) -> str:
    return server.file("/etc/prefect/secrets/auth").content_string.strip()


@pytest.fixture(scope="module")
def api(server, auth) -> Api:
    return Api(server, auth=auth)


@pytest.fixture(scope="module")
def server_address() -> str:
    inspect = __import__("subprocess").run(
        ["podman", "inspect", "--format", "{{json .NetworkSettings.Networks}}", SERVER],
        capture_output=True, text=True, check=True,
    )
    [network] = json.loads(inspect.stdout).values()
    return network["IPAddress"]


def test_parts_follow_the_inventory_groups(server):
    assert server.service("prefect-server.service").is_running, journal(server, "prefect-server.service")
    assert server.run("systemctl list-units --all --plain --no-legend 'prefect-worker@*'").stdout.strip() == ""
    for name in WORKERS:
        host = _host(name)
        assert not host.file("/etc/systemd/system/prefect-server.service").exists
        for unit in ("prefect-worker@etl-1.service", "prefect-worker@etl-2.service"):
            assert host.service(unit).is_running, journal(host, unit)


def test_workers_reach_the_server_by_its_address_with_its_generated_credentials(auth, server_address):
    assert server_address and not server_address.startswith("127.")
    for name in WORKERS:
        host = _host(name)
        config = host.file("/etc/prefect/config.toml").content_string
        assert f'PREFECT_API_URL = "http://{server_address}:4200/api"' in config
        client = host.file("/etc/prefect/client.env").content_string
        read = host.run("sh -c 'set -a; . /etc/prefect/client.env; printf %s \"$PREFECT_API_AUTH_STRING\"'")
        assert read.rc == 0 and read.stdout == auth, read.stderr
        assert "PREFECT_SERVER_" not in client
        assert not host.file("/etc/prefect/server.env").exists


def test_every_worker_instance_is_online(api):
    wanted = {f"{h}-etl-{i}" for h in WORKERS for i in (1, 2)}
    deadline = time.monotonic() + 60
    while True:
        online = {w["name"] for w in api.post("/work_pools/etl/workers/filter", {}) if w["status"] == "ONLINE"}
        if wanted <= online:
            break
        assert time.monotonic() < deadline, (wanted - online)
        time.sleep(2)


def test_health_endpoints_answer_on_their_own_ports():
    for name in WORKERS:
        host = _host(name)
        for port in (8080, 8081):
            out = host.run(f"curl -fsS http://127.0.0.1:{port}/health")
            assert out.rc == 0, (name, port, out.stderr)


def _pool_venv(host) -> str:
    env = host.file("/etc/prefect/workers/etl-1.env").content_string
    return re.search(r"^PREFECT_WORKER_VENV=(\S+)$", env, re.M).group(1)


def test_the_pools_package_is_in_its_virtualenv_only():
    for name in WORKERS:
        host = _host(name)
        venv = _pool_venv(host)
        assert re.fullmatch(r"/opt/prefect/pools/etl-[0-9a-f]{8}", venv), venv
        pool = host.run(f"{venv}/bin/python -c 'import tabulate; print(tabulate.__version__)'")
        assert pool.rc == 0 and pool.stdout.strip() == "0.9.0", pool.stderr
        prefect = host.run(f"{venv}/bin/python -c 'import prefect; print(prefect.__version__)'")
        assert prefect.stdout.strip() == DEFAULT_VERSION
        assert host.run("/opt/prefect/venv/bin/python -c 'import tabulate'").rc != 0


def test_a_batch_of_runs_completes_on_both_worker_hosts(server, api):
    for name in [SERVER, *WORKERS]:
        host = _host(name)
        host.run("mkdir -p /opt/fleet-flows")
        host.run(f"cat > /opt/fleet-flows/uses_tabulate.py <<'EOF'\n{FLOW}\nEOF")
    deployment = admin_python(server, (
        "import contextlib, sys\nfrom prefect import flow\n"
        "with contextlib.redirect_stdout(sys.stderr):\n"
        "    d = flow.from_source(source='/opt/fleet-flows', entrypoint='uses_tabulate.py:uses_tabulate')"
        ".deploy(name='batch', work_pool_name='etl', build=False, push=False, print_next_steps=False,"
        " ignore_warnings=True)\nprint(d)"))
    runs = [api.run_deployment(deployment, {"n": i}) for i in range(24)]
    deadline = time.monotonic() + 600
    while True:
        states = [api.get(f"/flow_runs/{r}")["state_type"] for r in runs]
        if all(s in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"} for s in states):
            break
        assert time.monotonic() < deadline, states
        time.sleep(3)
    assert states == ["COMPLETED"] * 24
    hosts = set()
    for run in runs:
        logs = api.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run]}}})
        for log in logs:
            match = re.search(r"Worker '(fleet-etl-\d)-etl-\d' submitting flow run", log["message"])
            if match:
                hosts.add(match.group(1))
    assert hosts == set(WORKERS), hosts


def test_a_package_that_conflicts_with_prefect_is_refused_before_any_change():
    host = _host("fleet-etl-1")
    before = host.run("systemctl show -p MainPID --value prefect-worker@etl-1").stdout.strip()
    venv = _pool_venv(host)
    refused = converge("fleet-etl-1", prefect_work_pools=[
        {"name": "etl", "instances": 2, "concurrency_limit": 8, "packages": ["fastapi==0.160.0"]}])
    assert refused.returncode != 0
    assert "fastapi==0.160.0" in refused.stdout and "fastapi==0.150.0" in refused.stdout, refused.stdout[-3000:]
    assert host.run("systemctl show -p MainPID --value prefect-worker@etl-1").stdout.strip() == before
    assert _pool_venv(host) == venv


def test_lowering_instances_leaves_one_unit_per_host():
    lowered = converge("all", prefect_work_pools=[
        {"name": "etl", "instances": 1, "concurrency_limit": 8, "packages": ["tabulate==0.9.0"]}])
    assert lowered.returncode == 0, lowered.stdout[-4000:]
    for name in WORKERS:
        host = _host(name)
        units = host.run("systemctl list-units --all --plain --no-legend 'prefect-worker@*'").stdout.split("\n")
        assert [u.split()[0] for u in units if u.strip()] == ["prefect-worker@etl-1.service"]
        assert not host.file("/etc/prefect/workers/etl-2.env").exists
        assert host.run("systemctl is-enabled prefect-worker@etl-2.service").stdout.strip() != "enabled"


def test_removing_a_worker_host_leaves_the_server_untouched(server, api):
    since = server.run("systemctl show -p ActiveEnterTimestampMonotonic --value prefect-server").stdout
    removed = converge("fleet-etl-2", prefect_state="absent", prefect_work_pools=[
        {"name": "etl", "instances": 1, "packages": ["tabulate==0.9.0"]}])
    assert removed.returncode == 0, removed.stdout[-4000:]
    host = _host("fleet-etl-2")
    for path in ("/opt/prefect", "/etc/prefect", "/etc/systemd/system/prefect-worker@.service"):
        assert not host.file(path).exists, path
    assert not host.user("prefect-worker").exists
    assert server.run("systemctl show -p ActiveEnterTimestampMonotonic --value prefect-server").stdout == since
    assert api.status("/health", auth=None) == "200"
