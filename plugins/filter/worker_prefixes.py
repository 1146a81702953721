"""worker_prefixes: the prefixes of the worker names a pool's runs may land on.

    hosts | prefect_preset.prefect.worker_prefixes(hostvars, pool)

Workers are named HOSTNAME-POOL-N (the host's node name from its gathered
facts, else its inventory name): the smoke test accepts a run picked up by
any worker of the pool on these hosts. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: worker_prefixes
short_description: Prefixes of a pool's worker names on some hosts
description:
  - For each host, C(NODENAME-POOL-), the start of the names of the pool's workers there
    (NODENAME from the host's gathered facts, else its inventory name).
options:
  _input:
    description: Inventory names of the hosts that run the pool's workers.
    type: list
    elements: str
    required: true
  hostvars:
    description: The play's C(hostvars).
    type: dict
    required: true
  pool:
    description: The work pool's name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Where the smoke test's runs may land
  ansible.builtin.debug:
    msg: "{{ groups['prefect_worker'] | prefect_preset.prefect.worker_prefixes(hostvars, 'main') }}"
"""

RETURN = r"""
_value:
  description: One prefix per host, in order.
  type: list
  elements: str
"""


def worker_prefixes(hosts: Iterable[str], hostvars: Mapping[str, Any], pool: str) -> list[str]:
    prefixes = []
    for host in hosts:
        facts = (hostvars.get(host) or {}).get("ansible_facts") or {}
        prefixes.append(f"{facts.get('nodename') or host}-{pool}-")
    return prefixes


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"worker_prefixes": worker_prefixes}
