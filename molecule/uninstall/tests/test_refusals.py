"""Input the preset cannot run is refused in seconds, before anything on the host changes.

Two hosts that were never installed: uninstall-never (Debian 12) and
uninstall-bullseye (Debian 11, whose Python 3.9 no tested release runs on; its
packages offer no newer one and uv's Python downloads are not reachable). Each
converge below is state=present and must fail within seconds, say what is
supported and how to fix it, and leave every file of the host as it was
(a listing of the trees the preset writes, compared before and after)."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from converge import converge
from release import DEFAULT_VERSION

PRESENT = "../common/present.yml"
# Where the preset would write: configuration, software, data, units, commands,
# users (/etc/passwd), packages (dpkg's database); each file's size and mtime.
TREES = "/etc /opt /usr/local /var/lib /var/cache/apt /root"
SNAPSHOT = (
    f"find {TREES} -xdev \\( -path /var/lib/systemd -o -path /root/.ansible -o -path /var/lib/apt/lists \\)"
    " -prune -o -printf '%p %s %T@ %m %u\\n' | sort"
)
# Preflight alone: setup, the release check, host_info, the index. Seconds, plus
# ansible-playbook's own start on a loaded machine.
SECONDS = 60


def _refused(host, name: str, **extra: object) -> str:
    before = host.run(SNAPSHOT)
    assert before.rc == 0, before.stderr
    started = time.monotonic()
    result = converge(name, PRESENT, **extra)
    took = time.monotonic() - started
    assert result.returncode != 0, result.stdout[-3000:]
    assert "changed=0" in result.stdout, result.stdout[-2000:]
    after = host.run(SNAPSHOT)
    assert after.stdout == before.stdout, _diff(before.stdout, after.stdout)
    print(f"{name} {extra}: refused in {took:.1f} s")
    assert took < SECONDS, f"refused only after {took:.0f} s"
    return " ".join(result.stdout.split())


def _diff(before: str, after: str) -> str:
    old, new = set(before.splitlines()), set(after.splitlines())
    return f"changed on the host: gone {sorted(old - new)[:20]}, new or different {sorted(new - old)[:20]}"


@pytest.fixture
def never():
    import testinfra

    return testinfra.get_host("podman://uninstall-never")


@pytest.fixture
def bullseye():
    import testinfra

    return testinfra.get_host("podman://uninstall-bullseye")


def test_prefect_2_is_refused_naming_what_is_supported(never) -> None:
    out = _refused(never, "uninstall-never", prefect_version="2.20.0")
    assert "Prefect 2.20.0 is not supported: this preset runs Prefect 3 from 3.7.4 on" in out
    assert f"tested (from a dependency lock) 3.7.8, 3.8.8, {DEFAULT_VERSION}" in out
    assert "Nothing was changed." in out


def test_a_version_the_index_does_not_have_is_refused_before_anything_is_written(never) -> None:
    out = _refused(never, "uninstall-never", prefect_version="3.99.0")
    assert "Prefect 3.99.0 is not on the package index (https://pypi.org/simple)" in out
    assert f"its newest 3.x releases are {DEFAULT_VERSION}" in out
    assert "Nothing was changed." in out


def test_a_version_without_a_patch_number_is_refused(never) -> None:
    out = _refused(never, "uninstall-never", prefect_version="3.9")
    assert "version '3.9' is not a Prefect release number: give MAJOR.MINOR.PATCH" in out
    assert "this preset runs Prefect 3 from 3.7.4 on" in out


def test_debian_11_is_refused_with_the_python_it_has_and_the_one_prefect_needs(bullseye) -> None:
    out = _refused(bullseye, "uninstall-bullseye")
    assert f"Prefect {DEFAULT_VERSION} needs Python <3.16,>=3.11" in out
    assert "/usr/bin/python3 (3.9) on uninstall-bullseye" in out
    assert "set system_python to its path" in out
    assert "Nothing was changed." in out


def test_a_system_python_that_does_not_exist_is_refused(bullseye) -> None:
    out = _refused(bullseye, "uninstall-bullseye", prefect_version="3.8.8",
                   prefect_system_python="/opt/python3.11/bin/python3")
    assert "system_python /opt/python3.11/bin/python3 does not exist or does not run on uninstall-bullseye" in out
    assert "Prefect 3.8.8 needs Python <3.15,>=3.10" in out


def test_snapshot_sees_a_change(never) -> None:
    """The comparison above can fail: a file written into /opt shows in it."""
    before = never.run(SNAPSHOT).stdout
    never.run("touch /opt/canary")
    try:
        assert never.run(SNAPSHOT).stdout != before
    finally:
        never.run(f"rm -f {shlex.quote('/opt/canary')}")
