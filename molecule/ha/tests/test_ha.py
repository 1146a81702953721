"""High availability: two API servers behind HAProxy (HTTPS), the background
services on a host of their own, PostgreSQL and Redis shared, a worker host,
as Prefect's scaling guide describes. Then parts go away under load, and what
a user sees is measured: requests through the load balancer that failed, runs
that did not complete.

The tests run in order and build on each other (one topology, one history).
The figures of the disruption tests are printed ("[ha figure]", pytest -s)
and are the ones docs/high-availability.md describes."""

from __future__ import annotations

import ipaddress
import json
import shlex
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import testinfra

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from converge import converge
from prefect_api import Api, admin_python, journal

COMMON = Path(__file__).resolve().parents[2] / "common"
DATA, WORKERS = "ha-data", "ha-etl-1"
APIS = ["ha-api-1", "ha-api-2"]
WORKER = "prefect-worker@etl-1.service"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _host(name: str):
    return testinfra.get_host(f"podman://{name}")


def _address(name: str) -> str:
    inspect = subprocess.run(
        ["podman", "inspect", "--format", "{{json .NetworkSettings.Networks}}", name],
        capture_output=True, text=True, check=True,
    )
    [network] = json.loads(inspect.stdout).values()
    return network["IPAddress"]


@pytest.fixture(scope="module")
def data():
    return _host(DATA)


@pytest.fixture(scope="module")
def etl():
    return _host(WORKERS)


@pytest.fixture(scope="module")
def auth() -> str:
    return _host(APIS[0]).file("/etc/prefect/secrets/auth").content_string.strip()


@pytest.fixture(scope="module")
def secrets(data, auth) -> dict[str, str]:
    return {
        "database password": data.file("/etc/prefect/secrets/postgresql-password").content_string.strip(),
        "redis password": data.file("/etc/prefect/secrets/redis-password").content_string.strip(),
        "API credentials": auth,
    }


@pytest.fixture(scope="module")
def lb_url() -> str:
    return f"https://{_address(DATA)}/api"


@pytest.fixture(scope="module")
def api(etl, auth, lb_url) -> Api:
    """The API as the workers reach it: through the load balancer, over HTTPS."""
    return Api(etl, base=lb_url, auth=auth)


def _deploy(host, entrypoint: str, name: str, interval: int | None = None) -> str:
    return admin_python(
        host,
        "import contextlib, sys\n"
        "from prefect import flow\n"
        "with contextlib.redirect_stdout(sys.stderr):\n"
        f"    d = flow.from_source(source='/opt/prefect/flows', entrypoint={entrypoint!r}).deploy(\n"
        f"        name={name!r}, work_pool_name='etl', build=False, push=False, interval={interval!r},\n"
        "        print_next_steps=False, ignore_warnings=True)\n"
        "print(d)",
    )


def _runs(api: Api, deployment: str, count: int, parameters: dict | None = None) -> list[str]:
    return [api.run_deployment(deployment, parameters) for _ in range(count)]


def _wait(api: Api, run_ids: list[str], timeout: float = 240) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        states = [api.get(f"/flow_runs/{run}")["state_type"] for run in run_ids]
        if all(state in FINAL for state in states):
            return states
        assert time.monotonic() < deadline, f"runs not finished after {timeout} s: {states}"
        time.sleep(2)


def _task_runs(api: Api, run_id: str, expected: int, timeout: float = 90) -> list[dict]:
    """Task runs are recorded by the background services from the events that came
    in through an API server: they arrive through Redis."""
    deadline = time.monotonic() + timeout
    while True:
        runs = api.post("/task_runs/filter", {"flow_runs": {"id": {"any_": [run_id]}}})
        if len(runs) >= expected and all(r["state_type"] == "COMPLETED" for r in runs):
            return runs
        assert time.monotonic() < deadline, f"{len(runs)} task runs recorded for {run_id}: {runs}"
        time.sleep(1)


