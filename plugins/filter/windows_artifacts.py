"""windows_artifacts: everything an install puts on a Windows host, once.

    __prefect_windows_services | prefect_preset.prefect.windows_artifacts(host)

One list serves install and uninstall: install creates the wanted entries
(and removes the unwanted ones that are not data), state=absent removes all
of them in reverse order of kind, the data only with purge. Each entry has a
kind (group, dir, program, template, service, envvar, path, firewall), a path
(a name for group, service, envvar, path and firewall), wanted, and for
directories data (kept unless purge). acl lists the [user, rights] entries
added; protect turns inheritance off, so that only those entries apply: the
configuration, the secrets and each service's data are readable by
Administrators, SYSTEM and the one account that needs them. Standard library
only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.prefect_preset.prefect.plugins.filter.env_value import env_file

DOCUMENTATION = r"""
name: windows_artifacts
short_description: Everything an install puts on a Windows host
description:
  - From the Windows services (C(windows_services)) and the host's paths, accounts and
    roles, the group, directories and their ACLs, programs, files, environment, PATH
    entry, firewall rule and services an install makes and an uninstall removes.
options:
  _input:
    description: The services, wanted or left over, as C(windows_services) returns them.
    type: list
    elements: dict
    required: true
  host:
    description: >-
      server and worker (what the host runs); dirs (root, install, config, env, data,
      worker_data, logs) and sep (the path separator); the accounts administrators,
      system, users, server_account and worker_group; the paths venvs_dir, bin_dir,
      flows_dir, secrets_dir, worker_env_dir, launcher, config_file, wrapper,
      client_env_file, server_env_file; client_environment and server_environment (the env
      files' variables); server_service; firewall_rule, server_port and exposed (whether
      the server listens beyond loopback).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Create the directories
  ansible.windows.win_file:
    path: "{{ item.path }}"
    state: directory
  loop: "{{ services | prefect_preset.prefect.windows_artifacts(host)
            | selectattr('kind', 'eq', 'dir') }}"
"""

RETURN = r"""
_value:
  description: >-
    The group, directories and their ACLs, launcher, files, environment variable, PATH
    entry, firewall rule and services, in the order install creates them.
  type: list
  elements: dict
"""


def windows_artifacts(
    services: Iterable[Mapping[str, Any]], host: Mapping[str, Any]
) -> list[dict[str, Any]]:
    services = list(services)
    server = bool(host["server"])
    worker = bool(host["worker"])
    d = host["dirs"]
    sep = host["sep"]
    server_account = host["server_account"]
    worker_group = host["worker_group"]

    def allow(user: str, rights: str) -> dict[str, str]:
        return {"user": user, "rights": rights}

    admin = [allow(host["administrators"], "FullControl"), allow(host["system"], "FullControl")]
    server_read = [allow(server_account, "ReadAndExecute")] if server else []
    workers_read = [allow(worker_group, "ReadAndExecute")] if worker else []

    def directory(
        path: str, data: bool, wanted: bool, acl: list[dict[str, str]] | None = None
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {"kind": "dir", "path": path, "data": data, "wanted": wanted}
        if acl is not None:
            entry.update(protect=True, acl=acl)
        return entry

    def template(
        path: str,
        src: str,
        wanted: bool,
        template_vars: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "kind": "template",
            "path": path,
            "src": src,
            "secret": False,  # the env files with secrets are env_file()'s
            "template_vars": dict(template_vars or {}),
            "wanted": wanted,
        }

    members = [s["account"] for s in services if s["wanted"] and s.get("kind") == "worker"]
    out: list[dict[str, Any]] = [
        {"kind": "group", "name": worker_group, "wanted": worker, "members": members}
    ]
    out += [
        directory(d["root"], True, True, [*admin, allow(host["users"], "ReadAndExecute")]),
        directory(d["install"], False, True),
        directory(host["venvs_dir"], False, True),
        directory(host["bin_dir"], False, True),
        directory(host["flows_dir"], False, True),
        directory(d["config"], False, True, admin + server_read + workers_read),
        directory(d["env"], False, True, admin),
        directory(host["secrets_dir"], False, True, admin),
        directory(host["worker_env_dir"], False, worker),
        directory(d["data"], True, server, [*admin, allow(server_account, "Modify")]),
        directory(d["worker_data"], True, worker, [*admin, allow(worker_group, "Modify")]),
        directory(d["logs"], True, True),
        directory(
            d["logs"] + sep + "server", True, server, [*admin, allow(server_account, "Modify")]
        ),
        directory(
            d["logs"] + sep + "workers", True, worker, [*admin, allow(worker_group, "Modify")]
        ),
        {"kind": "program", "path": host["launcher"], "src": "prefect-launch.py", "wanted": True},
        template(host["config_file"], "config.toml.j2", True),
        template(host["wrapper"], "prefect-wrapper.cmd.j2", True),
        # Each env file is read by the one account (or group) that needs it.
        {
            "kind": "template",
            "path": host["client_env_file"],
            "wanted": True,
            "acl": workers_read,
            **env_file(
                host["client_environment"],
                "Client credentials: read by prefect-launch for the worker services and by "
                f"{host['wrapper']}.",
            ),
        },
        {
            "kind": "template",
            "path": host["server_env_file"],
            "wanted": server,
            "acl": server_read,
            **env_file(
                host["server_environment"],
                "The server's secrets (database URL, credentials): read by prefect-launch for "
                f"the {host['server_service']} service only.",
            ),
        },
        {
            "kind": "envvar",
            "name": "PREFECT_PROFILES_PATH",
            "value": host["config_file"],
            "wanted": True,
        },
        {"kind": "path", "name": host["bin_dir"], "wanted": True},
        {
            "kind": "firewall",
            "name": host["firewall_rule"],
            "port": host["server_port"],
            "wanted": server and bool(host["exposed"]),
        },
    ]
    for service in services:
        if "env_file" in service:
            out.append(
                template(
                    service["env_file"],
                    "prefect-worker.env.j2",
                    service["wanted"],
                    template_vars={"instance": service.get("instance", {})},
                )
            )
        out.append({"kind": "service", "name": service["name"], "wanted": service["wanted"]})
    return out


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"windows_artifacts": windows_artifacts}
