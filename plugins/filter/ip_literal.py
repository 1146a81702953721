"""ip_literal: whether an address is an IP address rather than a DNS name.

    address | prefect_preset.prefect.ip_literal

HAProxy resolves a backend given by name at run time (so a re-addressed API
server is found again); one given by address it uses as it is.
Standard library only.
"""

from __future__ import annotations

import ipaddress
from typing import Any

DOCUMENTATION = r"""
name: ip_literal
short_description: Whether a value is an IP address (not a host name)
description:
  - True for IPv4 and IPv6 addresses (IPv6 also in brackets), false for anything else.
options:
  _input:
    description: The address or name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Is it an address?
  ansible.builtin.debug:
    msg: "{{ '10.0.0.5' | prefect_preset.prefect.ip_literal }}"
"""

RETURN = r"""
_value:
  description: Whether the value is an IP address.
  type: bool
"""


def ip_literal(value: str) -> bool:
    try:
        ipaddress.ip_address(str(value).strip("[]"))
    except ValueError:
        return False
    return True


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"ip_literal": ip_literal}
