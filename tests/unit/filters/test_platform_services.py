"""plugins/filter/launchd_jobs.py and windows_services.py: the services of a macOS and a
Windows host as plain data, from the worker instances (worker_instances)."""

from __future__ import annotations

from typing import Any

import pytest

from module_harness import load_plugin

instances_of = load_plugin("plugins/filter/worker_instances.py", "prefect_filter_worker_instances").worker_instances
launchd_jobs = load_plugin("plugins/filter/launchd_jobs.py", "prefect_filter_launchd_jobs").launchd_jobs
windows_services = load_plugin("plugins/filter/windows_services.py", "prefect_filter_windows_services").windows_services

FLAGS = ["--type", "process", "--install-policy", "never", "--no-create-pool-if-not-found"]
POOLS = [{"name": "default"}, {"name": "etl", "instances": 2, "work_queues": ["high"]}]

MAC = {
    "unit_dir": "/Library/LaunchDaemons", "logs": "/var/log/prefect", "data": "/var/lib/prefect",
    "worker_data": "/var/lib/prefect-worker", "config_file": "/etc/prefect/config.toml",
    "server_env_file": "/etc/prefect/server.env", "client_env_file": "/etc/prefect/client.env",
    "worker_env_dir": "/etc/prefect/workers", "server_label": "io.prefect.server",
    "worker_label_prefix": "io.prefect.worker.", "server_bin": "/opt/prefect/venvs/3.9.1/bin/prefect",
    "server_host": "127.0.0.1", "server_port": 4200,
    "users": {"server": ["prefect", "prefect"], "worker": ["prefect-worker", "prefect-worker"]},
}
WIN = {
    "sep": "\\", "logs": "C:\\ProgramData\\prefect\\logs", "data": "C:\\ProgramData\\prefect\\data",
    "worker_data": "C:\\ProgramData\\prefect\\worker-data",
    "config_file": "C:\\ProgramData\\prefect\\config\\config.toml",
    "server_env_file": "C:\\ProgramData\\prefect\\config\\server.env",
    "client_env_file": "C:\\ProgramData\\prefect\\config\\client.env",
    "worker_env_dir": "C:\\ProgramData\\prefect\\config\\workers",
    "launcher": "C:\\ProgramData\\prefect\\bin\\prefect-launch.py", "log_max_bytes": 1024, "log_backups": 3,
    "server_service": "PrefectServer", "server_account": "NT SERVICE\\PrefectServer",
    "worker_service_prefix": "PrefectWorker-", "server_bin": "C:\\ProgramData\\prefect\\venv\\Scripts\\prefect.exe",
    "server_host": "0.0.0.0", "server_port": 4300, "python": "C:\\Python312\\python.exe",
}


def _instances(venv: str = "/opt/prefect/venvs/3.9.1") -> list[dict[str, Any]]:
    return instances_of(POOLS, venv, "/etc/prefect/workers")


def _after_dashes(argv: list[str]) -> list[str]:
    return argv[argv.index("--") + 1:]


# --- macOS -------------------------------------------------------------------------------

def test_launchd_jobs_are_the_server_then_each_instance_then_the_leftovers() -> None:
    jobs = launchd_jobs(_instances(), ["old-1"], True, True, MAC, "mac1")
    assert [(j["label"], j["wanted"]) for j in jobs] == [
        ("io.prefect.server", True), ("io.prefect.worker.default-1", True),
        ("io.prefect.worker.etl-1", True), ("io.prefect.worker.etl-2", True),
        ("io.prefect.worker.old-1", False),
    ]
    assert [j["plist"] for j in jobs][-1] == "/Library/LaunchDaemons/io.prefect.worker.old-1.plist"
    assert jobs[-1] == {"name": "old-1", "label": "io.prefect.worker.old-1", "wanted": False,
                        "env_file": "/etc/prefect/workers/old-1.env",
                        "plist": "/Library/LaunchDaemons/io.prefect.worker.old-1.plist"}


def test_a_launchd_worker_runs_the_one_worker_command_line() -> None:
    etl2 = launchd_jobs(_instances(), [], True, True, MAC, "mac1")[3]
    assert etl2["command"] == [
        "/opt/prefect/venvs/3.9.1/bin/prefect", "worker", "start", "--pool", "etl", "--name", "mac1-etl-2",
        *FLAGS, "--work-queue", "high",
    ]
    assert etl2["env_files"] == ["/etc/prefect/client.env", "/etc/prefect/workers/etl-2.env"]
    assert etl2["restart_on"] == ["/etc/prefect/config.toml", "/etc/prefect/client.env", "/etc/prefect/workers/etl-2.env"]
    assert etl2["instance"]["dest"] == "/etc/prefect/workers/etl-2.env"
    assert (etl2["user"], etl2["group"], etl2["always"]) == ("prefect-worker", "prefect-worker", True)


