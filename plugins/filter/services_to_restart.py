"""services_to_restart: which of a macOS host's launchd jobs or a Windows host's
services a converge restarts.

    services | prefect_preset.prefect.services_to_restart(changed_paths, software_changed, 'label')

The answer to "which services restart when I change X" on macOS and Windows
(restarts.py answers it for Linux): a wanted service restarts when the software
changed (a new virtualenv) or a file it reads (its restart_on) was written in
this converge. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: services_to_restart
short_description: The launchd jobs or Windows services the files a converge wrote restart
description:
  - Returns the names of the wanted services that must restart, in their order; every
    wanted one when the software changed, else those with a changed file in C(restart_on).
options:
  _input:
    description: >-
      The services (or launchd jobs): mappings with C(wanted) and, when wanted, C(restart_on)
      (the files the service reads) and the name under O(key).
    type: list
    elements: dict
    required: true
  changed_paths:
    description: The paths of the files this converge wrote.
    type: list
    elements: str
    required: true
  software_changed:
    description: Whether this converge installed new software (every wanted service restarts).
    type: bool
    required: true
  key:
    description: The key that names a service (C(label) for launchd jobs, C(name) for Windows).
    type: str
    default: name
"""

EXAMPLES = r"""
- name: The launchd jobs to restart
  ansible.builtin.set_fact:
    restart: "{{ jobs | prefect_preset.prefect.services_to_restart(changed, false, 'label') }}"
"""

RETURN = r"""
_value:
  description: Names of the services to restart.
  type: list
  elements: str
"""


def services_to_restart(
    services: Iterable[Mapping[str, Any]],
    changed_paths: Iterable[str],
    software_changed: bool,
    key: str = "name",
) -> list[str]:
    changed = set(changed_paths)
    return [
        str(service[key])
        for service in services
        if service.get("wanted")
        and (software_changed or changed.intersection(service.get("restart_on") or []))
    ]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"services_to_restart": services_to_restart}
