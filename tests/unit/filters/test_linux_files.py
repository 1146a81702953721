"""plugins/filter/linux_files.py: what a Linux host gets follows from what it runs."""

from __future__ import annotations

from typing import Any

import pytest

from module_harness import load_plugin

lf = load_plugin("plugins/filter/linux_files.py", "prefect_filter_linux_files")

UNITS = "/etc/systemd/system"
NOTHING = {
    "server": False,
    "services": False,
    "worker": False,
    "backend": False,
    "runs_prefect": False,
    "redis": False,
    "lb": False,
    "backup": False,
    "backup_program": False,
}
SINGLE = NOTHING | {
    "server": True,
    "services": True,
    "worker": True,
    "backend": True,
    "runs_prefect": True,
    "backup_program": True,
}
INSTANCE = {
    "dest": "/etc/prefect/workers/default-1.env",
    "src": "prefect-worker.env.j2",
    "mode": "0644",
    "unit": "prefect-worker@default-1.service",
}


def host(roles: dict[str, bool], **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "roles": roles,
        "users": {"server": ["prefect", "prefect"], "worker": ["prefect-flows", "prefect-flows"]},
        "dirs": {
            "config": "/etc/prefect",
            "secrets": "/etc/prefect/secrets",
            "install": "/opt/prefect",
            "venvs": "/opt/prefect/venvs",
            "bin": "/opt/prefect/bin",
            "flows": "/opt/prefect/flows",
            "data": "/var/lib/prefect",
            "worker_env": "/etc/prefect/workers",
            "pools": "/opt/prefect/pools",
            "worker_data": "/var/lib/prefect-worker",
            "haproxy": "/etc/prefect/haproxy",
        },
        "paths": {
            "config_file": "/etc/prefect/config.toml",
            "wrapper": "/usr/local/bin/prefect",
            "profile_script": "/etc/profile.d/prefect.sh",
            "client_env_file": "/etc/prefect/client.env",
            "server_env_file": "/etc/prefect/server.env",
            "unit_dir": UNITS,
            "backup_env_file": "/etc/prefect/backup.env",
            "redis_conf": "/etc/prefect/redis.conf",
            "redis_dropin": f"{UNITS}/redis-server.service.d/prefect-preset.conf",
            "haproxy_cfg": "/etc/prefect/haproxy/haproxy.cfg",
            "haproxy_dropin": f"{UNITS}/haproxy.service.d/prefect-preset.conf",
            "haproxy_pem": "/etc/prefect/haproxy/prefect.pem",
            "drain_script": "/opt/prefect/bin/prefect-worker-drain",
            "wait_ready": "/opt/prefect/bin/prefect-wait-ready",
            "backup_program": "/opt/prefect/bin/prefect-backup",
            "backup_source": "/role/../../plugins/module_utils/backup.py",
            "target_python": "/opt/prefect/venvs/3.9.1/bin/python",
            "install_dir": "/opt/prefect",
        },
        "environments": {
            "client": {"PREFECT_API_AUTH_STRING": "admin:pw"},
            "server": {"PREFECT_SERVER_API_AUTH_STRING": "admin:pw"},
        },
        "backup_command": "",
        "tls": False,
        "instances": [INSTANCE],
    }
    base.update(changes)
    return base