class Availability:
    """A client on the worker host asking the API through the load balancer every
    0.1 s (GET a work pool: credentials, an API server and the database), in a
    transient unit, until result(); which of its requests failed. Like Prefect's
    client, it sends a GET again when its connection closed before any answer;
    how often that was needed is reported beside the failures."""

    def __init__(self, host, lb_url: str, auth: str):
        self.host = host
        self.unit = f"availability-{time.monotonic_ns()}"
        self.out, self.stop_file = f"/root/{self.unit}.json", f"/root/{self.unit}.stop"
        script = (COMMON / "availability.py").read_text()
        host.run(f"cat > /root/availability.py <<'PYEOF'\n{script}\nPYEOF")
        started = host.run(
            f"systemd-run --unit {self.unit} --description 'availability probe' --collect --quiet "
            f"--setenv AVAILABILITY_AUTH={shlex.quote(auth)} /usr/bin/python3 /root/availability.py "
            f"{shlex.quote(lb_url + '/work_pools/etl')} --seconds 900 "
            f"--stop-file {self.stop_file} --out {self.out}"
        )
        assert started.rc == 0, started.stderr
        time.sleep(2)

    def result(self, what: str) -> dict:
        self.host.run(f"touch {self.stop_file}")
        deadline = time.monotonic() + 60
        while not self.host.file(self.out).exists:
            assert time.monotonic() < deadline, journal(self.host, self.unit)
            time.sleep(1)
        result = json.loads(self.host.file(self.out).content_string)
        print(f"\n[ha figure] {what}: {result['failed']} of {result['requests']} requests over "
              f"{result['seconds']} s failed, longest outage {result['longest_outage_seconds']} s; "
              f"{result['failures'][:5]}; closed before an answer and sent again: "
              f"{result['closed_then_retried']} {result['retries'][:5]}")
        return result


def _stopped_for(host, seconds: float) -> None:
    stop = host.run("systemctl stop prefect-server.service")
    assert stop.rc == 0, stop.stderr
    time.sleep(seconds)


# --- the topology ------------------------------------------------------------------------


def test_each_host_runs_its_part(data, etl):
    for unit in ("postgresql@15-main.service", "redis-server.service", "haproxy.service",
                 "prefect-services.service"):
        assert data.service(unit).is_running, journal(data, unit)
    for absent in ("prefect-server.service", "prefect-worker@.service"):
        assert not data.file(f"/etc/systemd/system/{absent}").exists, absent
    for name in APIS:
        host = _host(name)
        assert host.service("prefect-server.service").is_running, journal(host, "prefect-server.service")
        assert "--no-services" in host.file("/etc/systemd/system/prefect-server.service").content_string
        for absent in ("prefect-services.service", "prefect-worker@.service"):
            assert not host.file(f"/etc/systemd/system/{absent}").exists, (name, absent)
    assert etl.service(WORKER).is_running, journal(etl, WORKER)
    assert not etl.file("/etc/prefect/server.env").exists


def test_the_api_servers_and_services_share_redis_and_postgresql(data):
    address = _address(DATA)
    for host in [data, *map(_host, APIS)]:
        config = host.file("/etc/prefect/config.toml").content_string
        assert 'PREFECT_SERVER_EVENTS_MESSAGING_BROKER = "prefect_redis.messaging"' in config
        assert 'PREFECT_SERVER_WORKER_CHANNEL_CLEANUP_QUEUE_STORAGE = "prefect_redis.cleanup_queue"' in config
        env = host.run("cat /etc/prefect/server.env").stdout
        assert 'PREFECT_SERVER_DOCKET_URL="redis://:' in env and f'@{address}:6379/1"' in env
        database = "127.0.0.1" if host is data else address
        assert f"@{database}:5432/prefect" in env


def test_workers_use_the_load_balancer(etl, lb_url):
    assert f'PREFECT_API_URL = "{lb_url}"' in etl.file("/etc/prefect/config.toml").content_string


