"""A production server on PostgreSQL: the database the preset installed holds
Prefect's data, the password never appears where it must not, credentials and
metrics work, and converges never kill a running flow (issue: drain)."""

from __future__ import annotations

import re
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from converge import converge
from prefect_api import Api, journal

HOST = "prefect-postgresql"
WORKER = "prefect-worker@default-1.service"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.fixture(scope="module")
def auth(host) -> str:
    return host.file("/etc/prefect/secrets/auth").content_string.strip()


@pytest.fixture(scope="module")
def db_password(host) -> str:
    return host.file("/etc/prefect/secrets/postgresql-password").content_string.strip()


@pytest.fixture
def api(host, auth) -> Api:
    return Api(host, auth=auth)


def _psql(host, sql: str) -> str:
    out = host.run(f"runuser -u postgres -- psql -tA -d prefect -c {shlex.quote(sql)}")
    assert out.rc == 0, out.stderr
    return out.stdout.strip()


def _admin_python(host, code: str) -> str:
    """Python on the host with the provisioned Prefect, as root with the client credentials."""
    script = (
        "set -a; . /etc/prefect/client.env; set +a; "
        "PREFECT_PROFILES_PATH=/etc/prefect/config.toml PREFECT_HOME=/root/.prefect-test "
        f"/opt/prefect/venv/bin/python -c {shlex.quote(code)}"
    )
    out = host.run(f"bash -c {shlex.quote(script)}")
    assert out.rc == 0, out.stdout + out.stderr
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def _deploy(host, entrypoint: str, name: str, source: str = "/opt/prefect/flows") -> str:
    return _admin_python(
        host,
        "import contextlib, sys\n"
        "from prefect import flow\n"
        "with contextlib.redirect_stdout(sys.stderr):\n"
        f"    d = flow.from_source(source={source!r}, entrypoint={entrypoint!r}).deploy(\n"
        f"        name={name!r}, work_pool_name='default', build=False, push=False,\n"
        "        print_next_steps=False, ignore_warnings=True)\n"
        "print(d)",
    )


def _run(api: Api, deployment_id: str, parameters: dict | None = None) -> str:
    return api.post(f"/deployments/{deployment_id}/create_flow_run", {"parameters": parameters or {}})["id"]


def _wait(api: Api, run_id: str, states: set[str], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = api.get(f"/flow_runs/{run_id}")
        if run["state_type"] in states:
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['state_name']} after {timeout} s"
        time.sleep(1)


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _active_since(host, unit: str) -> float:
    value = host.run(f"systemctl show {unit} --property ActiveEnterTimestamp --value").stdout.strip()
    epoch = host.run(f"date -d {shlex.quote(value)} +%s").stdout.strip()
    return float(epoch)


# --- the server on PostgreSQL ------------------------------------------------------------


@pytest.mark.parametrize("unit", ["prefect-server.service", WORKER, "postgresql@15-main.service"])
def test_units_are_running(host, unit):
    assert host.service(unit).is_running, journal(host, unit)


def test_postgresql_is_new_enough_and_has_pg_trgm(host):
    assert int(_psql(host, "SHOW server_version_num")) >= 140009
    assert _psql(host, "SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'") == "pg_trgm"


def test_smoke_runs_completed_in_postgresqls_flow_run_table(host):
    completed = int(_psql(host, "SELECT count(*) FROM flow_run WHERE state_type = 'COMPLETED'"))
    assert completed >= 9


def test_server_uses_postgresql_not_sqlite(host):
    assert not host.file("/var/lib/prefect/prefect.db").exists


def test_postgresql_is_sandboxed(host):
    props = host.service("postgresql@15-main.service").systemd_properties
    assert props["ProtectSystem"] == "strict" and props["NoNewPrivileges"] == "yes"
    assert props["PrivateTmp"] == "yes" and props["ProtectHome"] == "yes"


def test_password_file_is_root_only(host):
    for path in ["/etc/prefect/secrets/postgresql-password", "/etc/prefect/secrets/auth"]:
        f = host.file(path)
        assert (f.user, f.group, f.mode) == ("root", "root", 0o600)


def test_password_is_nowhere_it_must_not_be(host, db_password):
    found = host.run(
        f"grep -rlF {shlex.quote(db_password)} /etc /opt /usr/local /var/lib/prefect /var/lib/prefect-worker "
        "/var/log /run/systemd 2>/dev/null"
    ).stdout.split()
    assert sorted(found) == ["/etc/prefect/secrets/postgresql-password", "/etc/prefect/server.env"]
    for unit_file in host.run("ls /etc/systemd/system/*.service").stdout.split():
        assert db_password not in host.file(unit_file).content_string, unit_file
    world_readable = host.run(
        f"find /etc /opt /var/lib /usr/local -type f -perm -o+r -exec grep -lF {shlex.quote(db_password)} {{}} + 2>/dev/null"
    ).stdout.split()
    assert world_readable == []
    assert db_password not in host.run("journalctl --no-pager -o cat").stdout


def test_unauthenticated_requests_are_refused(api):
    # /api/health stays open (load balancers); a protected endpoint does not.
    assert api.status("/health", auth=None) == "200"
    assert api.status("/work_pools/default", auth=None) == "401"
    assert api.status("/work_pools/default") == "200"


