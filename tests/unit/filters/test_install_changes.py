"""plugins/filter/install_changes.py: what a Linux host lacks, from what host_info read."""

from __future__ import annotations

from typing import Any

import pytest

from module_harness import load_plugin

ic = load_plugin("plugins/filter/install_changes.py", "prefect_filter_install_changes")

PYTHON = "/opt/prefect/venvs/3.9.1/bin/python"
REQUIREMENTS = "/opt/prefect/venvs/3.9.1.txt"
UV = "/opt/prefect/uv-0.13.9/bin/uv"
VENV = "/opt/prefect/venv"
POOLS = "/opt/prefect/pools"
STAMP = "/opt/prefect/flows/.checksum"
DIRECTORIES = [
    {"path": "/etc/prefect", "owner": "root", "group": "root", "mode": "0755"},
    {"path": "/var/lib/prefect", "owner": "prefect", "group": "prefect", "mode": "0700"},
]
USERS = [
    {
        "name": "prefect",
        "group": "prefect",
        "home": "/var/lib/prefect",
        "comment": "Prefect server",
    },
    {
        "name": "prefect-flows",
        "group": "prefect-flows",
        "home": "/var/lib/prefect-worker",
        "comment": "Prefect workers and their flow runs",
    },
]
SHELL = "/usr/sbin/nologin"
PROGRAMS = [{"src": "prefect-worker-drain.py", "dest": "/opt/prefect/bin/prefect-worker-drain"}]
POOL_VENV = {
    "pool": "etl",
    "packages": ["pandas"],
    "requirements": "prefect==3.9.1\npandas\n",
    "venv": f"{POOLS}/etl-0123abcd",
}


def wanted(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "packages": ["python3", "python3-venv"],
        "users": USERS,
        "shell": SHELL,
        "directories": DIRECTORIES,
        "programs": PROGRAMS,
        "program_checksums": ["d" * 40],
        "software": {
            "python": PYTHON,
            "requirements": REQUIREMENTS,
            "checksum": "r" * 40,
            "uv": UV,
        },
        "venv_link": VENV,
        "pool_venvs": [POOL_VENV],
        "pools_dir": POOLS,
        "flows": {"stamp": STAMP, "checksum": "f" * 40},
    }
    base.update(changes)
    return base


def directory(owner: str, group: str, mode: str) -> dict[str, Any]:
    return {"exists": True, "type": "directory", "owner": owner, "group": group, "mode": mode}


def converged() -> dict[str, Any]:
    """A host that has all of wanted()."""
    return {
        "installed_version": "3.9.1",
        "packages": {"python3": True, "python3-venv": True},
        "users": {
            u["name"]: {"uid": 990 + i, "group": u["group"], "home": u["home"], "shell": SHELL}
            for i, u in enumerate(USERS)
        },
        "files": {
            "/etc/prefect": directory("root", "root", "0755"),
            "/var/lib/prefect": directory("prefect", "prefect", "0700"),
            PYTHON: {"exists": True, "type": "link"},
            REQUIREMENTS: {"exists": True, "type": "file", "checksum": "r" * 40},
            UV: {"exists": True, "type": "file"},
            VENV: {"exists": True, "type": "link", "target": "/opt/prefect/venvs/3.9.1"},
            PROGRAMS[0]["dest"]: {"exists": True, "type": "file", "checksum": "d" * 40},
        },
        "listings": {POOLS: ["etl-0123abcd", "etl-0123abcd.in", "etl-0123abcd.txt"]},
        "stamps": {STAMP: "f" * 40},
    }


def test_a_converged_host_needs_nothing() -> None:
    got = ic.install_changes(converged(), wanted())
    assert got == {
        "packages": [],
        "groups": [],
        "users": [],
        "chown": [],
        "directories": [],
        "software": False,
        "pool_venvs": [],
        "venv_link": False,
        "programs": [],
        "flows": False,
        "needed": False,
    }


def test_a_fresh_host_needs_everything() -> None:
    fresh = {
        "installed_version": "",
        "packages": {"python3": True, "python3-venv": False},
        "users": {},
        "files": {},
        "listings": {POOLS: []},
        "stamps": {STAMP: ""},
    }
    got = ic.install_changes(fresh, wanted())
    assert got["packages"] == ["python3-venv"]
    assert [u["name"] for u in got["groups"]] == ["prefect", "prefect-flows"]
    assert got["users"] == USERS
    assert got["chown"] == []  # nothing exists yet to hand over
    assert got["directories"] == DIRECTORIES
    assert got["software"] and got["venv_link"] and got["flows"]
    assert got["pool_venvs"] == [POOL_VENV]
    assert got["programs"] == PROGRAMS
    assert got["needed"]


