"""What a converged host must look like: services up, API answering, the
work pool there and served by the worker, files owned and moded right, the
sandbox in place, and config.toml the file Prefect really reads."""

from __future__ import annotations

import json
import time

import pytest

API = "http://127.0.0.1:4200/api"
AUTH_HOSTS = {"prefect-bookworm"}
SECRET = "admin:molecule-secret"


def _auth(host) -> str:
    return f"-u {SECRET}" if host.backend.get_hostname() in AUTH_HOSTS else ""


def _api(host, path: str, method: str = "GET", body: str | None = None):
    data = f"-H 'content-type: application/json' -d '{body}'" if body else ""
    cmd = host.run(f"curl -fsS -X {method} {_auth(host)} {data} {API}{path}")
    assert cmd.rc == 0, f"{method} {path}: {cmd.stderr}"
    return json.loads(cmd.stdout)


def _journal(host, unit: str) -> str:
    return host.run(f"journalctl -u {unit} --no-pager -n 40").stdout


@pytest.mark.parametrize("unit", ["prefect-server.service", "prefect-worker@default.service"])
def test_units_are_enabled_and_running(host, unit):
    service = host.service(unit)
    assert service.is_enabled, _journal(host, unit)
    assert service.is_running, _journal(host, unit)


def test_api_health_answers(host):
    assert host.run(f"curl -fsS {API}/health").stdout.strip() == "true"


def test_server_listens_on_loopback_only(host):
    assert host.socket("tcp://127.0.0.1:4200").is_listening
    assert not host.socket("tcp://0.0.0.0:4200").is_listening


def test_ui_is_served(host):
    page = host.run("curl -fsS http://127.0.0.1:4200/")
    assert page.rc == 0 and "<html" in page.stdout.lower()


def test_work_pool_exists_with_process_template(host):
    pool = _api(host, "/work_pools/default")
    assert pool["type"] == "process"
    # The default process job template, not the raw API's empty one.
    assert "command" in pool["base_job_template"]["job_configuration"]


def test_worker_has_polled_the_server(host):
    name = f"{host.backend.get_hostname()}-default"
    deadline = time.monotonic() + 60
    while True:
        workers = _api(host, "/work_pools/default/workers/filter", "POST", "{}")
        pool = _api(host, "/work_pools/default")
        if any(w["name"] == name for w in workers) and pool["status"] == "READY":
            break
        assert time.monotonic() < deadline, (
            workers,
            pool,
            _journal(host, "prefect-worker@default"),
        )
        time.sleep(2)


def test_auth_is_enforced_exactly_where_configured(host):
    anonymous = host.run(f"curl -s -o /dev/null -w '%{{http_code}}' {API}/work_pools/default")
    expected = "401" if host.backend.get_hostname() in AUTH_HOSTS else "200"
    assert anonymous.stdout == expected


def test_secret_is_only_in_the_private_env_file(host):
    env = host.file("/etc/prefect/prefect.env")
    lines = env.content_string.splitlines()
    settings = [line for line in lines if line and not line.startswith("#")]
    if host.backend.get_hostname() not in AUTH_HOSTS:
        # No secret_settings given: the file holds no settings at all.
        assert settings == []
        return
    assert env.contains("molecule-secret")
    for path in [
        "/etc/prefect/config.toml",
        "/etc/systemd/system/prefect-server.service",
        "/etc/systemd/system/prefect-worker@.service",
    ]:
        assert not host.file(path).contains("molecule-secret"), path


@pytest.mark.parametrize(
    ("path", "user", "group", "mode"),
    [
        ("/etc/prefect", "root", "prefect", 0o755),
        ("/etc/prefect/config.toml", "root", "prefect", 0o644),
        ("/etc/prefect/prefect.env", "root", "prefect", 0o640),
        ("/var/lib/prefect", "prefect", "prefect", 0o750),
        ("/opt/prefect", "root", "root", 0o755),
        ("/opt/prefect/venv/bin/prefect", "root", "root", 0o755),
        ("/usr/local/bin/prefect", "root", "root", 0o755),
        ("/etc/systemd/system/prefect-server.service", "root", "root", 0o644),
        ("/etc/systemd/system/prefect-worker@.service", "root", "root", 0o644),
    ],
)
def test_file_owners_and_modes(host, path, user, group, mode):
    f = host.file(path)
    assert f.exists
    assert (f.user, f.group, f.mode) == (user, group, mode)


def test_service_user_cannot_log_in(host):
    user = host.user("prefect")
    assert user.shell in ("/usr/sbin/nologin", "/sbin/nologin")
    assert user.home == "/var/lib/prefect"


def test_sqlite_database_is_in_the_data_directory(host):
    db = host.file("/var/lib/prefect/prefect.db")
    assert db.exists and db.user == "prefect"


