"""flows_plan: flows as code checked whole, before any change, and planned.

    sources | prefect_preset.prefect.flows_plan(declared, work_pools, variables, secrets,
                                                concurrency_limits, code_dir, secret_values)

``sources`` are the flow_source module's results (one per entry of ``flows``,
in order); ``declared`` the ``flows`` parameter itself. The answer:

- ``errors``: every problem, each naming the item and what is accepted - a
  source that cannot be read, an invalid cron or timezone, an entrypoint whose
  file or function does not exist at that ref, parameters the flow does not
  accept, a work pool not declared, two deployments with one name, a secret
  given in plain ``variables``, names Prefect would refuse;
- ``deployments``: what the server_objects module applies, each pointing at
  the code by a path that includes the version (CODE_DIR/SOURCE/VERSION);
- ``sources``: what to ship: name, version, archive (on the controller) and
  the pools whose workers need it;
- ``notes``: what was read and not applied (prefect.yaml's build, push, pull).

Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: flows_plan
short_description: Check flows as code before any change, and plan what to ship and apply
description:
  - Combines what flow_source read of each code source with the work pools, variables,
    secrets and concurrency limits, returns every problem and, when there is none, the
    deployments to apply and the code to ship.
options:
  _input:
    description: The flow_source results, one per item of O(declared).
    type: list
    elements: dict
    required: true
  declared:
    description: The flows parameter (name, git, ref, path, deployments).
    type: list
    elements: dict
    required: true
  work_pools:
    description: The work pools (with their defaults).
    type: list
    elements: dict
    required: true
  variables:
    description: Prefect variables to declare.
    type: dict
    required: true
  secrets:
    description: Secret blocks to declare (name to value).
    type: dict
    required: true
  concurrency_limits:
    description: Global concurrency limits (name, limit, active).
    type: list
    elements: dict
    required: true
  code_dir:
    description: Where the sources land on the hosts (install_dir/code).
    type: str
    required: true
  secret_values:
    description: Other secrets of the play (credentials, passwords) no variable may hold.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Check and plan flows as code
  ansible.builtin.set_fact:
    plan: >-
      {{ read.results | prefect_preset.prefect.flows_plan(prefect_flows, prefect_work_pools,
           prefect_variables, prefect_secrets, prefect_concurrency_limits,
           '/opt/prefect/code', []) }}
"""

RETURN = r"""
_value:
  description: errors, deployments, sources, notes.
  type: dict
"""

SECRET_NAME = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|credential|private[_-]?key)", re.I
)
BLOCK_NAME = re.compile(r"^[a-z0-9-]+$")
VARIABLE_NAME = re.compile(r"^[a-z0-9_-]{1,255}$")
SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
LIMIT_NAME = re.compile(r"^[^/%&><]+$")
# The variable in which server_objects records the Secret blocks and limits it made
# (module_utils/objects.py LEDGER): declared as a plain variable, it would be overwritten.
LEDGER = "prefect-preset-objects"


def parameter_schema(accepts: list[str], required: list[str]) -> dict[str, Any]:
    """The deployment's parameter schema from the flow's parameter names (their types are not
    known without running the code, which the preset never does): a field for each in the UI."""
    return {
        "type": "object",
        "title": "Parameters",
        "properties": {name: {"title": name, "position": i} for i, name in enumerate(accepts)},
        "required": list(required),
    }


def _pools(work_pools: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(p["name"]) for p in work_pools]


def _check_deployment(deployment: dict[str, Any], pools: list[str], where: str) -> list[str]:
    errors = list(deployment.get("problems") or [])
    if not deployment["work_pool"]:
        if len(pools) == 1:
            deployment["work_pool"] = pools[0]
        else:
            errors.append(f"{where}: give work_pool (one of {', '.join(pools) or 'no pool'})")
    elif deployment["work_pool"] not in pools:
        errors.append(f"{where}: work_pool {deployment['work_pool']} is not declared in work_pools "
                      f"({', '.join(pools) or 'none'})")
    if deployment.get("flow_name") and not deployment.get("var_kwargs"):
        unknown = sorted(set(deployment["parameters"]) - set(deployment.get("accepts") or []))
        if unknown:
            accepted = ", ".join(deployment.get("accepts") or []) or "none"
            errors.append(f"{where}: the flow {deployment['flow_name']} takes no parameter "
                          f"{', '.join(unknown)} (it takes {accepted})")
    return errors


