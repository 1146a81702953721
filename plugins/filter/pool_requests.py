"""pool_requests: what server_setup is asked for each declared work pool.

    __prefect_work_pools | prefect_preset.prefect.pool_requests(job_template)

A declared pool (work_pools, with its defaults) carries what only the hosts
use (packages, the number of workers); the server is asked for its name, type,
concurrency limit, paused state, the process worker's job template, and its
work queues when some are declared (none declared: the queues are not managed).
Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: pool_requests
short_description: What server_setup is asked for each declared work pool
description:
  - Returns one request per pool, in order, with the options of
    O(prefect_preset.prefect.server_setup#module:work_pools).
options:
  _input:
    description: >-
      The declared work pools (C(name), C(type), C(concurrency_limit), C(paused),
      C(work_queues), ...).
    type: list
    elements: dict
    required: true
  base_job_template:
    description: The job template every pool gets (the process worker's).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The pools and the automation
  prefect_preset.prefect.server_setup:
    api_url: http://127.0.0.1:4200/api
    work_pools: "{{ pools | prefect_preset.prefect.pool_requests(job_template) }}"
"""

RETURN = r"""
_value:
  description: One request per pool.
  type: list
  elements: dict
"""

FIELDS = ("name", "type", "concurrency_limit", "paused")


def pool_requests(
    pools: Iterable[Mapping[str, Any]], base_job_template: Mapping[str, Any]
) -> list[dict[str, Any]]:
    requests = []
    for pool in pools:
        request: dict[str, Any] = {key: pool.get(key) for key in FIELDS}
        request["base_job_template"] = dict(base_job_template)
        if pool.get("work_queues"):
            request["work_queues"] = list(pool["work_queues"])
        requests.append(request)
    return requests


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"pool_requests": pool_requests}
