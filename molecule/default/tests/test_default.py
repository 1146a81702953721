"""What a converged host must look like: services up, API answering, the
work pool there and served by the worker, files owned and moded right, the
server's secrets apart from the workers, the sandbox in place, and
config.toml the file Prefect really reads.

prefect-bookworm: exposed on 0.0.0.0 with auth (and so CSRF protection),
no ca_bundle. prefect-trixie: loopback, no auth, ca_bundle given."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from prefect_api import Api, journal
from release import DEFAULT_VERSION

AUTH_HOSTS = {"prefect-bookworm"}
SECRET = "admin:molecule-secret"
WORKER = "prefect-worker@default-1.service"


def _exposed(host) -> bool:
    return host.backend.get_hostname() in AUTH_HOSTS


@pytest.fixture
def api(host) -> Api:
    return Api(host, auth=SECRET if _exposed(host) else None)


@pytest.mark.parametrize("unit", ["prefect-server.service", WORKER])
def test_units_are_enabled_and_running(host, unit):
    service = host.service(unit)
    assert service.is_enabled, journal(host, unit)
    assert service.is_running, journal(host, unit)


def test_api_health_answers(host):
    assert host.run("curl -fsS http://127.0.0.1:4200/api/health").stdout.strip() == "true"


def test_server_listens_where_configured(host):
    if _exposed(host):
        assert host.socket("tcp://0.0.0.0:4200").is_listening
    else:
        assert host.socket("tcp://127.0.0.1:4200").is_listening
        assert not host.socket("tcp://0.0.0.0:4200").is_listening


def test_ui_is_served_and_finds_its_api_relative_to_the_page(host):
    page = host.run("curl -fsS http://127.0.0.1:4200/")
    assert page.rc == 0 and "<html" in page.stdout.lower()
    settings = json.loads(host.run("curl -fsS http://127.0.0.1:4200/ui-settings").stdout)
    assert settings["api_url"] == "/api"
    assert settings["auth"] == ("BASIC" if _exposed(host) else None) or not _exposed(host)


def test_work_pool_has_the_process_template_without_output_pipes(api):
    pool = api.get("/work_pools/default")
    assert pool["type"] == "process"
    template = pool["base_job_template"]
    assert "command" in template["job_configuration"]
    # The worker must not hold its flows' output pipes: a drained worker dies first.
    assert template["variables"]["properties"]["stream_output"]["default"] is False


def test_worker_has_polled_the_server(host, api):
    name = f"{host.backend.get_hostname()}-default-1"
    deadline = time.monotonic() + 60
    while True:
        workers = api.post("/work_pools/default/workers/filter", {})
        pool = api.get("/work_pools/default")
        if any(w["name"] == name and w["status"] == "ONLINE" for w in workers) and pool["status"] == "READY":
            break
        assert time.monotonic() < deadline, (workers, pool, journal(host, WORKER))
        time.sleep(2)


def test_zombie_detection_automation_exists(api):
    [automation] = api.post(
        "/automations/filter",
        {"automations": {"name": {"any_": ["prefect-preset: mark runs without heartbeats Crashed"]}}},
    )
    assert automation["enabled"] is True
    assert automation["trigger"]["posture"] == "Proactive"
    assert automation["trigger"]["within"] == 90
    assert automation["actions"][0]["state"] == "CRASHED"


def test_auth_is_enforced_exactly_where_configured(host, api):
    # /api/health is left open by Prefect; a protected endpoint answers 401.
    expected = "401" if _exposed(host) else "200"
    assert api.status("/work_pools/default", auth=None) == expected
    assert api.status("/work_pools/default") == "200"
    if _exposed(host):
        assert api.status("/work_pools/default", auth="admin:wrong") == "401"


def test_csrf_protection_is_on_only_when_exposed(host):
    creds = f"-u {SECRET}" if _exposed(host) else ""
    status = host.run(
        f"curl -s -o /dev/null -w '%{{http_code}}' {creds} -X POST "
        "-H 'content-type: application/json' -d '{}' http://127.0.0.1:4200/api/work_pools/filter"
    ).stdout
    assert status == ("403" if _exposed(host) else "200")


def test_secrets_are_only_in_the_root_only_env_files(host):
    for path in ["/etc/prefect/server.env", "/etc/prefect/client.env"]:
        env = host.file(path)
        assert (env.user, env.group, env.mode) == ("root", "root", 0o600)
    if not _exposed(host):
        for path in ["/etc/prefect/server.env", "/etc/prefect/client.env"]:
            settings = [line for line in host.file(path).content_string.splitlines() if line and not line.startswith("#")]
            assert settings == [], path
        return
    server = host.file("/etc/prefect/server.env").content_string
    client = host.file("/etc/prefect/client.env").content_string
    assert 'PREFECT_SERVER_API_AUTH_STRING="admin:molecule-secret"' in server
    assert 'PREFECT_API_AUTH_STRING="admin:molecule-secret"' in client
    assert "PREFECT_SERVER_" not in client
    found = host.run("grep -rl molecule-secret /etc /opt/prefect /var/lib /usr/local/bin 2>/dev/null").stdout.split()
    assert sorted(found) == ["/etc/prefect/client.env", "/etc/prefect/server.env"]


def test_the_worker_user_cannot_read_the_servers_secrets_or_data(host):
    for path in ["/etc/prefect/server.env", "/etc/prefect/client.env", "/var/lib/prefect/prefect.db"]:
        denied = host.run(f"runuser -u prefect-worker -- cat {path}")
        assert denied.rc != 0, path


@pytest.mark.parametrize(
    ("path", "user", "group", "mode"),
    [
        ("/etc/prefect", "root", "root", 0o755),
        ("/etc/prefect/config.toml", "root", "root", 0o644),
        ("/etc/prefect/secrets", "root", "root", 0o700),
        ("/etc/prefect/workers/default-1.env", "root", "root", 0o644),
        ("/var/lib/prefect", "prefect", "prefect", 0o700),
        ("/var/lib/prefect-worker", "prefect-worker", "prefect-worker", 0o700),
        ("/opt/prefect", "root", "root", 0o755),
        (f"/opt/prefect/venvs/{DEFAULT_VERSION}/bin/prefect", "root", "root", 0o755),
        ("/opt/prefect/bin/prefect-worker-drain", "root", "root", 0o755),
        ("/usr/local/bin/prefect", "root", "root", 0o755),
        ("/etc/systemd/system/prefect-server.service", "root", "root", 0o644),
        ("/etc/systemd/system/prefect-worker@.service", "root", "root", 0o644),
    ],
)
def test_file_owners_and_modes(host, path, user, group, mode):
    f = host.file(path)
    assert f.exists
    assert (f.user, f.group, f.mode) == (user, group, mode)


def test_active_virtualenv_is_the_versioned_one(host):
    venv = host.file("/opt/prefect/venv")
    assert venv.is_symlink and venv.linked_to == f"/opt/prefect/venvs/{DEFAULT_VERSION}"


@pytest.mark.parametrize(("name", "home"), [("prefect", "/var/lib/prefect"), ("prefect-worker", "/var/lib/prefect-worker")])
def test_service_users_cannot_log_in(host, name, home):
    user = host.user(name)
    assert user.shell in ("/usr/sbin/nologin", "/sbin/nologin")
    assert user.home == home


def test_sqlite_database_is_in_the_servers_data_directory(host):
    db = host.file("/var/lib/prefect/prefect.db")
    assert db.exists and db.user == "prefect"


@pytest.mark.parametrize(("unit", "user"), [("prefect-server.service", "prefect"), (WORKER, "prefect-worker")])
def test_units_are_sandboxed(host, unit, user):
    props = host.service(unit).systemd_properties
    assert props["User"] == user
    assert props["NoNewPrivileges"] == "yes"
    assert props["ProtectSystem"] == "strict"
    assert props["ProtectHome"] == "yes"
    assert props["PrivateTmp"] == "yes"
    assert props["PrivateDevices"] == "yes"
    assert props["ProtectProc"] == "invisible"
    assert set(props["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    # testinfra drops empty properties: ask systemd directly.
    caps = host.run(f"systemctl show {unit} --property CapabilityBoundingSet --value")
    assert caps.rc == 0 and caps.stdout.strip() == ""
    assert props["StartLimitBurst"] == "5"
    home = "/var/lib/prefect" if user == "prefect" else "/var/lib/prefect-worker"
    assert props["ReadWritePaths"] == home


def test_units_read_only_their_own_env_file(host):
    server = host.run("systemctl show prefect-server.service --property EnvironmentFiles --value").stdout
    worker = host.run(f"systemctl show {WORKER} --property EnvironmentFiles --value").stdout
    assert "/etc/prefect/server.env" in server and "client.env" not in server
    assert "/etc/prefect/client.env" in worker and "server.env" not in worker


def test_worker_stop_drains_instead_of_killing(host):
    props = host.service(WORKER).systemd_properties
    assert "prefect-worker-drain" in props["ExecStop"]
    assert "--timeout 1800" in props["ExecStop"]
    assert props["TimeoutStopUSec"] == "32min"


@pytest.mark.parametrize("unit", ["prefect-server.service", WORKER])
def test_exposure_score(host, unit):
    out = host.run(f"systemd-analyze security --no-pager {unit}")
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out.stdout)
    assert match, out.stdout[-2000:]
    score = float(match.group(1))
    assert score <= 1.5, out.stdout[-2000:]


def test_config_toml_is_read_by_both_service_users(host):
    for user in ("prefect", "prefect-worker"):
        out = host.run(f"runuser -u {user} -- env PREFECT_PROFILES_PATH=/etc/prefect/config.toml PREFECT_HOME=/tmp/h-{user} /opt/prefect/venv/bin/prefect config view --show-sources")
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


def test_admin_cli_reaches_the_server_with_no_flags(host):
    out = host.run("bash -lc 'prefect work-pool ls'")
    assert out.rc == 0, out.stderr
    assert "default" in out.stdout


def test_pinned_version_and_dependency_lock(host):
    out = host.run("/opt/prefect/venv/bin/python -m pip freeze --all")
    assert out.rc == 0, out.stderr
    installed = {line.split("==")[0].lower(): line.split("==")[1] for line in out.stdout.split() if "==" in line}
    assert installed["prefect"] == DEFAULT_VERSION
    assert installed["fastapi"] == "0.150.0"


def test_bytecode_is_compiled_at_install(host):
    # The services cannot write to the virtualenv: without this every flow run compiles Prefect again.
    out = host.run(f"find /opt/prefect/venvs/{DEFAULT_VERSION}/lib -path '*/site-packages/prefect/__pycache__/flows.*.pyc'")
    assert out.stdout.strip(), "no compiled bytecode in the virtualenv"


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


@pytest.mark.parametrize("flow", SMOKE_FLOWS)
def test_latest_smoke_run_completed_on_the_provisioned_worker(host, api, flow):
    deployment = api.get(f"/deployments/name/{flow}/smoke")
    runs = api.post(
        "/flow_runs/filter",
        {"flow_runs": {"deployment_id": {"any_": [deployment["id"]]}}, "sort": "EXPECTED_START_TIME_DESC", "limit": 1},
    )
    assert runs, f"no smoke run of {flow}"
    worker = f"{host.backend.get_hostname()}-default-"
    for run in runs:
        assert run["state_type"] == "COMPLETED", run["state"]
        assert run["work_pool_name"] == "default"
        assert run["infrastructure_pid"], "not started by a worker"
        messages = [log["message"] for log in api.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run["id"]]}}})]
        assert any(m.startswith(f"Worker '{worker}") and run["id"] in m for m in messages), messages


def test_smoke_deployments_are_not_duplicated(api):
    deployments = api.post("/deployments/filter", {"deployments": {"name": {"any_": ["smoke"]}}})
    assert sorted(d["name"] for d in deployments) == ["smoke"] * len(SMOKE_FLOWS)


def test_cron_deployment_has_its_schedule_and_is_paused(api):
    deployment = api.get("/deployments/name/nightly-report/nightly")
    assert [s["schedule"]["cron"] for s in deployment["schedules"]] == ["0 3 * * *"]
    assert deployment["paused"] is True


def test_the_scheduler_plans_runs_of_a_scheduled_deployment(api):
    # The background services' scheduler: an active hourly schedule gets its
    # runs planned within seconds (SQLAlchemy 2.1 once broke exactly this).
    flow_id = api.post("/flows/", {"name": "scheduler-check"})["id"]
    deployment = api.post("/deployments/", {
        "name": "hourly", "flow_id": flow_id, "work_pool_name": "default",
        "schedules": [{"schedule": {"interval": 3600}, "active": True}],
    })["id"]
    try:
        deadline = time.monotonic() + 60
        while True:
            runs = api.post("/flow_runs/filter", {"deployments": {"id": {"any_": [deployment]}}})
            if runs:
                break
            assert time.monotonic() < deadline, "no run was scheduled within 60 s"
            time.sleep(2)
        assert all(run["state_type"] == "SCHEDULED" for run in runs)
    finally:
        api.delete(f"/deployments/{deployment}")
