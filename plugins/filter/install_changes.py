"""install_changes: what a Linux host lacks of what the role installs.

    __prefect_host | prefect_preset.prefect.install_changes(wanted)

host is what the host_info module read; wanted says what the host should
have: OS packages, service users, directories, the preset's programs, the
wanted version's virtualenv, the pools' virtualenvs, the active-virtualenv
link and the example flows. The answer lists only what differs, and `needed`
says whether anything does: on a host that already matches, the install step
is not even read. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DOCUMENTATION = r"""
name: install_changes
short_description: What a Linux host lacks of what the role installs
description:
  - Compares what C(host_info) read with what the host should have, and returns the
    changes the install step makes, each as a list of items or a flag.
options:
  _input:
    description: >-
      The host as host_info read it (files, listings, stamps, packages, users,
      installed_version).
    type: dict
    required: true
  wanted:
    description: >-
      packages (names); users (name, group, home, comment) and shell (their login shell);
      directories (path, owner, group, mode); programs (src, dest) and program_checksums
      (the SHA-1 of each program's source, in the same order); software (python,
      requirements, checksum, uv: the installer's path or empty), or none where Prefect
      does not run; venv_link (the active virtualenv's path, or empty where Prefect does
      not run); pool_venvs (pool, venv, ...) and pools_dir; flows (stamp,
      checksum) or none.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Install only when the host lacks something
  ansible.builtin.include_tasks: linux/install-changes.yml
  when: (__prefect_host | prefect_preset.prefect.install_changes(wanted)).needed
"""

RETURN = r"""
_value:
  description: >-
    packages (missing), groups (users whose account is missing: their group is created),
    users (missing or with another group, home or shell), chown (directories that exist
    with another owner or group: handed over recursively), directories (missing or with
    another type, owner, group or mode), software (bool: the wanted version's virtualenv,
    its requirements or the installer is missing), pool_venvs (missing), venv_link (bool:
    no version is installed and the active-virtualenv link is missing), programs (missing
    or different), flows (bool: the example flows differ), needed (bool: any of these).
  type: dict
"""

WANTED_KEYS = frozenset(
    {
        "packages",
        "users",
        "shell",
        "directories",
        "programs",
        "program_checksums",
        "software",
        "venv_link",
        "pool_venvs",
        "pools_dir",
        "flows",
    }
)


def _file(host: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    return (host.get("files") or {}).get(path) or {"exists": False}


def _differs(have: Mapping[str, Any], want: Mapping[str, Any], keys: Iterable[str]) -> bool:
    return any(have.get(key) != want[key] for key in keys)


def missing_packages(host: Mapping[str, Any], packages: Iterable[str]) -> list[str]:
    installed = host.get("packages") or {}
    return [name for name in packages if not installed.get(name)]


def users_to_fix(
    host: Mapping[str, Any], users: Iterable[Mapping[str, Any]], shell: str
) -> list[dict[str, Any]]:
    accounts = host.get("users") or {}
    out = []
    for user in users:
        have = accounts.get(user["name"])
        if have is None or _differs(have, user, ("group", "home")) or have.get("shell") != shell:
            out.append(dict(user))
    return out


def data_to_chown(
    host: Mapping[str, Any], directories: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Directories of a service user that exist with another owner or group."""
    out = []
    for directory in directories:
        if directory["owner"] == "root":
            continue
        have = _file(host, directory["path"])
        if have.get("exists") and _differs(have, directory, ("owner", "group")):
            out.append(dict(directory))
    return out


def directories_to_fix(
    host: Mapping[str, Any], directories: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    out = []
    for directory in directories:
        have = _file(host, directory["path"])
        if have.get("type") != "directory" or _differs(have, directory, ("owner", "group", "mode")):
            out.append(dict(directory))
    return out


def software_missing(host: Mapping[str, Any], software: Mapping[str, Any] | None) -> bool:
    if not software:
        return False
    return (
        not _file(host, software["python"]).get("exists")
        or _file(host, software["requirements"]).get("checksum", "") != software["checksum"]
        or (bool(software.get("uv")) and not _file(host, software["uv"]).get("exists"))
    )


def programs_to_install(
    host: Mapping[str, Any], programs: Sequence[Mapping[str, Any]], checksums: Sequence[str]
) -> list[dict[str, Any]]:
    """The programs whose installed copy is missing or differs from its source."""
    if len(programs) != len(checksums):
        raise ValueError(
            f"install_changes: {len(programs)} programs but {len(checksums)} program_checksums "
            "(one SHA-1 per program, in the same order)"
        )
    return [
        dict(program)
        for program, checksum in zip(programs, checksums, strict=True)
        if _file(host, program["dest"]).get("checksum", "") != checksum
    ]


def pool_venvs_missing(
    host: Mapping[str, Any], pool_venvs: Iterable[Mapping[str, Any]], pools_dir: str
) -> list[dict[str, Any]]:
    present = {f"{pools_dir}/{name}" for name in (host.get("listings") or {}).get(pools_dir) or []}
    return [dict(venv) for venv in pool_venvs if venv["venv"] not in present]


def install_changes(host: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(wanted) - WANTED_KEYS
    if unknown:
        raise ValueError(
            f"install_changes: unknown keys in wanted: {', '.join(sorted(unknown))} "
            f"(accepted: {', '.join(sorted(WANTED_KEYS))})"
        )
    users = [dict(u) for u in wanted.get("users") or []]
    directories = list(wanted.get("directories") or [])
    venv_link = str(wanted.get("venv_link") or "")
    flows = wanted.get("flows")
    changes: dict[str, Any] = {
        "packages": missing_packages(host, wanted.get("packages") or []),
        "groups": [u for u in users if u["name"] not in (host.get("users") or {})],
        "users": users_to_fix(host, users, str(wanted.get("shell") or "")),
        "chown": data_to_chown(host, directories),
        "directories": directories_to_fix(host, directories),
        "software": software_missing(host, wanted.get("software")),
        "pool_venvs": pool_venvs_missing(
            host, wanted.get("pool_venvs") or [], str(wanted.get("pools_dir") or "")
        ),
        "venv_link": bool(venv_link)
        and not host.get("installed_version")
        and not _file(host, venv_link).get("exists"),
        "programs": programs_to_install(
            host, list(wanted.get("programs") or []), list(wanted.get("program_checksums") or [])
        ),
        "flows": bool(flows)
        and (host.get("stamps") or {}).get(flows["stamp"], "") != flows["checksum"],
    }
    changes["needed"] = any(bool(value) for value in changes.values())
    return changes


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"install_changes": install_changes}
