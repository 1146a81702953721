"""After state=absent nothing of Prefect is left: no unit, process, port,
file or user; the data directory stays unless purge was asked for."""

from __future__ import annotations

import pytest

GONE = [
    "/etc/systemd/system/prefect-server.service",
    "/etc/systemd/system/prefect-worker@.service",
    "/etc/systemd/system/multi-user.target.wants/prefect-server.service",
    "/etc/systemd/system/multi-user.target.wants/prefect-worker@default.service",
    "/etc/systemd/system/multi-user.target.wants/prefect-worker@alpha.service",
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


def test_user_and_group_are_gone(host):
    assert not host.user("prefect").exists
    assert not host.group("prefect").exists


def test_data_directory_kept_unless_purged(host):
    name = host.backend.get_hostname()
    data = host.file("/var/lib/prefect")
    if name == "uninstall-keep":
        assert data.is_directory
        assert host.file("/var/lib/prefect/prefect.db").exists
    else:
        assert not data.exists