@pytest.mark.parametrize("unit", ["prefect-server.service", "prefect-worker@default.service"])
def test_units_are_sandboxed(host, unit):
    props = host.service(unit).systemd_properties
    assert props["User"] == "prefect"
    assert props["NoNewPrivileges"] == "yes"
    assert props["ProtectSystem"] == "strict"
    assert props["ProtectHome"] == "yes"
    assert props["PrivateTmp"] == "yes"
    assert props["PrivateDevices"] == "yes"
    assert set(props["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    # testinfra drops empty properties: ask systemd directly.
    caps = host.run(f"systemctl show {unit} --property CapabilityBoundingSet --value")
    assert caps.rc == 0 and caps.stdout.strip() == ""
    assert props["StartLimitBurst"] == "5"
    assert props["Restart"] == "on-failure"
    assert "/var/lib/prefect" in props["ReadWritePaths"]


def test_config_toml_is_read_by_the_service_user(host):
    out = host.run("runuser -u prefect -- /usr/local/bin/prefect config view --show-sources")
    assert out.rc == 0, out.stderr
    assert "PREFECT_API_URL='http://127.0.0.1:4200/api' (from profile)" in out.stdout
    assert "PREFECT_SERVER_ANALYTICS_ENABLED='False' (from profile)" in out.stdout


def test_services_read_config_toml(host):
    env = host.service("prefect-server.service").systemd_properties["Environment"]
    assert "PREFECT_PROFILES_PATH=/etc/prefect/config.toml" in env


def test_admin_login_shell_reads_config_toml(host):
    out = host.run("bash -lc 'prefect config view --show-sources'")
    assert out.rc == 0, out.stderr
    assert "PREFECT_API_URL='http://127.0.0.1:4200/api' (from profile)" in out.stdout


def test_admin_flow_script_talks_to_the_server(host):
    script = "from prefect.settings import PREFECT_API_URL; print(PREFECT_API_URL.value())"
    out = host.run(f"bash -lc '/opt/prefect/venv/bin/python -c \"{script}\"'")
    assert out.rc == 0, out.stderr
    assert out.stdout.strip() == "http://127.0.0.1:4200/api"


def test_admin_cli_reaches_the_server(host):
    out = host.run("bash -lc 'prefect work-pool ls'")
    assert out.rc == 0, out.stderr
    assert "default" in out.stdout


def test_pinned_version_and_dependency_lock(host):
    out = host.run("/opt/prefect/venv/bin/python -m pip freeze --all")
    assert out.rc == 0, out.stderr
    installed = {
        line.split("==")[0].lower(): line.split("==")[1]
        for line in out.stdout.split()
        if "==" in line
    }
    assert installed["prefect"] == "3.8.8"
    assert installed["fastapi"] == "0.150.0"


SMOKE_FLOWS = [
    "hello",
    "etl",
    "sequential-vs-concurrent",
    "shopping",
    "retrying",
    "cached",
    "sentence-stats",
    "gather-sources",
    "make-report",
]


def _latest_run_of(host, flow: str) -> list[dict]:
    deployment = _api(host, f"/deployments/name/{flow}/smoke")
    body = json.dumps(
        {
            "flow_runs": {"deployment_id": {"any_": [deployment["id"]]}},
            "sort": "EXPECTED_START_TIME_DESC",
            "limit": 1,
        }
    )
    return _api(host, "/flow_runs/filter", "POST", body)


@pytest.mark.parametrize("flow", SMOKE_FLOWS)
def test_latest_smoke_run_completed_on_the_provisioned_worker(host, flow):
    runs = _latest_run_of(host, flow)
    assert runs, f"no smoke run of {flow}"
    worker = f"{host.backend.get_hostname()}-default"
    for run in runs:
        assert run["state_type"] == "COMPLETED", run["state"]
        assert run["work_pool_name"] == "default"
        assert run["infrastructure_pid"], "not started by a worker"
        body = json.dumps({"logs": {"flow_run_id": {"any_": [run["id"]]}}})
        messages = [log["message"] for log in _api(host, "/logs/filter", "POST", body)]
        assert f"Worker '{worker}' submitting flow run '{run['id']}'" in messages


def test_smoke_deployments_are_not_duplicated(host):
    body = json.dumps({"deployments": {"name": {"any_": ["smoke"]}}})
    deployments = _api(host, "/deployments/filter", "POST", body)
    assert sorted(d["name"] for d in deployments) == ["smoke"] * len(SMOKE_FLOWS)


def test_cron_deployment_has_its_schedule_and_is_paused(host):
    deployment = _api(host, "/deployments/name/nightly-report/nightly")
    assert [s["schedule"]["cron"] for s in deployment["schedules"]] == ["0 3 * * *"]
    assert deployment["paused"] is True
