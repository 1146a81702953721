"""darwin_artifacts: everything an install puts on a macOS host, once.

    __prefect_darwin_jobs | prefect_preset.prefect.darwin_artifacts(host)

One list serves install and uninstall: install creates the wanted entries
(and removes the unwanted ones that are not data), state=absent removes all
of them in reverse order of kind, the data only with purge. Each entry has a
kind (group, user, dir, program, link, template, block, job), a path (a name
for group and user, the label's plist for job), wanted, and for directories
data (kept unless purge). In scope: system root owns what is not the
services' own; in scope: user the connecting user owns everything and no
account is made. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.prefect_preset.prefect.plugins.filter.env_value import env_file

DOCUMENTATION = r"""
name: darwin_artifacts
short_description: Everything an install puts on a macOS host
description:
  - From the launchd jobs (C(launchd_jobs)) and the host's paths, names and roles, the
    accounts, directories, programs, links, files, profile block and jobs an install makes
    and an uninstall removes.
options:
  _input:
    description: The launchd jobs, wanted or left over, as C(launchd_jobs) returns them.
    type: list
    elements: dict
    required: true
  host:
    description: >-
      system (scope system), server and worker (what the host runs); root (owner and group
      of root's files); users (server and worker, each [user, group]); dirs (install,
      config, data, worker_data, logs); the paths venvs_dir, bin_dir, flows_dir,
      secrets_dir, worker_env_dir, launcher, venv, target_venv, config_file, wrapper,
      client_env_file, server_env_file, profile_script, newsyslog_conf; client_environment
      and server_environment (the env files' variables); server_label; profile_marker and
      profile (the login shells' block, as rendered).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Create the directories
  ansible.builtin.file:
    path: "{{ item.path }}"
    state: directory
    mode: "{{ item.mode }}"
  loop: "{{ jobs | prefect_preset.prefect.darwin_artifacts(host)
            | selectattr('kind', 'eq', 'dir') }}"
"""

RETURN = r"""
_value:
  description: >-
    The accounts, directories, launcher, link, files, login-shell block and launchd jobs,
    in the order install creates them (uninstall removes them by kind, in reverse).
  type: list
  elements: dict
"""


def merge_directories(directories: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per path: a directory with two roles (in scope user config, data and
    worker data are all ~/.prefect) is wanted and data if either role makes it so."""
    merged: dict[str, dict[str, Any]] = {}
    for directory in directories:
        path = directory["path"]
        previous = merged.get(path)
        entry = {**directory, "kind": "dir"}
        if previous is not None:
            entry["wanted"] = previous["wanted"] or directory["wanted"]
            entry["data"] = previous["data"] or directory["data"]
        merged[path] = entry
    return list(merged.values())


