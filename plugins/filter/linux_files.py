"""linux_files: the directories, programs and files the role manages on a Linux host.

    host | prefect_preset.prefect.linux_files

What a host gets follows from what it runs: every host that runs Prefect gets
the configuration, the `prefect` command and the client's credentials; a
server or services host its secrets file; the server, the services and each
worker instance their units; the host that migrates the database the
scheduled backup; a Redis or HAProxy host their configuration and drop-ins.
host_info reads each of them, and only those that differ are written (a
no-op converge writes nothing). Each file says what a change of it restarts
through restarts' triggers. Standard library only.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from ansible_collections.prefect_preset.prefect.plugins.filter.env_value import env_file

DOCUMENTATION = r"""
name: linux_files
short_description: The directories, programs and files the role manages on a Linux host
description:
  - From what the host runs and where things live, the directories (path, owner, group,
    mode), the preset's programs (src, dest) and the files rendered from templates (dest,
    src, mode, group, secret, unit, validate, template_vars) of a Linux host.
options:
  _input:
    description: >-
      roles (server, services, worker, backend, runs_prefect, redis, lb, backup: whether
      this host runs each, backup being the scheduled backup), users (server and worker,
      each [user, group]), dirs (config, secrets, install, venvs, bin, flows, data,
      worker_env, pools, worker_data, haproxy), paths (config_file, wrapper,
      profile_script, client_env_file, server_env_file, unit_dir, backup_env_file,
      redis_conf, redis_dropin, haproxy_cfg, haproxy_dropin, haproxy_pem, drain_script,
      wait_ready, backup_program, backup_source, target_python, install_dir),
      environments (client and server: the env files' variables), backup_command,
      tls (a certificate is given), and instances (the worker instances' files);
      environments and instances only for the templates.
    type: dict
    required: true
  part:
    description: The part to plan - directories, programs or templates.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The files this host gets
  ansible.builtin.debug:
    msg: "{{ host | prefect_preset.prefect.linux_files('templates') | map(attribute='dest') }}"
"""

RETURN = r"""
_value:
  description: The directories, programs or templates, in the order they are made.
  type: list
  elements: dict
"""

ROOT_DIR = {"owner": "root", "group": "root", "mode": "0755"}


def _env_file(dest: str, variables: Mapping[str, Any], purpose: str) -> dict[str, Any]:
    # root:root 0600: systemd reads it before the unit drops privileges.
    return {"dest": dest, "mode": "0600", **env_file(variables, purpose)}


def _unit(path: str, src: str) -> dict[str, Any]:
    return {"dest": path, "src": src, "mode": "0644", "unit": True}


def directories(host: Mapping[str, Any]) -> list[dict[str, Any]]:
    roles, d = host["roles"], host["dirs"]
    user, group = host["users"]["server"]
    worker_user, worker_group = host["users"]["worker"]
    out = [{"path": d["config"], **ROOT_DIR}, {"path": d["secrets"], **ROOT_DIR, "mode": "0700"}]
    if roles["runs_prefect"]:
        out += [{"path": d[key], **ROOT_DIR} for key in ("install", "venvs", "bin", "flows")]
    if roles["backend"]:
        out.append({"path": d["data"], "owner": user, "group": group, "mode": "0700"})
    if roles["worker"]:
        out += [
            {"path": d["worker_env"], **ROOT_DIR},
            {"path": d["pools"], **ROOT_DIR},
            {"path": d["worker_data"], "owner": worker_user, "group": worker_group, "mode": "0700"},
        ]
    if roles["lb"]:
        out.append({"path": d["haproxy"], **ROOT_DIR, "group": "haproxy", "mode": "0750"})
    if roles["redis"]:
        out.append({"path": posixpath.dirname(host["paths"]["redis_dropin"]), **ROOT_DIR})
    if roles["lb"]:
        out.append({"path": posixpath.dirname(host["paths"]["haproxy_dropin"]), **ROOT_DIR})
    return out


def programs(host: Mapping[str, Any]) -> list[dict[str, Any]]:
    roles, paths = host["roles"], host["paths"]
    out = []
    if roles["worker"]:
        out.append({"src": "prefect-worker-drain.py", "dest": paths["drain_script"]})
    if roles["server"]:
        out.append({"src": "prefect-wait-ready.py", "dest": paths["wait_ready"]})
    if roles["backup_program"]:
        out.append({"src": paths["backup_source"], "dest": paths["backup_program"]})
    return out


def templates(host: Mapping[str, Any]) -> list[dict[str, Any]]:
    roles, paths, env = host["roles"], host["paths"], host["environments"]
    units = paths["unit_dir"]
    out: list[dict[str, Any]] = []
    if roles["runs_prefect"]:
        out += [
            {
                "dest": paths["config_file"],
                "src": "config.toml.j2",
                "mode": "0644",
                # Prefect itself refuses a profile it cannot read, before it is written.
                "validate": f"/usr/bin/env PREFECT_HOME={paths['install_dir']}"
                f" PREFECT_PROFILES_PATH=%s {paths['target_python']}"
                " -W error::UserWarning -m prefect config view",
            },
            {"dest": paths["wrapper"], "src": "prefect-wrapper.sh.j2", "mode": "0755"},
            {"dest": paths["profile_script"], "src": "prefect-profile.sh.j2", "mode": "0644"},
            _env_file(
                paths["client_env_file"],
                env["client"],
                "Client credentials: read by the worker units (EnvironmentFile=) and by "
                f"{paths['wrapper']} for root.",
            ),
        ]
    if roles["backend"]:
        out.append(
            _env_file(
                paths["server_env_file"],
                env["server"],
                "The server's secrets (database URL, credentials): read by "
                "prefect-server.service and prefect-services.service only.",
            )
        )
    if roles["server"]:
        out.append(_unit(f"{units}/prefect-server.service", "prefect-server.service.j2"))
    if roles["services"]:
        out.append(_unit(f"{units}/prefect-services.service", "prefect-services.service.j2"))
    if roles["worker"]:
        out.append(_unit(f"{units}/prefect-worker@.service", "prefect-worker@.service.j2"))
    if roles["backup"]:
        out += [
            _unit(f"{units}/prefect-backup.service", "prefect-backup.service.j2"),
            _unit(f"{units}/prefect-backup.timer", "prefect-backup.timer.j2"),
        ]
        if host["backup_command"]:
            out.append(
                _env_file(
                    paths["backup_env_file"],
                    {"PREFECT_BACKUP_POST_COMMAND": host["backup_command"]},
                    "The command prefect-backup.service runs after each good "
                    "backup (backup_command).",
                )
            )
    if roles["redis"]:
        out += [
            {
                "dest": paths["redis_conf"],
                "src": "redis.conf.j2",
                "mode": "0640",
                "group": "redis",
                "secret": True,
            },
            _unit(paths["redis_dropin"], "redis-server.conf.j2"),
        ]
    if roles["lb"]:
        out += [
            {
                "dest": paths["haproxy_cfg"],
                "src": "haproxy.cfg.j2",
                "mode": "0640",
                "group": "haproxy",
                "validate": "/usr/sbin/haproxy -c -q -f %s",
            },
            _unit(paths["haproxy_dropin"], "haproxy.service.conf.j2"),
        ]
        if host["tls"]:
            out.append(
                {
                    "dest": paths["haproxy_pem"],
                    "src": "haproxy.pem.j2",
                    "mode": "0640",
                    "group": "haproxy",
                    "secret": True,
                }
            )
    return out + [dict(instance) for instance in host["instances"]]


PARTS = {"directories": directories, "programs": programs, "templates": templates}


def linux_files(host: Mapping[str, Any], part: str) -> list[dict[str, Any]]:
    """One part: the directories and the programs need only the layout; the templates
    also the environments and the worker instances (read later in a run)."""
    if part not in PARTS:
        raise ValueError(f"linux_files: unknown part {part!r} (accepted: {', '.join(PARTS)})")
    return PARTS[part](host)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"linux_files": linux_files}
