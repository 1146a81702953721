"""After state=absent nothing of Prefect is left: no unit, process, port,
file or user; the data directories stay unless purge was asked for."""

from __future__ import annotations

import pytest

GONE = [
    "/etc/systemd/system/prefect-server.service",
    "/etc/systemd/system/prefect-worker@.service",
    "/etc/systemd/system/multi-user.target.wants/prefect-server.service",
    "/etc/systemd/system/multi-user.target.wants/prefect-worker@default-1.service",
    "/etc/systemd/system/multi-user.target.wants/prefect-worker@alpha-1.service",
    "/etc/systemd/system/multi-user.target.wants/prefect-worker@beta-1.service",
    "/opt/prefect",
    "/etc/prefect",
    "/usr/local/bin/prefect",
    "/etc/profile.d/prefect.sh",
    "/root/.prefect",
    "/root/.cache/uv",
    "/root/.cache/pip",
]


@pytest.mark.parametrize("path", GONE)
def test_path_is_gone(host, path):
    assert not host.file(path).exists


def test_no_unit_is_known_to_systemd(host):
    out = host.run("systemctl list-units --all --plain --no-legend 'prefect*'")
    assert out.stdout.strip() == ""


def test_no_prefect_process_runs(host):
    assert host.run("pgrep -f 'prefect (server|worker)'").rc == 1


def test_port_is_closed(host):
    assert not host.socket("tcp://127.0.0.1:4200").is_listening


@pytest.mark.parametrize("name", ["prefect", "prefect-worker"])
def test_users_and_groups_are_gone(host, name):
    assert not host.user(name).exists
    assert not host.group(name).exists


def test_data_directories_kept_unless_purged(host):
    name = host.backend.get_hostname()
    data = host.file("/var/lib/prefect")
    results = host.file("/var/lib/prefect-worker")
    if name == "uninstall-keep":
        assert data.is_directory and results.is_directory
        assert host.file("/var/lib/prefect/prefect.db").exists
    else:
        assert not data.exists and not results.exists


def test_purge_drops_the_database_the_preset_made_and_leaves_postgresql(host):
    if host.backend.get_hostname() != "uninstall-purge":
        assert not host.package("postgresql").is_installed
        return
    assert host.service("postgresql@15-main.service").is_running
    databases = host.run("runuser -u postgres -- psql -tA -c 'SELECT datname FROM pg_database'").stdout.split()
    roles = host.run("runuser -u postgres -- psql -tA -c 'SELECT rolname FROM pg_roles'").stdout.split()
    assert "prefect" not in databases and "prefect" not in roles
    assert not host.file("/etc/systemd/system/postgresql@.service.d/prefect-preset.conf").exists