def test_the_load_balancer_serves_https_with_its_certificate(etl, auth, lb_url):
    # Another machine, trusting the certificate through its system store.
    assert etl.run(f"curl -sS -o /dev/null -w '%{{http_code}}' {lb_url}/health").stdout == "200"
    assert etl.run(f"curl -sS -o /dev/null -w '%{{http_code}}' {lb_url}/version").stdout == "401"
    authed = etl.run(f"curl -sS -o /dev/null -w '%{{http_code}}' -u {shlex.quote(auth)} {lb_url}/version")
    assert authed.stdout == "200"
    plain = etl.run(f"curl -sS -o /dev/null -w '%{{http_code}}' http://{_address(DATA)}:443/api/health")
    assert plain.stdout != "200"
    ui = etl.run(f"curl -fsS {lb_url.removesuffix('/api')}/ui-settings")
    assert json.loads(ui.stdout)["api_url"] == "/api"


def test_haproxy_runs_unprivileged_and_sandboxed(data):
    props = data.service("haproxy.service").systemd_properties
    assert props["User"] == "haproxy" and props["ProtectSystem"] == "strict"
    assert props["AmbientCapabilities"] == "cap_net_bind_service"
    owners = data.run("ps -o user= -C haproxy").stdout.split()
    assert owners and set(owners) == {"haproxy"}
    pem = data.file("/etc/prefect/haproxy/prefect.pem")
    assert (pem.user, pem.group, pem.mode) == ("root", "haproxy", 0o640)


def test_both_api_servers_are_in_the_load_balancer(data, api):
    since = data.run("date +%s").stdout.strip()
    for _ in range(12):
        api.get("/work_pools/etl")
    log = data.run(f"journalctl -u haproxy --since @{since} --no-pager -o cat").stdout
    for name in APIS:
        assert f"prefect_api/{name} " in log, log[-2000:]


def test_a_batch_of_runs_completes_with_task_runs_and_events(etl, api):
    deployment = _deploy(etl, "basic.py:etl", "ha-etl")
    runs = _runs(api, deployment, 6)
    assert _wait(api, runs) == ["COMPLETED"] * 6
    for run in runs:
        _task_runs(api, run, expected=3)
    # Events came in through the API servers, went through Redis to the services
    # host's event persister, and read back through the load balancer.
    events = api.post("/events/filter", {"filter": {"any_resource": {"id": [f"prefect.flow-run.{runs[0]}"]}},
                                         "limit": 50})
    names = {event["event"] for event in events["events"]}
    assert {"prefect.flow-run.Running", "prefect.flow-run.Completed"} <= names, names


def test_redis_needs_its_password_and_postgresql_accepts_the_backends_only(data, etl):
    address = _address(DATA)
    ping = f"exec 3<>/dev/tcp/{address}/6379; printf 'PING\\r\\n' >&3; read -r -t 3 line <&3; echo \"$line\""
    answer = etl.run(f"bash -c {shlex.quote(ping)}")
    assert answer.stdout.startswith("-NOAUTH"), answer.stdout + answer.stderr
    hba = data.run("cat /etc/postgresql/15/main/pg_hba.conf").stdout
    # By the network the API servers are in (a re-addressed one still gets in), TLS only.
    subnet = str(ipaddress.ip_network(f"{address}/24", strict=False))
    block = hba.split("# BEGIN prefect preset")[1].split("# END prefect preset")[0]
    assert [line for line in block.splitlines()[1:] if line.strip()] == [
        f"hostssl prefect prefect {subnet} scram-sha-256"], block
    redis_conf = data.file("/etc/prefect/redis.conf")
    assert (redis_conf.user, redis_conf.group, redis_conf.mode) == ("root", "redis", 0o640)


