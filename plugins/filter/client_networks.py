"""client_networks: the pg_hba.conf sources that still admit a re-addressed backend host.

    client_ips | prefect_preset.prefect.client_networks(own_address, own_netmask, given)

A line per source: the networks the user gave (database_client_networks), or
else the database host's own subnet for every client inside it (a server
host that comes back with another address from the same network - a new
DHCP lease, a replaced VM - connects with no converge) and the /32 (/128) of
each client outside it. Access stays TLS-only and password-only (the
template's hostssl ... scram-sha-256).

Standard library only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

DOCUMENTATION = r"""
name: client_networks
short_description: The networks PostgreSQL accepts Prefect's other backend hosts from
description:
  - Returns the given CIDR networks, or the database host's own subnet for the clients in it
    and a host route for each client outside it.
options:
  _input:
    description: The client hosts' IP addresses (a name is passed on as pg_hba's host name entry).
    type: list
    elements: str
    required: true
  own_address:
    description: The database host's address.
    type: str
    required: true
  own_netmask:
    description: The netmask (or prefix length) of the database host's network.
    type: str
    required: true
  given:
    description: Networks the user declared (CIDR); when any, they are the answer.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: pg_hba sources
  ansible.builtin.debug:
    msg: >-
      {{ ['10.89.0.6', '192.0.2.7']
         | prefect_preset.prefect.client_networks('10.89.0.2', '255.255.255.0', []) }}
"""

RETURN = r"""
_value:
  description: CIDR networks, e.g. C(['10.89.0.0/24', '192.0.2.7/32']).
  type: list
  elements: str
"""


def _network(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise ValueError(
            f"database_client_networks: {text!r} is not a network (give CIDR like 10.0.0.0/24)"
        ) from None


def client_networks(
    clients: Iterable[str], own_address: str, own_netmask: str, given: Iterable[str] | None = None
) -> list[str]:
    declared = [_network(str(n)) for n in (given or [])]
    if declared:
        return list(dict.fromkeys(declared))
    own = None
    if own_address and own_netmask:
        own = ipaddress.ip_network(f"{own_address}/{own_netmask}", strict=False)
    out: list[str] = []
    for client in clients:
        try:
            address = ipaddress.ip_address(str(client))
        except ValueError:  # a host name: pg_hba checks it by reverse and forward lookup
            out.append(str(client))
            continue
        if own is not None and address.version == own.version and address in own:
            out.append(str(own))
        else:
            out.append(str(ipaddress.ip_network(address)))
    return list(dict.fromkeys(out))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"client_networks": client_networks}
