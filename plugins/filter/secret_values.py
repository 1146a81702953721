"""secret_values: the values of the secrets a host needs, from wherever they were read.

    __prefect_shared_secrets | prefect_preset.prefect.secret_values(
        inventory_hostname, kept, fetched, hostvars, ansible_play_hosts_all, ansible_check_mode)

Each shared secret (name, file, home: the host that generates and keeps it) is
read on its home host (that host's own slurp results, kept), and a host that is
not its home takes it from the home's results when the home is in the play,
else from what it read over the home's connection (fetched). The answer, for
every platform: found (name -> value; '' when it could not be read; in check
mode a placeholder for a secret the first run will generate) and missing
("NAME (kept on HOME)" for each one not read). Standard library only.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: secret_values
short_description: The values of the generated secrets a host needs, and the ones it could not read
description:
  - Returns C(found) (secret name to value) and C(missing) (C(NAME (kept on HOME)) for each
    secret that could not be read), from the slurp results of the hosts that keep them.
options:
  _input:
    description: The shared secrets, each with C(name) and C(home) (the host that keeps it).
    type: list
    elements: dict
    required: true
  host:
    description: This host's inventory name.
    type: str
    required: true
  kept:
    description: This host's slurp results of the secrets it keeps (registered, with C(results)).
    type: dict
    required: true
  fetched:
    description: This host's slurp results of secrets kept on hosts that are not in the play.
    type: dict
    required: true
  hostvars:
    description: The play's C(hostvars), for the slurp results of the keeping hosts in the play.
    type: dict
    required: true
  play_hosts:
    description: The hosts of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  check_mode:
    description: Whether the play runs in check mode (a secret not yet generated is predicted).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Use the secrets
  ansible.builtin.set_fact:
    secrets: >-
      {{ (shared | prefect_preset.prefect.secret_values(inventory_hostname, kept, fetched, hostvars,
                                                         ansible_play_hosts_all)).found }}
  no_log: true
"""

RETURN = r"""
_value:
  description: C(found) (name to value) and C(missing) (a line per secret not read).
  type: dict
"""

PREDICTED = "(generated on the first run)"
_KEPT = "__prefect_secrets_kept"


def _content(results: Any, name: str) -> str | None:
    """The decoded content of the slurp result for the secret NAME, if it was read."""
    for result in (results or {}).get("results") or []:
        if (result.get("item") or {}).get("name") == name and "content" in result:
            return base64.b64decode(result["content"]).decode("utf-8").strip()
    return None


def secret_values(
    shared: Iterable[Mapping[str, Any]],
    host: str,
    kept: Mapping[str, Any],
    fetched: Mapping[str, Any],
    hostvars: Mapping[str, Any],
    play_hosts: Iterable[str],
    check_mode: bool = False,
) -> dict[str, Any]:
    in_play = set(play_hosts)
    found: dict[str, str] = {}
    missing: list[str] = []
    for secret in shared:
        name, home = str(secret["name"]), str(secret["home"])
        if home == host:
            reads = kept
        elif home in in_play:
            reads = (hostvars[home] or {}).get(_KEPT) or {}
        else:
            reads = fetched
        value = _content(reads, name)
        if value is None:
            value = PREDICTED if check_mode else ""
        found[name] = value
        if not value:
            missing.append(f"{name} (kept on {home})")
    return {"found": found, "missing": missing}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"secret_values": secret_values}