def test_no_secret_is_where_it_must_not_be(secrets):
    for name in [DATA, *APIS, WORKERS]:
        host = _host(name)
        processes = host.run("ps -eo args").stdout
        logs = host.run("journalctl --no-pager -o cat").stdout
        for what, secret in secrets.items():
            assert secret not in processes, (name, what, "process arguments")
            assert secret not in logs, (name, what, "journal")
        patterns = " ".join(f"-e {shlex.quote(s)}" for s in secrets.values())
        leaked = host.run(
            "find /etc /opt /var/lib /usr/local /run /tmp -xdev -type f -perm -o+r -size -4M -print0 2>/dev/null"
            f" | xargs -0 -r grep -lF {patterns}"
        ).stdout.split()
        assert leaked == [], (name, "world-readable files", leaked)
        for unit_file in host.run("ls /etc/systemd/system/*.service").stdout.split():
            content = host.file(unit_file).content_string
            assert not any(secret in content for secret in secrets.values()), (name, unit_file)
    # The worker host holds the client credentials only.
    etl = _host(WORKERS)
    assert not etl.file("/etc/prefect/secrets/postgresql-password").exists
    assert not etl.file("/etc/prefect/secrets/redis-password").exists


# --- parts go away --------------------------------------------------------------------


def test_each_api_server_stopped_in_turn_loses_no_request_and_no_run(etl, api, auth, lb_url):
    deployment = _deploy(etl, "basic.py:etl", "ha-etl")
    probe = Availability(etl, lb_url, auth)
    runs: list[str] = []
    for name in APIS:
        host = _host(name)
        _stopped_for(host, 8)  # HAProxy notices within 4 s (two failed checks 2 s apart)
        runs += _runs(api, deployment, 3)  # created while it is down
        assert _wait(api, runs[-3:]) == ["COMPLETED"] * 3
        started = host.run("systemctl start prefect-server.service")
        assert started.rc == 0, journal(host, "prefect-server.service")
        time.sleep(5)  # back in the load balancer (two good checks)
    result = probe.result("each API server stopped in turn (systemctl stop), runs created meanwhile")
    assert result["failed"] == 0, result
    assert _wait(api, runs) == ["COMPLETED"] * 6


def test_a_killed_api_server_loses_no_request_and_no_run(etl, api, auth, lb_url):
    deployment = _deploy(etl, "slow.py:slow", "ha-slow")
    run = _runs(api, deployment, 1, {"seconds": 20})
    probe = Availability(etl, lb_url, auth)
    time.sleep(6)
    victim = _host(APIS[0])
    victim.run("systemctl kill --signal SIGKILL prefect-server.service")
    time.sleep(30)  # systemd restarts it after 5 s; it is ready again some seconds later
    result = probe.result("ha-api-1 killed (SIGKILL) while a run was in flight; systemd restarted it")
    assert result["failed"] == 0, result
    assert _wait(api, run) == ["COMPLETED"]
    assert victim.service("prefect-server.service").is_running, journal(victim, "prefect-server.service")
    assert victim.run("systemctl show -p NRestarts --value prefect-server.service").stdout.strip() == "1"


def _network(name: str) -> str:
    inspect = subprocess.run(["podman", "inspect", "--format", "{{json .NetworkSettings.Networks}}", name],
                             capture_output=True, text=True, check=True)
    [network] = json.loads(inspect.stdout)
    return network


def _podman(*args: str) -> None:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, (args, done.stderr)