def test_the_launchd_server_reads_only_the_servers_files() -> None:
    server = launchd_jobs([], [], True, True, MAC, "mac1")[0]
    assert server["command"] == [MAC["server_bin"], "server", "start", "--host", "127.0.0.1", "--port", "4200"]
    assert server["env_files"] == ["/etc/prefect/server.env"]
    assert "/etc/prefect/client.env" not in server["restart_on"]
    assert (server["user"], server["always"], server["home"]) == ("prefect", False, "/var/lib/prefect")


def test_user_scope_jobs_name_no_user_or_group() -> None:
    jobs = launchd_jobs(_instances(), ["old-1"], True, False, MAC, "mac1")
    assert not [j for j in jobs if "user" in j or "group" in j]


def test_a_host_without_a_server_keeps_the_server_job_unwanted() -> None:
    assert launchd_jobs([], [], False, True, MAC, "mac1")[0]["wanted"] is False


# --- Windows -----------------------------------------------------------------------------

def _windows(leftover: list[str] | None = None, server: bool = True) -> dict[str, dict[str, Any]]:
    instances = _instances("C:\\ProgramData\\prefect\\venvs\\3.9.1")
    return {s["name"]: s for s in windows_services(instances, leftover or [], server, WIN, "WIN1")}


def test_windows_services_are_the_server_then_each_instance_then_the_leftovers() -> None:
    services = windows_services(_instances(), ["old-1"], True, WIN, "WIN1")
    assert [(s["name"], s["wanted"]) for s in services] == [
        ("PrefectServer", True), ("PrefectWorker-default-1", True), ("PrefectWorker-etl-1", True),
        ("PrefectWorker-etl-2", True), ("PrefectWorker-old-1", False),
    ]
    assert services[-1] == {"name": "PrefectWorker-old-1", "kind": "worker", "wanted": False,
                            "env_file": "C:\\ProgramData\\prefect\\config\\workers\\old-1.env"}


def test_a_windows_worker_runs_the_one_worker_command_line_through_the_launcher() -> None:
    etl2 = _windows()["PrefectWorker-etl-2"]
    assert _after_dashes(etl2["arguments"]) == [
        "C:\\ProgramData\\prefect\\venvs\\3.9.1\\Scripts\\prefect.exe", "worker", "start", "--pool", "etl",
        "--name", "WIN1-etl-2", *FLAGS, "--work-queue", "high",
    ]
    head = etl2["arguments"][: etl2["arguments"].index("--")]
    assert head == [WIN["launcher"], "--env-file", WIN["client_env_file"],
                    "--env-file", "C:\\ProgramData\\prefect\\config\\workers\\etl-2.env",
                    "--log", "C:\\ProgramData\\prefect\\logs\\workers\\etl-2.log",
                    "--log-max-bytes", "1024", "--log-backups", "3"]
    assert etl2["account"] == "NT SERVICE\\PrefectWorker-etl-2"
    assert etl2["description"] == "Instance 2 of the Prefect worker of work pool etl, by the prefect preset."


def test_the_windows_server_runs_prefect_server_start_with_its_own_file() -> None:
    server = _windows()["PrefectServer"]
    assert _after_dashes(server["arguments"]) == [WIN["server_bin"], "server", "start", "--host", "0.0.0.0",
                                                  "--port", "4300"]
    assert server["arguments"][1:3] == ["--env-file", WIN["server_env_file"]]
    assert server["restart_on"] == [WIN["config_file"], WIN["server_env_file"]]


@pytest.mark.parametrize(("name", "mode"), [("PrefectServer", "auto"), ("PrefectWorker-default-1", "delayed")])
def test_wanted_windows_services_run_the_python_with_failure_restarts(name: str, mode: str) -> None:
    service = _windows()[name]
    assert service["application"] == WIN["python"]
    assert service["app_environment"] == {"PREFECT_HOME": service["home"], "PREFECT_PROFILES_PATH": WIN["config_file"]}
    assert service["start_mode"] == mode
    assert [a["delay_ms"] for a in service["failure_actions"]] == [5000, 30000, 60000]
    assert service["failure_reset_period_sec"] == 600


def test_an_unwanted_service_gets_no_service_settings() -> None:
    assert "application" not in _windows(["old-1"])["PrefectWorker-old-1"]
    assert "application" not in _windows(server=False)["PrefectServer"]


def test_each_service_has_its_own_failure_actions() -> None:
    services = _windows()
    services["PrefectServer"]["failure_actions"][0]["delay_ms"] = 1
    assert services["PrefectWorker-default-1"]["failure_actions"][0]["delay_ms"] == 5000