def plan(files_host: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every part, as the role asks for them one at a time."""
    return {part: lf.linux_files(files_host, part) for part in lf.PARTS}


def dests(files: list[dict[str, Any]]) -> list[str]:
    return [f["dest"] for f in files]


def test_a_single_host_gets_everything_prefect_needs_and_its_worker_instances() -> None:
    got = plan(host(SINGLE))
    assert dests(got["templates"]) == [
        "/etc/prefect/config.toml",
        "/usr/local/bin/prefect",
        "/etc/profile.d/prefect.sh",
        "/etc/prefect/client.env",
        "/etc/prefect/server.env",
        f"{UNITS}/prefect-server.service",
        f"{UNITS}/prefect-services.service",
        f"{UNITS}/prefect-worker@.service",
        INSTANCE["dest"],
    ]
    assert [p["src"] for p in got["programs"]] == [
        "prefect-worker-drain.py",
        "prefect-wait-ready.py",
        "/role/../../plugins/module_utils/backup.py",
    ]
    data = next(d for d in got["directories"] if d["path"] == "/var/lib/prefect")
    assert (data["owner"], data["mode"]) == ("prefect", "0700")


def test_the_env_files_are_secret_root_only_and_hold_their_own_variables() -> None:
    files = {f["dest"]: f for f in plan(host(SINGLE))["templates"]}
    for dest, variables in (
        ("/etc/prefect/client.env", {"PREFECT_API_AUTH_STRING": "admin:pw"}),
        ("/etc/prefect/server.env", {"PREFECT_SERVER_API_AUTH_STRING": "admin:pw"}),
    ):
        assert (
            files[dest]["secret"] and files[dest]["mode"] == "0600" and "group" not in files[dest]
        )
        assert files[dest]["template_vars"]["__prefect_env_vars"] == variables
    assert (
        "The server's secrets"
        in files["/etc/prefect/server.env"]["template_vars"]["__prefect_env_purpose"]
    )


def test_the_configuration_is_checked_by_prefect_before_it_is_written() -> None:
    (config,) = [f for f in plan(host(SINGLE))["templates"] if f["src"] == "config.toml.j2"]
    assert config["validate"].endswith(
        "/opt/prefect/venvs/3.9.1/bin/python -W error::UserWarning -m prefect config view"
    )
    assert "PREFECT_PROFILES_PATH=%s" in config["validate"]


def test_a_worker_host_gets_no_server_secrets_and_no_server_units() -> None:
    worker = NOTHING | {"worker": True, "runs_prefect": True}
    got = plan(host(worker))
    assert "/etc/prefect/server.env" not in dests(got["templates"])
    assert not [
        d for d in dests(got["templates"]) if "prefect-server" in d or "prefect-services" in d
    ]
    assert [p["src"] for p in got["programs"]] == ["prefect-worker-drain.py"]
    assert "/var/lib/prefect" not in [d["path"] for d in got["directories"]]


def test_a_load_balancer_host_gets_haproxy_only_and_the_certificate_when_given() -> None:
    lb = NOTHING | {"lb": True}
    got = plan(host(lb, instances=[]))
    assert dests(got["templates"]) == [
        "/etc/prefect/haproxy/haproxy.cfg",
        f"{UNITS}/haproxy.service.d/prefect-preset.conf",
    ]
    assert got["templates"][0]["validate"] == "/usr/sbin/haproxy -c -q -f %s"
    assert [d["path"] for d in got["directories"]] == [
        "/etc/prefect",
        "/etc/prefect/secrets",
        "/etc/prefect/haproxy",
        f"{UNITS}/haproxy.service.d",
    ]
    with_tls = plan(host(lb, instances=[], tls=True))["templates"]
    assert with_tls[-1] == {
        "dest": "/etc/prefect/haproxy/prefect.pem",
        "src": "haproxy.pem.j2",
        "mode": "0640",
        "group": "haproxy",
        "secret": True,
    }


def test_the_scheduled_backup_gets_its_units_and_its_command_only_when_given() -> None:
    backup = SINGLE | {"backup": True}
    plain = dests(plan(host(backup))["templates"])
    assert f"{UNITS}/prefect-backup.timer" in plain and "/etc/prefect/backup.env" not in plain
    files = {f["dest"]: f for f in plan(host(backup, backup_command="curl -fsS x"))["templates"]}
    assert files["/etc/prefect/backup.env"]["template_vars"]["__prefect_env_vars"] == {
        "PREFECT_BACKUP_POST_COMMAND": "curl -fsS x"
    }


def test_a_redis_host_gets_its_password_file_readable_by_redis() -> None:
    got = plan(host(NOTHING | {"redis": True}, instances=[]))
    conf = got["templates"][0]
    assert (conf["dest"], conf["group"], conf["mode"], conf["secret"]) == (
        "/etc/prefect/redis.conf",
        "redis",
        "0640",
        True,
    )
    assert got["directories"][-1]["path"] == f"{UNITS}/redis-server.service.d"


def test_the_filter_is_registered() -> None:
    assert lf.FilterModule().filters() == {"linux_files": lf.linux_files}


def test_one_part_needs_only_its_inputs() -> None:
    """Directories and programs are asked for before the secrets are read: they need
    neither the environments nor the worker instances."""
    layout = host(SINGLE)
    del layout["environments"], layout["instances"]
    assert lf.linux_files(layout, "directories") == plan(host(SINGLE))["directories"]
    assert lf.linux_files(layout, "programs") == plan(host(SINGLE))["programs"]
    with pytest.raises(
        ValueError, match=r"unknown part 'files' \(accepted: directories, programs, templates\)"
    ):
        lf.linux_files(layout, "files")