def test_an_api_server_back_with_a_new_address_serves_again_with_no_converge(data, etl, api, auth, lb_url):
    """A replaced VM, a new DHCP lease: ha-api-1 stops, comes back on another address of its
    network, and serves again - HAProxy finds it by name, PostgreSQL accepts its network."""
    name, other = APIS
    old = ipaddress.ip_address(_address(name))
    new = str(old + 100 if int(old) % 256 < 150 else old - 100)
    probe = Availability(etl, lb_url, auth)
    network = _network(name)
    _podman("stop", "--time", "10", name)
    _podman("network", "disconnect", network, name)
    _podman("network", "connect", "--ip", new, network, name)
    _podman("start", name)
    assert _address(name) == new
    moved = time.monotonic()
    victim = _host(name)
    deadline = time.monotonic() + 180
    while victim.run("curl -fsS http://127.0.0.1:4200/api/ready").rc != 0:
        assert time.monotonic() < deadline, journal(victim, "prefect-server.service", 80)
        time.sleep(3)
    ready = time.monotonic()
    # HAProxy looks the name up again (every 5 s) and health-checks the new address.
    deadline = time.monotonic() + 120
    while (state := _balancer_state(data)).get(name) != (new, "UP"):
        assert time.monotonic() < deadline, (state, journal(data, "haproxy.service", 60))
        time.sleep(1)
    print(f"[ha figure] {name} ready {ready - moved:.1f} s after it came back on {new}; "
          f"in the load balancer at that address {time.monotonic() - ready:.1f} s later")
    # Only the re-addressed server left behind the load balancer: it must serve.
    _stopped_for(_host(other), 8)
    try:
        deployment = _deploy(etl, "basic.py:etl", "ha-etl")
        assert _wait(api, _runs(api, deployment, 2)) == ["COMPLETED"] * 2
        since = data.run("date +%s").stdout.strip()
        for _ in range(6):
            api.get("/work_pools/etl")
        log = data.run(f"journalctl -u haproxy --since @{since} --no-pager -o cat").stdout
        assert f"prefect_api/{name} " in log, log[-2000:]
    finally:
        started = _host(other).run("systemctl start prefect-server.service")
        assert started.rc == 0, journal(_host(other), "prefect-server.service")
    time.sleep(5)
    result = probe.result(f"{name} stopped and back on a new address ({old} -> {new}), then {other} stopped")
    # While ha-api-1 was down, ha-api-2 served; while ha-api-2 was down, the re-addressed one.
    assert result["failed"] == 0, result


def _balancer_state(data) -> dict[str, tuple[str, str]]:
    """Each API server's address and state as HAProxy holds them (its master socket)."""
    ask = ("import socket; s = socket.socket(socket.AF_UNIX); s.settimeout(5); "
           "s.connect('/run/haproxy/master.sock'); s.sendall(b'@1 show servers state prefect_api\\n'); "
           "s.shutdown(socket.SHUT_WR); out = b''\n"
           "while (chunk := s.recv(65536)): out += chunk\n"
           "print(out.decode())")
    out = data.run(f"python3 -c {shlex.quote(ask)}")
    assert out.rc == 0, out.stderr
    # be_id be_name srv_id srv_name srv_addr srv_op_state ... (srv_op_state 2: running)
    rows = [line.split() for line in out.stdout.splitlines() if line and line[0].isdigit()]
    return {row[3]: (row[4], "UP" if row[5] == "2" else f"op_state {row[5]}") for row in rows if len(row) > 5}


def _latest_scheduled(api: Api, deployment: str) -> datetime:
    runs = api.post("/flow_runs/filter", {"deployments": {"id": {"any_": [deployment]}},
                                          "sort": "EXPECTED_START_TIME_DESC", "limit": 1})
    assert runs, "no run scheduled"
    return datetime.fromisoformat(runs[0]["expected_start_time"].replace("Z", "+00:00"))


