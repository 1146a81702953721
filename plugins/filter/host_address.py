"""host_address: the address other hosts reach an inventory host at.

    'api-1' | prefect_preset.prefect.host_address(hostvars)

Its prefect_advertise_address (inventory), else its default IPv4 address
(gathered facts), else its ansible_host, else its inventory name. Standard
library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DOCUMENTATION = r"""
name: host_address
short_description: The address other hosts reach an inventory host at
description:
  - Returns the host's C(prefect_advertise_address) inventory variable, else the address
    of its default IPv4 interface from its gathered facts, else its C(ansible_host), else
    its inventory name.
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
- name: Where the first API server is
  ansible.builtin.debug:
    msg: "{{ groups['prefect_server'][0] | prefect_preset.prefect.host_address(hostvars) }}"
"""

RETURN = r"""
_value:
  description: An address or host name; empty for an empty input.
  type: str
"""


def host_address(host: str, hostvars: Mapping[str, Any]) -> str:
    if not host:
        return ""
    try:
        variables = hostvars[host]
    except KeyError:
        return host
    advertised = variables.get("prefect_advertise_address")
    if advertised:
        return str(advertised)
    facts = variables.get("ansible_facts") or {}
    address = (facts.get("default_ipv4") or {}).get("address")
    if address:
        return str(address)
    return str(variables.get("ansible_host") or host)


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"host_address": host_address}