@pytest.mark.parametrize(
    "field, value", [("group", "users"), ("home", "/home/prefect"), ("shell", "/bin/bash")]
)
def test_a_user_with_another_group_home_or_shell_is_fixed_but_its_group_not_created(
    field: str, value: str
) -> None:
    host = converged()
    host["users"]["prefect"][field] = value
    got = ic.install_changes(host, wanted())
    assert [u["name"] for u in got["users"]] == ["prefect"]
    assert got["groups"] == []
    assert got["needed"]


def test_kept_data_of_another_owner_is_handed_over_and_its_mode_fixed() -> None:
    """An uninstall kept the data; the user id was reused, or an old release let the flows' group read it."""
    host = converged()
    host["files"]["/var/lib/prefect"] = directory("olduser", "prefect-flows", "0750")
    got = ic.install_changes(host, wanted())
    assert got["chown"] == [DIRECTORIES[1]]
    assert got["directories"] == [DIRECTORIES[1]]


def test_root_directories_are_never_handed_over_only_fixed() -> None:
    host = converged()
    host["files"]["/etc/prefect"] = directory("prefect", "prefect", "0755")
    got = ic.install_changes(host, wanted())
    assert got["chown"] == []
    assert got["directories"] == [DIRECTORIES[0]]


@pytest.mark.parametrize(
    "have",
    [
        {"exists": True, "type": "file", "owner": "root", "group": "root", "mode": "0755"},
        {"exists": True, "type": "link", "owner": "root", "group": "root", "mode": "0755"},
        directory("root", "root", "0775"),
    ],
)
def test_a_directory_of_another_type_or_mode_is_fixed(have: dict[str, Any]) -> None:
    host = converged()
    host["files"]["/etc/prefect"] = have
    assert ic.install_changes(host, wanted())["directories"] == [DIRECTORIES[0]]


@pytest.mark.parametrize(
    "path, have",
    [
        (PYTHON, {"exists": False}),
        (REQUIREMENTS, {"exists": True, "type": "file", "checksum": "0" * 40}),  # another lock
        (UV, {"exists": False}),
    ],
)
def test_the_software_is_installed_when_its_python_lock_or_installer_is_missing(
    path: str, have: dict[str, Any]
) -> None:
    host = converged()
    host["files"][path] = have
    got = ic.install_changes(host, wanted())
    assert got["software"] and got["needed"]


def test_pip_needs_no_uv() -> None:
    host = converged()
    del host["files"][UV]
    software = dict(wanted()["software"], uv="")
    assert not ic.install_changes(host, wanted(software=software))["software"]


def test_hosts_that_run_no_prefect_install_no_software() -> None:
    """A PostgreSQL, Redis or HAProxy host of a fleet."""
    host = {
        "installed_version": "",
        "packages": {"haproxy": True},
        "users": {},
        "files": {},
        "listings": {},
        "stamps": {},
    }
    got = ic.install_changes(
        host,
        wanted(
            packages=["haproxy"],
            users=[],
            directories=[],
            programs=[],
            program_checksums=[],
            software=None,
            venv_link="",
            pool_venvs=[],
            flows=None,
        ),
    )
    assert not got["needed"]


def test_the_venv_link_is_made_only_on_a_host_with_no_version_installed() -> None:
    """On an upgrade the switch moves the link, after the drain; never here."""
    host = converged()
    del host["files"][VENV]
    assert not ic.install_changes(host, wanted())["venv_link"]
    host["installed_version"] = ""
    assert ic.install_changes(host, wanted())["venv_link"]


def test_a_changed_program_is_installed_again() -> None:
    host = converged()
    host["files"][PROGRAMS[0]["dest"]]["checksum"] = "e" * 40
    assert ic.install_changes(host, wanted())["programs"] == PROGRAMS


def test_programs_and_their_checksums_must_pair_up() -> None:
    with pytest.raises(ValueError, match="1 programs but 0 program_checksums"):
        ic.install_changes(converged(), wanted(program_checksums=[]))


def test_a_pool_venv_with_other_inputs_is_built_beside_the_old_one() -> None:
    other = dict(POOL_VENV, venv=f"{POOLS}/etl-89abcdef")
    assert ic.install_changes(converged(), wanted(pool_venvs=[other]))["pool_venvs"] == [other]


def test_changed_example_flows_are_installed_again() -> None:
    host = converged()
    host["stamps"][STAMP] = "0" * 40
    assert ic.install_changes(host, wanted())["flows"]


def test_unknown_keys_are_named() -> None:
    with pytest.raises(ValueError, match=r"unknown keys in wanted: venv \(accepted: "):
        ic.install_changes(converged(), wanted(venv=VENV))


def test_the_filter_is_registered() -> None:
    assert ic.FilterModule().filters() == {"install_changes": ic.install_changes}