def flows_plan(
    sources: Iterable[Mapping[str, Any]],
    declared: Iterable[Mapping[str, Any]],
    work_pools: Iterable[Mapping[str, Any]],
    variables: Mapping[str, Any],
    secrets: Mapping[str, Any],
    concurrency_limits: Iterable[Mapping[str, Any]],
    code_dir: str,
    secret_values: Iterable[str] | None = None,
) -> dict[str, Any]:
    pools = _pools(work_pools)
    errors: list[str] = []
    notes: list[str] = []
    deployments: list[dict[str, Any]] = []
    shipped: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    declared = list(declared)
    sources = list(sources)
    seen_sources: set[str] = set()
    for index, item in enumerate(declared):
        name = str(item.get("name", ""))
        if not SOURCE_NAME.match(name):
            errors.append(
                f"flows[{index}].name {name!r}: letters, digits, '_', '.', '-' (a directory name)"
            )
        if name in seen_sources:
            errors.append(f"flows[{index}]: two code sources named {name}")
        seen_sources.add(name)
    for item, source in zip(declared, sources, strict=True):
        name = str(item.get("name", ""))
        # Registered under failed_when: false, a failed read has failed: false and
        # no version; its msg says why.
        if source.get("failed") or "version" not in source:
            errors.append(f"flows {name}: {source.get('msg', 'could not be read')}")
            continue
        errors += list(source.get("problems") or [])
        notes += list(source.get("notes") or [])
        path = f"{code_dir}/{name}/{source['version']}"
        used: list[str] = []
        for deployment in source.get("deployments") or []:
            deployment = dict(deployment)
            where = f"flows {name} deployment {deployment['name']}"
            errors += _check_deployment(deployment, pools, where)
            if deployment["name"] in names:
                errors.append(f"{where}: a deployment named {deployment['name']} is declared twice "
                              f"(also in flows {names[deployment['name']]})")
            names[deployment["name"]] = name
            if deployment["work_pool"]:
                used.append(deployment["work_pool"])
            deployments.append({
                key: deployment[key] for key in (
                    "name", "flow_name", "entrypoint", "work_pool", "work_queue", "schedules",
                    "parameters", "tags", "description", "concurrency_limit", "job_variables",
                    "paused")
            } | {"path": path, "version": source["version"], "source": name,
                 "parameter_openapi_schema": parameter_schema(deployment.get("accepts") or [],
                                                              deployment.get("required") or [])})
        shipped.append({"name": name, "version": source["version"],
                        "archive": source.get("archive", ""), "path": path,
                        "pools": sorted(set(used))})

    hidden = {str(v) for v in [*(secret_values or []), *secrets.values()] if str(v)}
    for name, value in variables.items():
        if not VARIABLE_NAME.match(str(name)):
            errors.append(f"variables {name}: Prefect variable names are lowercase letters, "
                          "digits, "
                          "'_' and '-' (at most 255)")
        if str(name) == LEDGER:
            errors.append(f"variables {name}: the preset keeps its record of the Secret blocks "
                          "and concurrency limits it made in this variable; choose another name")
        if SECRET_NAME.search(str(name)) or (str(value) in hidden):
            errors.append(f"variables {name}: looks like a secret (its name, or a value given as a "
                          "secret elsewhere); give it in secrets, which become Secret blocks")
    for name in secrets:
        if not BLOCK_NAME.match(str(name)):
            suggestion = re.sub(r"[^a-z0-9-]+", "-", str(name).lower()).strip("-")
            errors.append(f"secrets {name}: Secret block names are lowercase letters, digits "
                          "and '-' "
                          f"(e.g. {suggestion})")
    limit_names: set[str] = set()
    for index, limit in enumerate(concurrency_limits):
        name = str(limit.get("name", ""))
        if not name or not LIMIT_NAME.match(name):
            errors.append(f"concurrency_limits[{index}].name {name!r}: a name without / % & > <")
        if name in limit_names:
            errors.append(f"concurrency_limits: {name} is declared twice")
        limit_names.add(name)
    return {"errors": errors, "deployments": deployments, "sources": shipped, "notes": notes}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"flows_plan": flows_plan}