def test_killed_background_services_come_back_and_keep_scheduling(data, etl, api):
    # Every 10 s; the scheduler keeps 100 runs ahead and tops them up as they run.
    deployment = _deploy(etl, "basic.py:hello", "ha-every-10s", interval=10)
    deadline = time.monotonic() + 90
    while True:
        runs = api.post("/flow_runs/filter", {"deployments": {"id": {"any_": [deployment]}}})
        if runs:
            break
        assert time.monotonic() < deadline, "the scheduler scheduled nothing"
        time.sleep(2)
    before = _latest_scheduled(api, deployment)
    pid = data.run("systemctl show -p MainPID --value prefect-services").stdout.strip()
    data.run("systemctl kill --signal SIGKILL prefect-services.service")
    deadline = time.monotonic() + 30
    while data.run("systemctl show -p MainPID --value prefect-services").stdout.strip() in (pid, "0"):
        assert time.monotonic() < deadline, journal(data, "prefect-services.service")
        time.sleep(1)
    # Scheduled after the restart: a run later than any planned before.
    deadline = time.monotonic() + 240
    while _latest_scheduled(api, deployment) <= before:
        assert time.monotonic() < deadline, journal(data, "prefect-services.service", 80)
        time.sleep(5)
    completed = api.post("/flow_runs/filter", {"deployments": {"id": {"any_": [deployment]}},
                                               "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}})
    assert completed, "no scheduled run completed on the worker"
    api.post(f"/deployments/{deployment}/pause_deployment", {})


def test_a_redis_restart_is_ridden_out(data, etl, api):
    data.run("systemctl restart redis-server.service")
    deployment = _deploy(etl, "basic.py:etl", "ha-etl")
    [run] = _runs(api, deployment, 1)
    assert _wait(api, [run]) == ["COMPLETED"]
    _task_runs(api, run, expected=3, timeout=120)


def test_a_converge_that_restarts_every_api_server_loses_no_request(etl, api, auth, lb_url, secrets):
    pids = {name: _host(name).run("systemctl show -p MainPID --value prefect-server").stdout.strip()
            for name in APIS}
    probe = Availability(etl, lb_url, auth)
    changed = converge("all", prefect_log_level="WARNING")
    assert changed.returncode == 0, changed.stdout[-4000:]
    result = probe.result("a converge restarting both API servers (one at a time)")
    assert result["failed"] == 0, result
    for what, secret in secrets.items():
        assert secret not in changed.stdout, f"{what} in the converge output"
    for name in APIS:
        assert _host(name).run("systemctl show -p MainPID --value prefect-server").stdout.strip() != pids[name]
    # One at a time: the second stopped only after the first was ready again.
    # (Containers share the machine's monotonic clock.)
    first_ready = _monotonic(_host(APIS[0]), "ActiveEnterTimestampMonotonic")
    second_stopped = _monotonic(_host(APIS[1]), "InactiveEnterTimestampMonotonic")
    assert first_ready < second_stopped


def _monotonic(host, prop: str) -> int:
    return int(host.run(f"systemctl show -p {prop} --value prefect-server").stdout.strip())


# --- and away -------------------------------------------------------------------------


def test_absent_removes_each_part_from_its_host(data):
    removed = converge("all", prefect_state="absent", prefect_purge=True)
    assert removed.returncode == 0, removed.stdout[-4000:]
    for name in [DATA, *APIS, WORKERS]:
        host = _host(name)
        for path in ("/etc/prefect", "/opt/prefect", "/var/lib/prefect", "/etc/systemd/system/prefect-server.service",
                     "/etc/systemd/system/prefect-services.service", "/etc/systemd/system/prefect-worker@.service"):
            assert not host.file(path).exists, (name, path)
        assert not host.user("prefect").exists and not host.user("prefect-worker").exists
    for dropin in ("redis-server.service.d", "haproxy.service.d", "postgresql@.service.d"):
        assert not data.file(f"/etc/systemd/system/{dropin}").exists, dropin
    assert not data.file("/etc/postgresql/15/main/conf.d/prefect-preset.conf").exists
    assert "prefect preset" not in data.file("/etc/postgresql/15/main/pg_hba.conf").content_string
    # Debian's own Redis and HAProxy again: Redis on loopback without a password, no Prefect data.
    assert data.run("redis-cli -h 127.0.0.1 DBSIZE").stdout.strip() == "0"
    databases = data.run("runuser -u postgres -- psql -tA -c 'SELECT datname FROM pg_database'").stdout.split()
    assert "prefect" not in databases
