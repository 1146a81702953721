"""host_ip: an inventory host's IP address, for what must be an address (pg_hba networks).

    'api-1' | prefect_preset.prefect.host_ip(hostvars)

Its default IPv4 address from its gathered facts, else host_address's answer
(prefect_advertise_address, ansible_host, the inventory name), which may be a
name. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DOCUMENTATION = r"""
name: host_ip
short_description: An inventory host's IP address from its facts
description:
  - Returns the address of the host's default IPv4 interface from its gathered facts, else
    what C(host_address) returns (its C(prefect_advertise_address), C(ansible_host) or name).
options:
  _input:
    description: Inventory name of the host.
    type: str
    required: true
  hostvars:
    description: The play's C(hostvars).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The first API server's address
  ansible.builtin.debug:
    msg: "{{ groups['prefect_server'][0] | prefect_preset.prefect.host_ip(hostvars) }}"
"""

RETURN = r"""
_value:
  description: An IP address, or (without facts) a host name.
  type: str
"""


def host_ip(host: str, hostvars: Mapping[str, Any]) -> str:
    if not host:
        return ""
    variables = hostvars.get(host) or {}
    facts = variables.get("ansible_facts") or {}
    address = (facts.get("default_ipv4") or {}).get("address")
    if address:
        return str(address)
    advertised = variables.get("prefect_advertise_address")
    return str(advertised or variables.get("ansible_host") or host)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"host_ip": host_ip}
