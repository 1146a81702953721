"""pool_venvs: the virtualenvs of the work pools whose flows need packages of their own.

    __prefect_work_pools | prefect_preset.prefect.pool_venvs(version, requirements_checksum,
                                                             system_python, pools_dir)

A pool with packages runs its workers from a virtualenv of its own, named by
its inputs: POOLS_DIR/POOL-HASH, HASH the first 8 hex digits of the SHA-1 of
the JSON list [requirements, the lock's checksum, the Python that builds it].
Any change of the packages, of Prefect's lock or of the Python gives a new
name, so the new virtualenv is built beside the one the workers run until
they are restarted into it. The name is the one earlier releases of the preset
gave (the same JSON as Ansible's to_json), so upgrading the preset rebuilds
nothing. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: pool_venvs
short_description: The virtualenvs of work pools with packages of their own
description:
  - For each work pool with C(packages), the requirements its virtualenv installs (Prefect
    at the wanted version, then the packages) and the virtualenv's path, named by its inputs.
options:
  _input:
    description: Work pools, each a dict with name and packages (a list, possibly empty).
    type: list
    elements: dict
    required: true
  version:
    description: The Prefect version the pool's virtualenv installs.
    type: str
    required: true
  requirements_checksum:
    description: SHA-1 of Prefect's requirements (the lock) for that version.
    type: str
    required: true
  system_python:
    description: The Python that builds the virtualenvs.
    type: str
    required: true
  pools_dir:
    description: Directory of the pools' virtualenvs.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Say where the pools' virtualenvs go
  ansible.builtin.debug:
    msg: >-
      {{ pools | prefect_preset.prefect.pool_venvs('3.9.1', lock_sha1, '/usr/bin/python3',
                                                   '/opt/prefect/pools') }}
"""

RETURN = r"""
_value:
  description: One dict per pool with packages, in order - pool, packages, requirements, venv.
  type: list
  elements: dict
"""


def venv_name(pool: str, requirements: str, requirements_checksum: str, system_python: str) -> str:
    """POOL-HASH: the pool's name and a digest of everything its virtualenv is built from."""
    inputs = json.dumps([requirements, requirements_checksum, system_python])
    return f"{pool}-{hashlib.sha1(inputs.encode('utf-8')).hexdigest()[:8]}"


def pool_venvs(
    pools: Iterable[Mapping[str, Any]],
    version: str,
    requirements_checksum: str,
    system_python: str,
    pools_dir: str,
) -> list[dict[str, Any]]:
    venvs = []
    for pool in pools:
        packages = [str(p) for p in pool.get("packages") or []]
        if not packages:
            continue
        name = str(pool["name"])
        requirements = f"prefect=={version}\n" + "\n".join(packages) + "\n"
        venvs.append(
            {
                "pool": name,
                "packages": packages,
                "requirements": requirements,
                "venv": pools_dir
                + "/"
                + venv_name(name, requirements, requirements_checksum, system_python),
            }
        )
    return venvs


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"pool_venvs": pool_venvs}