def darwin_artifacts(
    jobs: Iterable[Mapping[str, Any]], host: Mapping[str, Any]
) -> list[dict[str, Any]]:
    system = bool(host["system"])
    server = bool(host["server"])
    worker = bool(host["worker"])
    user, group = host["users"]["server"]
    worker_user, worker_group = host["users"]["worker"]
    d = host["dirs"]
    # Owners exist only in scope system; in scope user the connecting user owns all.
    root = {"owner": host["root"][0], "group": host["root"][1]} if system else {}
    server_owner = {"owner": user, "group": group} if system else {}
    worker_owner = {"owner": worker_user, "group": worker_group} if system else {}
    secret_mode = "0640" if system else "0600"

    out: list[dict[str, Any]] = []
    if system:
        out += [
            {"kind": "group", "name": group, "wanted": server},
            {"kind": "group", "name": worker_group, "wanted": worker},
            {
                "kind": "user",
                "name": user,
                "group": group,
                "home": d["data"],
                "comment": "Prefect server",
                "wanted": server,
            },
            {
                "kind": "user",
                "name": worker_user,
                "group": worker_group,
                "home": d["worker_data"],
                "comment": "Prefect workers and their flow runs",
                "wanted": worker,
            },
        ]

    def directory(
        owner: Mapping[str, str], path: str, mode: str, data: bool, wanted: bool
    ) -> dict[str, Any]:
        return {**owner, "path": path, "mode": mode, "data": data, "wanted": wanted}

    out += merge_directories(
        [
            directory(root, d["install"], "0755", False, True),
            directory(root, host["venvs_dir"], "0755", False, True),
            directory(root, host["bin_dir"], "0755", False, True),
            directory(root, host["flows_dir"], "0755", False, True),
            directory(
                root, d["config"], "0755", d["config"] in (d["data"], d["worker_data"]), True
            ),
            directory(root, host["secrets_dir"], "0700", False, True),
            directory(root, host["worker_env_dir"], "0755", False, worker),
            directory(server_owner, d["data"], "0700", True, server),
            directory(worker_owner, d["worker_data"], "0700", True, worker),
            directory(root, d["logs"], "0755", True, True),
            directory(server_owner, d["logs"] + "/server", "0750", True, server),
            directory(worker_owner, d["logs"] + "/workers", "0750", True, worker),
        ]
    )

    def template(
        path: str,
        src: str,
        mode: str,
        wanted: bool,
        template_vars: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            **root,
            "kind": "template",
            "path": path,
            "src": src,
            "mode": mode,
            "secret": False,  # the env files with secrets are env_file()'s
            "template_vars": dict(template_vars or {}),
            "wanted": wanted,
        }

    def readable_by(group_name: str) -> dict[str, str]:
        return {"group": group_name} if system else {}

    def secrets(path: str, wanted: bool, reader: str, entry: dict[str, Any]) -> dict[str, Any]:
        # In scope system root owns it and the one group that needs it reads it.
        return {
            **root,
            "kind": "template",
            "path": path,
            "mode": secret_mode,
            "wanted": wanted,
            **entry,
        } | readable_by(reader)

    profile = str(host["profile"])
    if not system:
        # A user's own install puts its commands first on the user's PATH.
        profile += f'\nPATH="{host["bin_dir"]}:$PATH"\nexport PATH'
    out += [
        {
            **root,
            "kind": "program",
            "path": host["launcher"],
            "src": "prefect-launch.py",
            "mode": "0755",
            "wanted": True,
        },
        {"kind": "link", "path": host["venv"], "src": host["target_venv"], "wanted": True},
        template(host["config_file"], "config.toml.j2", "0644", True),
        template(host["wrapper"], "prefect-wrapper.sh.j2", "0755", True),
        secrets(
            host["client_env_file"],
            True,
            worker_group,
            env_file(
                host["client_environment"],
                "Client credentials: read by prefect-launch for the worker jobs and by "
                f"{host['wrapper']}.",
            ),
        ),
        secrets(
            host["server_env_file"],
            server,
            group,
            env_file(
                host["server_environment"],
                "The server's secrets (database URL, credentials): read by prefect-launch for "
                f"{host['server_label']} only.",
            ),
        ),
        {
            "kind": "block",
            "path": host["profile_script"],
            "marker": host["profile_marker"],
            "wanted": True,
            "block": profile,
        },
    ]
    if system:
        out.append(template(host["newsyslog_conf"], "prefect-newsyslog.conf.j2", "0644", True))
    for job in jobs:
        if "env_file" in job:
            out.append(
                template(
                    job["env_file"],
                    "prefect-worker.env.j2",
                    secret_mode,
                    job["wanted"],
                    template_vars={"instance": job.get("instance", {})},
                )
                | readable_by(worker_group)
            )
        out.append(
            template(
                job["plist"],
                job.get("template", ""),
                "0644",
                job["wanted"],
                template_vars={"job": job},
            )
        )
        out.append(
            {"kind": "job", "name": job["label"], "path": job["plist"], "wanted": job["wanted"]}
        )
    return out


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"darwin_artifacts": darwin_artifacts}
