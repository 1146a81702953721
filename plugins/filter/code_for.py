"""code_for: the flows code sources a host runs, and whether their current version is there.

    plan.sources | prefect_preset.prefect.code_for(pools, host.listings, code_dir)

A source is needed on a host whose workers serve one of the pools its
deployments use. ``present`` says whether CODE_DIR/NAME/VERSION exists there
(host_info listed CODE_DIR/NAME). Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: code_for
short_description: The flows code sources a host runs, and whether their version is there
description:
  - Selects the sources whose pools this host's workers serve and says for each whether its
    current version's directory exists on the host.
options:
  _input:
    description: flows_plan's sources (name, version, archive, path, pools).
    type: list
    elements: dict
    required: true
  pools:
    description: The pools this host's workers serve.
    type: list
    elements: str
    required: true
  listings:
    description: host_info's listings (directory to the names in it).
    type: dict
    required: true
  code_dir:
    description: Where the sources land (install_dir/code).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The code this host needs
  ansible.builtin.debug:
    msg: >-
      {{ plan.sources | prefect_preset.prefect.code_for(['etl'], host.listings,
                                                        '/opt/prefect/code') }}
"""

RETURN = r"""
_value:
  description: The sources this host runs, each with present (bool).
  type: list
  elements: dict
"""


def code_for(
    sources: Iterable[Mapping[str, Any]],
    pools: Iterable[str],
    listings: Mapping[str, Iterable[str]],
    code_dir: str,
) -> list[dict[str, Any]]:
    mine = set(pools)
    out = []
    for source in sources:
        if mine & set(source.get("pools") or []):
            have = set(listings.get(f"{code_dir}/{source['name']}") or [])
            out.append({**source, "present": source["version"] in have})
    return out


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"code_for": code_for}
