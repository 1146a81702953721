"""`preset run` end to end against a host with no systemd (a plain
container, like a CI box or an image build): the tool translates and
validates, Ansible installs and configures Prefect, says that no service
was started, a second run changes nothing, and state=absent removes it all.

The tool under test is the installed one: $PRESET_BIN (scripts/test sets it
to the wheel installed with pipx outside the checkout), run from a temporary
directory, so that nothing comes from the checkout.

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
# A CA bundle that does not hold the TLS-inspecting proxy's CA: installs fail.
WRONG_CA = "/usr/share/ca-certificates/mozilla/ACCVRAIZ1.crt"

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


def _preset_bin() -> str:
    """The installed tool; outside CI, the one next to this interpreter."""
    return os.environ.get("PRESET_BIN") or shutil.which("preset") or str(
        Path(sys.executable).parent / "preset"
    )


def _podman_collections() -> str:
    """The test harness's own collections (containers.podman for the connection to the
    test container): the installed tool carries ansible-core only, as a user's would."""
    import ansible_collections.containers.podman as podman_collection

    return str(Path(podman_collection.__path__[0]).parents[2])


def _preset(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_preset_bin(), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={
            **os.environ,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_COLLECTIONS_PATH": _podman_collections(),
        },
    )


def _recap(output: str) -> dict[str, int]:
    match = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output)
    assert match, output[-3000:]
    return dict(zip(["ok", "changed", "unreachable", "failed"], map(int, match.groups()), strict=True))


def _playbook(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def test_installed_tool_shows_its_preset(tmp_path: Path) -> None:
    shown = _preset("show", "prefect", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("PARAMETER") and "server_port" in shown.stdout
    version = _preset("--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    _tool, preset = version.stdout.splitlines()
    if os.environ.get("PRESET_BIN"):  # the wheel, not a checkout
        assert "(wheel: " in preset and "/preset/_bundle)" in preset, preset


def test_install_without_systemd_then_remove(
    container: str, inventory: Path, tmp_path: Path
) -> None:
    # No ca_bundle: the host trusts the proxy's CA in its system store only.
    site = _playbook(tmp_path, "site.yml", "- preset: prefect\n")

    first = _preset("run", "site.yml", "-i", str(inventory), cwd=tmp_path)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr
    assert "has no running systemd" in first.stdout
    assert _recap(first.stdout)["changed"] > 0
    # It says what it is about to do, and how each host ended.
    version = _preset("--version", cwd=tmp_path).stdout.split()[1]
    assert first.stderr.startswith(
        f"preset: running prefect {version} from site.yml on the hosts of {inventory}\n"
    ), first.stderr
    assert re.search(rf"^preset: {container}: changed \(ok=\d+ changed=\d+ failed=0 "
                     r"unreachable=0\) in \d+\.\d s$", first.stderr, re.M), first.stderr

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

    second = _preset("run", str(site), "-i", str(inventory), cwd=tmp_path)
    assert second.returncode == 0, second.stdout[-4000:]
    assert _recap(second.stdout)["changed"] == 0
    assert f"preset: {container}: ok (" in second.stderr

    remove = _playbook(
        tmp_path, "remove.yml", "- preset: prefect\n  with:\n    state: absent\n    purge: true\n"
    )
    removed = _preset("run", str(remove), "-i", str(inventory), cwd=tmp_path)
    assert removed.returncode == 0, removed.stdout[-4000:]
    for path in [
        "/opt/prefect",
        "/etc/prefect",
        "/var/lib/prefect",
        "/var/lib/prefect-worker",
        "/usr/local/bin/prefect",
        "/etc/systemd/system/prefect-server.service",
        "/etc/profile.d/prefect.sh",
    ]:
        assert _podman("exec", container, "test", "-e", path).returncode == 1, path
    assert _podman("exec", container, "id", "prefect").returncode != 0
    assert _podman("exec", container, "id", "prefect-worker").returncode != 0

    again = _preset("run", str(remove), "-i", str(inventory), cwd=tmp_path)
    assert again.returncode == 0 and _recap(again.stdout)["changed"] == 0, again.stdout[-3000:]


def test_bad_parameter_stops_before_ansible_touches_the_host(
    container: str, inventory: Path, tmp_path: Path
) -> None:
    bad = _playbook(tmp_path, "bad.yml", "- preset: prefect\n  with:\n    server_port: 70000\n")
    result = _preset("run", str(bad), "-i", str(inventory), cwd=tmp_path)
    assert result.returncode == 2
    assert "server_port: expected int from 1 to 65535, got 70000" in result.stderr
    assert "PLAY" not in result.stdout


def test_untrusted_index_certificate_gets_a_readable_message(
    container: str, inventory: Path, tmp_path: Path
) -> None:
    """A proxy whose CA the installer does not trust: the play fails naming the URL,
    the certificate error and the parameters that fix it; nothing is half-installed
    beyond the installer's own virtualenv."""
    site = _playbook(
        tmp_path, "wrong-ca.yml", f"- preset: prefect\n  with:\n    ca_bundle: {WRONG_CA}\n"
    )
    result = _preset("run", str(site), "-i", str(inventory), cwd=tmp_path)
    assert result.returncode != 0
    message = next(
        (line for line in result.stdout.splitlines() if "failed at https://" in line), ""
    )
    assert "certificate" in message.lower(), result.stdout[-3000:]
    assert "set ca_bundle" in message and "set index_url" in message, message
    assert f"trusted ca_bundle ({WRONG_CA})" in message, message
    assert "Traceback" not in message
