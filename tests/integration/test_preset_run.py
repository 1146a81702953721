"""`preset run` end to end against a host with no systemd (a plain
container, like a CI box or an image build): the tool translates and
validates, Ansible installs and configures Prefect, says that no service
was started, a second run changes nothing, and state=absent removes it all.

Slow tier (a real install from the package index): run by scripts/test after
the molecule scenarios; needs podman and the project's Debian image."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/prefect-preset-debian:bookworm"
CA_BUNDLE = "/usr/local/share/ca-certificates/host-bundle.pem"

def _podman(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def container() -> Iterator[str]:
    if shutil.which("podman") is None:
        pytest.fail("podman is missing: run scripts/setup --test")
    if _podman("image", "exists", IMAGE).returncode != 0:
        pytest.fail(f"{IMAGE} missing: run molecule/images/build")
    name = f"preset-nosystemd-{uuid.uuid4().hex[:8]}"
    started = _podman("run", "-d", "--name", name, IMAGE, "sleep", "infinity")
    assert started.returncode == 0, started.stderr
    try:
        yield name
    finally:
        _podman("rm", "-f", "-t", "0", name)


@pytest.fixture(scope="module")
def inventory(container: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inv") / "hosts.ini"
    path.write_text(
        f"{container} ansible_connection=containers.podman.podman "
        "ansible_python_interpreter=/usr/bin/python3\n"
    )
    return path


def _preset(*args: str) -> subprocess.CompletedProcess[str]:
    preset = shutil.which("preset") or str(Path(sys.executable).parent / "preset")
    return subprocess.run(
        [preset, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )


def _recap(output: str) -> dict[str, int]:
    match = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output)
    assert match, output[-3000:]
    return dict(zip(["ok", "changed", "unreachable", "failed"], map(int, match.groups()), strict=True))


def _playbook(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def test_install_without_systemd_then_remove(
    container: str, inventory: Path, tmp_path: Path
) -> None:
    site = _playbook(
        tmp_path, "site.yml", f"- preset: prefect\n  with:\n    ca_bundle: {CA_BUNDLE}\n"
    )

    first = _preset("run", str(site), "-i", str(inventory))
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr
    assert "has no running systemd" in first.stdout
    assert _recap(first.stdout)["changed"] > 0

    # Installed and configured: the wrapper reads config.toml.
    view = _podman("exec", container, "prefect", "config", "view", "--show-sources")
    assert view.returncode == 0, view.stderr
    assert "PREFECT_API_URL='http://127.0.0.1:4200/api' (from profile)" in view.stdout
    assert (
        _podman(
            "exec", container, "test", "-f", "/etc/systemd/system/prefect-server.service"
        ).returncode
        == 0
    )

    second = _preset("run", str(site), "-i", str(inventory))
    assert second.returncode == 0, second.stdout[-4000:]
    assert _recap(second.stdout)["changed"] == 0

    remove = _playbook(
        tmp_path, "remove.yml", "- preset: prefect\n  with:\n    state: absent\n    purge: true\n"
    )
    removed = _preset("run", str(remove), "-i", str(inventory))
    assert removed.returncode == 0, removed.stdout[-4000:]
    for path in [
        "/opt/prefect",
        "/etc/prefect",
        "/var/lib/prefect",
        "/usr/local/bin/prefect",
        "/etc/systemd/system/prefect-server.service",
        "/etc/profile.d/prefect.sh",
    ]:
        assert _podman("exec", container, "test", "-e", path).returncode == 1, path
    assert _podman("exec", container, "id", "prefect").returncode != 0

    again = _preset("run", str(remove), "-i", str(inventory))
    assert again.returncode == 0 and _recap(again.stdout)["changed"] == 0, again.stdout[-3000:]


def test_bad_parameter_stops_before_ansible_touches_the_host(
    container: str, inventory: Path, tmp_path: Path
) -> None:
    bad = _playbook(tmp_path, "bad.yml", "- preset: prefect\n  with:\n    server_port: 70000\n")
    result = _preset("run", str(bad), "-i", str(inventory))
    assert result.returncode == 2
    assert "server_port: expected int from 1 to 65535, got 70000" in result.stderr
    assert "PLAY" not in result.stdout
