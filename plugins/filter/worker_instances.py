"""worker_instances: the worker unit instances a host runs for its work pools.

    __prefect_work_pools | prefect_preset.prefect.worker_instances(venv, env_dir)

One entry per pool and instance number: the systemd unit
prefect-worker@POOL-N.service, what its instance environment file holds, and
where that file goes (dest, src, mode, template_vars: as the role's file list).
The instance number is the part after the last '-', so POOL-N never collides
(pool names may contain '-', instance numbers cannot).

options is everything of `prefect worker start` after --pool and --name, for
every platform's service (the systemd unit, the launchd plist, the Windows
service): WORKER_FLAGS, the one home of the flags every worker runs with, then
the health check and the work queues. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# A process worker that installs nothing at run time and never creates its pool:
# the role creates the pool, with its settings, before any worker starts.
WORKER_FLAGS = ("--type", "process", "--install-policy", "never", "--no-create-pool-if-not-found")

DOCUMENTATION = r"""
name: worker_instances
short_description: Worker unit instances for a list of work pools
description:
  - Expands work pools (with their C(instances), default 1) into systemd unit instances
    C(prefect-worker@POOL-N.service), each with its pool, instance number, the virtualenv
    it runs from, its health-check port and its C(prefect worker start) options (all but
    C(--pool) and C(--name)).
options:
  _input:
    description: Work pools, each a dict with name and optionally instances, work_queues, venv.
    type: list
    elements: dict
    required: true
  venv:
    description: The virtualenv workers run from unless a pool names its own.
    type: str
    required: true
  env_dir:
    description: Directory of the instances' environment files (POOL-N.env).
    type: str
    required: true
  healthcheck:
    description: Give each instance C(--with-healthcheck) on its own port.
    type: bool
    default: false
  port_base:
    description: Health-check port of the first instance; the next ones count up.
    type: int
    default: 8080
  venvs:
    description: Pool name to the virtualenv its workers run from (pools with packages).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Expand the pools
  ansible.builtin.debug:
    msg: >-
      {{ [{'name': 'etl', 'instances': 2}]
         | prefect_preset.prefect.worker_instances('/opt/prefect/venv', '/etc/prefect/workers') }}
"""

RETURN = r"""
_value:
  description: >-
    unit, instance, pool, index, venv, port, options per instance, and its environment
    file as dest, src, mode and template_vars.
  type: list
  elements: dict
"""


def worker_command(instance: Mapping[str, Any], executable: str, nodename: str) -> list[str]:
    """The worker's command line where the service manager cannot fill in the host name
    (launchd, Windows): EXECUTABLE worker start --pool POOL --name NODENAME-POOL-N OPTIONS.
    The systemd unit says the same with %H-%i."""
    return [
        executable, "worker", "start",
        "--pool", str(instance["pool"]),
        "--name", f"{nodename}-{instance['instance']}",
        *str(instance.get("options") or "").split(),
    ]


def worker_instances(
    pools: Sequence[Mapping[str, Any]],
    venv: str,
    env_dir: str,
    healthcheck: bool = False,
    port_base: int = 8080,
    venvs: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The unit instances, in pool order; ports are unique on the host."""
    instances = []
    for pool in pools:
        count = pool.get("instances")
        for index in range(1, (1 if count is None else int(count)) + 1):
            port = port_base + len(instances)
            options = [
                *WORKER_FLAGS,
                *(["--with-healthcheck"] if healthcheck else []),
                *(a for queue in pool.get("work_queues") or [] for a in ("--work-queue", queue)),
            ]
            name = f"{pool['name']}-{index}"
            instance = {
                "unit": f"prefect-worker@{name}.service",
                "instance": name,
                "pool": pool["name"],
                "index": index,
                "venv": (venvs or {}).get(pool["name"]) or pool.get("venv") or venv,
                "port": port,
                "options": " ".join(options),
            }
            instances.append(
                {
                    **instance,
                    "dest": f"{env_dir}/{name}.env",
                    "src": "prefect-worker.env.j2",
                    "mode": "0644",
                    "template_vars": {"instance": instance},
                }
            )
    return instances


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"worker_instances": worker_instances}
