"""launchd_jobs: the launchd jobs of a macOS host, as plain data.

    __prefect_worker_instances | prefect_preset.prefect.launchd_jobs(
        leftover, server_wanted, system, layout, nodename)

The server job, one job per worker instance (wanted), and one per worker job
the host has that no pool wants any more (leftover: unloaded and removed).
Each job carries what its plist (templates/prefect-launchd.plist.j2) and the
tasks need: label, plist path, the files it reads (env_files, restart_on),
its logs, its user and group (system scope only) and its Prefect command line
(the worker's from worker_instances.worker_command). Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.prefect_preset.prefect.plugins.filter.worker_instances import (
    worker_command,
)

DOCUMENTATION = r"""
name: launchd_jobs
short_description: The launchd jobs of a macOS host (server, worker instances, leftovers)
description:
  - Returns one job per launchd job the host has or gets, in order (server, wanted worker
    instances, leftover workers), each with label, plist path, wanted, the files it reads,
    its logs and its command line.
options:
  _input:
    description: The worker instances (the worker_instances filter's answer), a launchd job each.
    type: list
    elements: dict
    required: true
  leftover:
    description: >-
      POOL-N of each worker plist in the jobs' directory that no pool wants any more (its
      job is unloaded and its plist removed).
    type: list
    elements: str
    required: true
  server_wanted:
    description: Whether this host runs the server (else its job is unloaded).
    type: bool
    required: true
  system:
    description: System scope (LaunchDaemons, jobs run as the service users) or user scope.
    type: bool
    required: true
  layout:
    description: >-
      Paths and names: unit_dir, logs, data, worker_data, config_file, server_env_file,
      client_env_file, worker_env_dir, server_label, worker_label_prefix, server_bin,
      server_host, server_port, and users (server and worker, each [user, group]).
    type: dict
    required: true
  nodename:
    description: The host's name, the start of each worker's name (NODENAME-POOL-N).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The launchd jobs
  ansible.builtin.set_fact:
    jobs: "{{ instances | prefect_preset.prefect.launchd_jobs([], true, true, layout, 'mac1') }}"
"""

RETURN = r"""
_value:
  description: >-
    The jobs: name, label, plist, template, wanted, always, home, env_files, env_file,
    instance, log, launchd_log, restart_on, command, and user and group in system scope.
  type: list
  elements: dict
"""

TEMPLATE = "prefect-launchd.plist.j2"


def launchd_jobs(
    instances: Iterable[Mapping[str, Any]],
    leftover: Iterable[str],
    server_wanted: bool,
    system: bool,
    layout: Mapping[str, Any],
    nodename: str,
) -> list[dict[str, Any]]:
    logs, config = layout["logs"], layout["config_file"]
    server_env, client_env = layout["server_env_file"], layout["client_env_file"]
    server_user, server_group = layout["users"]["server"]
    worker_user, worker_group = layout["users"]["worker"]
    jobs: list[dict[str, Any]] = [
        {
            "name": "server",
            "label": layout["server_label"],
            "template": TEMPLATE,
            "wanted": bool(server_wanted),
            "always": False,
            "user": server_user,
            "group": server_group,
            "home": layout["data"],
            "env_files": [server_env],
            "log": f"{logs}/server/server.log",
            "launchd_log": f"{logs}/server/launchd.log",
            "restart_on": [config, server_env],
            "command": [
                layout["server_bin"], "server", "start",
                "--host", str(layout["server_host"]), "--port", str(layout["server_port"]),
            ],
        }
    ]
    for instance in instances:
        name = str(instance["instance"])
        env_file = f"{layout['worker_env_dir']}/{name}.env"
        jobs.append(
            {
                "name": name,
                "label": layout["worker_label_prefix"] + name,
                "template": TEMPLATE,
                "wanted": True,
                "always": True,
                "user": worker_user,
                "group": worker_group,
                "home": layout["worker_data"],
                "env_files": [client_env, env_file],
                "env_file": env_file,
                "instance": {**instance, "dest": env_file},
                "log": f"{logs}/workers/{name}.log",
                "launchd_log": f"{logs}/workers/{name}.launchd.log",
                "restart_on": [config, client_env, env_file],
                "command": worker_command(instance, f"{instance['venv']}/bin/prefect", nodename),
            }
        )
    for name in leftover:
        jobs.append(
            {
                "name": name,
                "label": layout["worker_label_prefix"] + name,
                "wanted": False,
                "env_file": f"{layout['worker_env_dir']}/{name}.env",
            }
        )
    for job in jobs:
        job["plist"] = f"{layout['unit_dir']}/{job['label']}.plist"
        if not system:
            job.pop("user", None)
            job.pop("group", None)
    return jobs


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"launchd_jobs": launchd_jobs}
