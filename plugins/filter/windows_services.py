"""windows_services: the Windows services of a host, as plain data.

    __prefect_worker_instances | prefect_preset.prefect.windows_services(
        leftover, server_wanted, layout, nodename)

The server service, one service per worker instance (wanted), and one per
worker service the host has that no pool wants any more (leftover: stopped and
removed). A wanted service carries what win_nssm and win_service are given:
its account, its log files, the launcher's arguments (environment files, log
rotation, then the Prefect command line: the worker's from
worker_instances.worker_command), its start mode and failure actions, and the
files it reads (restart_on). Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.prefect_preset.prefect.plugins.filter.worker_instances import (
    worker_command,
)

DOCUMENTATION = r"""
name: windows_services
short_description: The Windows services of a host (server, worker instances, leftovers)
description:
  - Returns one service per Windows service the host has or gets, in order (server, wanted
    worker instances, leftover workers), with what the service manager is given.
options:
  _input:
    description: The worker instances (the worker_instances filter's answer), a service each.
    type: list
    elements: dict
    required: true
  leftover:
    description: >-
      POOL-N of each worker service the service manager lists on the host that no pool
      wants any more (it is stopped and removed).
    type: list
    elements: str
    required: true
  server_wanted:
    description: Whether this host runs the server (else its service is removed).
    type: bool
    required: true
  layout:
    description: >-
      Paths and names: sep, logs, data, worker_data, config_file, server_env_file,
      client_env_file, worker_env_dir, launcher, log_max_bytes, log_backups,
      server_service, server_account, worker_service_prefix, server_bin, server_host,
      server_port, python.
    type: dict
    required: true
  nodename:
    description: The computer's name (C(ansible_facts.nodename)); workers are named NODENAME-POOL-N.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The Windows services
  ansible.builtin.set_fact:
    services: "{{ instances | prefect_preset.prefect.windows_services([], true, layout, 'WIN1') }}"
"""

RETURN = r"""
_value:
  description: >-
    The services: name, kind, wanted, and for wanted ones always, display_name, description,
    account, home, log, nssm_log, arguments, restart_on, application, app_environment,
    start_mode, failure_actions, failure_reset_period_sec (workers also env_file and instance).
  type: list
  elements: dict
"""

FAILURE_ACTIONS = [
    {"type": "restart", "delay_ms": 5000},
    {"type": "restart", "delay_ms": 30000},
    {"type": "restart", "delay_ms": 60000},
]
FAILURE_RESET_PERIOD_SEC = 600


def windows_services(
    instances: Iterable[Mapping[str, Any]],
    leftover: Iterable[str],
    server_wanted: bool,
    layout: Mapping[str, Any],
    nodename: str,
) -> list[dict[str, Any]]:
    sep, logs = layout["sep"], layout["logs"]
    config, client_env = layout["config_file"], layout["client_env_file"]
    rotation = [
        "--log-max-bytes", str(layout["log_max_bytes"]),
        "--log-backups", str(layout["log_backups"]),
    ]
    host, port = str(layout["server_host"]), str(layout["server_port"])
    server_log = f"{logs}{sep}server{sep}server.log"
    server_command = [layout["server_bin"], "server", "start", "--host", host, "--port", port]
    services: list[dict[str, Any]] = [
        {
            "name": layout["server_service"],
            "kind": "server",
            "wanted": bool(server_wanted),
            "always": False,
            "display_name": "Prefect server",
            "description": (
                f"Prefect server (API, UI and background services) on {host}:{port},"
                " by the prefect preset."
            ),
            "account": layout["server_account"],
            "home": layout["data"],
            "log": server_log,
            "nssm_log": f"{logs}{sep}server{sep}server.nssm.log",
            "arguments": [
                layout["launcher"], "--env-file", layout["server_env_file"],
                "--log", server_log, *rotation, "--", *server_command,
            ],
            "restart_on": [config, layout["server_env_file"]],
        }
    ]
    for instance in instances:
        name = str(instance["instance"])
        service = layout["worker_service_prefix"] + name
        env_file = f"{layout['worker_env_dir']}{sep}{name}.env"
        log = f"{logs}{sep}workers{sep}{name}.log"
        executable = f"{instance['venv']}{sep}Scripts{sep}prefect.exe"
        services.append(
            {
                "name": service,
                "kind": "worker",
                "wanted": True,
                "always": True,
                "display_name": f"Prefect worker {name}",
                "description": (
                    f"Instance {instance['index']} of the Prefect worker of work pool"
                    f" {instance['pool']}, by the prefect preset."
                ),
                "account": f"NT SERVICE{sep}{service}",
                "home": layout["worker_data"],
                "env_file": env_file,
                "instance": {**instance, "dest": env_file},
                "log": log,
                "nssm_log": f"{logs}{sep}workers{sep}{name}.nssm.log",
                "arguments": [
                    layout["launcher"], "--env-file", client_env, "--env-file", env_file,
                    "--log", log, *rotation, "--", *worker_command(instance, executable, nodename),
                ],
                "restart_on": [config, client_env, env_file],
            }
        )
    for name in leftover:
        services.append(
            {
                "name": layout["worker_service_prefix"] + name,
                "kind": "worker",
                "wanted": False,
                "env_file": f"{layout['worker_env_dir']}{sep}{name}.env",
            }
        )
    for service in services:
        if service["wanted"]:
            service.update(
                {
                    "application": layout["python"],
                    "app_environment": {
                        "PREFECT_HOME": service["home"],
                        "PREFECT_PROFILES_PATH": config,
                    },
                    "start_mode": "delayed" if service["kind"] == "worker" else "auto",
                    "failure_actions": [dict(action) for action in FAILURE_ACTIONS],
                    "failure_reset_period_sec": FAILURE_RESET_PERIOD_SEC,
                }
            )
    return services


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"windows_services": windows_services}
