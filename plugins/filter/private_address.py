"""private_address: whether binding an address keeps a service off public networks.

    '10.0.0.5' | prefect_preset.prefect.private_address   -> true
    '0.0.0.0' | prefect_preset.prefect.private_address    -> false (every interface)

Standard library only.
"""

from __future__ import annotations

import ipaddress
from typing import Any

DOCUMENTATION = r"""
name: private_address
short_description: Whether a bind address is private (loopback, RFC 1918, unique local, link-local)
description:
  - True for an IPv4 or IPv6 address in a private, loopback or link-local range.
  - False for the unspecified addresses (0.0.0.0, ::), which bind every interface, for
    public addresses, and for host names (what they resolve to is not known here).
options:
  _input:
    description: The address a service binds.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse plain HTTP on a public bind
  ansible.builtin.assert:
    that: prefect_load_balancer_host | prefect_preset.prefect.private_address
"""

RETURN = r"""
_value:
  description: Whether the address is private.
  type: bool
"""


def private_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(str(address).strip().strip("[]"))
    except ValueError:
        return False
    if ip.is_unspecified:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"private_address": private_address}