def test_metrics_endpoint_answers_prometheus_text(host, auth):
    out = host.run(f"curl -fsS -u {shlex.quote(auth)} http://127.0.0.1:4200/api/metrics")
    assert out.rc == 0, out.stderr
    assert re.search(r"^# TYPE \w+ (counter|gauge)", out.stdout, re.M), out.stdout[:500]


def test_retention_is_handed_to_prefects_vacuum_service(host):
    config = host.file("/etc/prefect/config.toml").content_string
    assert 'PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED = "events,flow_runs"' in config
    assert "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD = 2592000" in config


# --- flows cannot reach the server's secrets ----------------------------------------------


def test_a_flow_finds_no_server_secret_and_cannot_open_the_database(host, api, auth, db_password):
    host.run("mkdir -p /opt/probe")
    probe = (Path(__file__).resolve().parents[2] / "common" / "probe_flow.py").read_text()
    host.run(f"cat > /opt/probe/probe_flow.py <<'EOF'\n{probe}\nEOF")
    deployment = _deploy(host, "probe_flow.py:probe", "probe", source="/opt/probe")
    run_id = _run(api, deployment, {
        "secrets": [db_password],
        "forbidden_paths": ["/etc/prefect/server.env", "/etc/prefect/secrets/postgresql-password",
                            "/var/lib/postgresql/15/main/PG_VERSION", "/var/lib/prefect/.migrated"],
        "client_secret": auth,
    })
    run = _wait(api, run_id, FINAL, 120)
    assert run["state_type"] == "COMPLETED", run["state"]["message"]
    logs = api.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}})
    assert any("Worker 'prefect-postgresql-default-" in log["message"] for log in logs)


# --- a converge never kills a running flow -------------------------------------------------


@pytest.fixture(scope="module")
def slow(host) -> str:
    return _deploy(host, "slow.py:slow", "drain-test")


def test_converge_with_a_config_change_lets_the_running_flow_finish(host, api, slow, auth, db_password):
    run_id = _run(api, slow, {"seconds": 60})
    _wait(api, run_id, {"RUNNING"}, 60)
    time.sleep(10)
    changed = converge(HOST, prefect_log_level="DEBUG")
    assert changed.returncode == 0, changed.stdout[-4000:]
    for secret in (auth.split(":", 1)[1], db_password):
        assert secret not in changed.stdout
    assert "waiting up to 1800 s for 1 flow run(s) to finish" in changed.stdout, changed.stdout[-4000:]
    run = _wait(api, run_id, FINAL, 120)
    assert run["state_type"] == "COMPLETED", run["state"]
    assert _active_since(host, WORKER) >= _ts(run["end_time"]), "the worker restarted before the run ended"
    restored = converge(HOST)
    assert restored.returncode == 0, restored.stdout[-4000:]


def test_drain_timeout_cancels_the_run_with_a_message(host, api, slow):
    run_id = _run(api, slow, {"seconds": 120})
    _wait(api, run_id, {"RUNNING"}, 60)
    changed = converge(HOST, prefect_drain_timeout=15)
    assert changed.returncode == 0, changed.stdout[-4000:]
    run = _wait(api, run_id, FINAL, 60)
    assert run["state_type"] == "CANCELLED", run["state"]
    assert "drain_timeout (15 s)" in run["state"]["message"]
    assert "drain_timeout reached: cancelled 1 run(s)" in changed.stdout
    restored = converge(HOST)
    assert restored.returncode == 0, restored.stdout[-4000:]


def test_a_killed_worker_leaves_no_ghost_run(host, api, slow):
    run_id = _run(api, slow, {"seconds": 300})
    _wait(api, run_id, {"RUNNING"}, 60)
    time.sleep(5)
    killed_at = time.time()
    # As an out-of-memory kill or a power loss would: worker and flow at once.
    assert host.run(f"systemctl kill --signal=SIGKILL {WORKER}").rc == 0
    run = _wait(api, run_id, FINAL, 240)
    assert run["state_type"] == "CRASHED", run["state"]
    seconds = _ts(run["state"]["timestamp"]) - killed_at
    print(f"marked Crashed {seconds:.0f} s after the kill")
    assert "zombie detection" in run["state"]["message"]
    # The restarted worker takes new runs.
    quick = _run(api, slow, {"seconds": 2})
    assert _wait(api, quick, FINAL, 120)["state_type"] == "COMPLETED"


def test_backup_on_demand_is_a_restorable_pg_dump(host):
    done = converge(HOST, prefect_backup=True)
    assert done.returncode == 0, done.stdout[-4000:]
    dumps = host.run("ls /var/lib/prefect/backups/").stdout.split()
    assert [d for d in dumps if re.fullmatch(r"prefect-3\.8\.8-\d{8}T\d{6}Z\.dump", d)], dumps
    newest = sorted(dumps)[-1]
    listing = host.run(f"pg_restore --list /var/lib/prefect/backups/{newest}")
    assert listing.rc == 0 and "TABLE DATA public flow_run" in listing.stdout
    f = host.file(f"/var/lib/prefect/backups/{newest}")
    assert (f.user, f.mode) == ("prefect", 0o600)
