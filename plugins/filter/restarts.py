"""restarts: which services a converge restarts, reloads, starts, drains or stops.

    stale_files | prefect_preset.prefect.restarts(triggers, unit_files, instances, units,
                                                  present_workers, running_workers,
                                                  software_changed, services_stopped)

One answer to "which units restart when I change X" on a Linux host: the files
about to be written (stale_files), what each service is restarted by
(triggers: service -> the files it reads), whether the software changed (a new
virtualenv) and whether an upgrade or a restore stopped the services already.
A worker unit is drain-restarted only when it runs and its own files or the
shared ones changed; one that is not active and enabled is started; one the
host has but no pool wants any more is drained and removed.

Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: restarts
short_description: Which services the files a converge writes restart, reload, start or stop
description:
  - Returns one plan of what the service steps do on a Linux host, from the files about to
    change and the units' states read from the host.
options:
  _input:
    description: Paths of the files this converge writes (they differ from what is wanted).
    type: list
    elements: str
    required: true
  triggers:
    description: >-
      For each of server, services, workers, redis, haproxy, haproxy_reload and backup_timer,
      the files whose change restarts (or, for haproxy_reload, reloads) it.
    type: dict
    required: true
  unit_files:
    description: Paths of the systemd unit files and drop-ins the role writes.
    type: list
    elements: str
    required: true
  instances:
    description: The wanted worker instances (each with its unit name and its env file, dest).
    type: list
    elements: dict
    required: true
  units:
    description: The host's units as host_info read them (name -> active, enabled).
    type: dict
    required: true
  present_workers:
    description: Worker units the host has (loaded or enabled), wanted or not.
    type: list
    elements: str
    required: true
  running_workers:
    description: Worker units that are running (active, activating or reloading).
    type: list
    elements: str
    required: true
  software_changed:
    description: Whether this converge installed other software (a new virtualenv).
    type: bool
    default: false
  services_stopped:
    description: Whether an upgrade or a restore in this converge stops the services first.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: What changing the worker unit does
  ansible.builtin.debug:
    msg: >-
      {{ ['/etc/systemd/system/prefect-worker@.service']
         | prefect_preset.prefect.restarts(triggers, unit_files, instances, host.units,
                                           present, running) }}
"""

RETURN = r"""
_value:
  description: >-
    units_changed (a daemon-reload is needed); server, services, workers, redis, haproxy,
    haproxy_reload, backup_timer (bool each: restart, or reload for haproxy_reload);
    instances_changed (worker units whose own file changed); restart_units (running workers
    to drain-restart), start_units (workers to start), unwanted_units (workers to drain and
    remove), drained_units (every worker the step drains).
  type: dict
"""

SERVICES = ("server", "services", "workers", "redis", "haproxy", "haproxy_reload", "backup_timer")
# Services that also restart when the software changed, or that an upgrade or a
# restore stopped and must come back on the new software.
SOFTWARE = ("server", "services", "workers")
STOPPED = ("server", "services")


def restarts(
    stale_files: Iterable[str],
    triggers: Mapping[str, Iterable[str]],
    unit_files: Iterable[str],
    instances: Iterable[Mapping[str, Any]],
    units: Mapping[str, Mapping[str, Any]],
    present_workers: Iterable[str],
    running_workers: Iterable[str],
    software_changed: bool = False,
    services_stopped: bool = False,
) -> dict[str, Any]:
    stale = set(stale_files)
    unknown = set(triggers) - set(SERVICES)
    if unknown:
        raise ValueError(
            f"restarts: unknown services in triggers: {', '.join(sorted(unknown))} "
            f"(accepted: {', '.join(SERVICES)})"
        )
    plan: dict[str, Any] = {"units_changed": bool(stale & set(unit_files))}
    for service in SERVICES:
        plan[service] = (
            bool(stale & set(triggers.get(service) or []))
            or (bool(software_changed) and service in SOFTWARE)
            or (bool(services_stopped) and service in STOPPED)
        )
    wanted = [str(i["unit"]) for i in instances]
    running = set(running_workers)
    plan["instances_changed"] = [str(i["unit"]) for i in instances if i.get("dest") in stale]
    if services_stopped:
        # The upgrade or restore stopped every worker already: they only start.
        plan["restart_units"] = []
        plan["start_units"] = wanted
    else:
        plan["restart_units"] = [
            u
            for u in wanted
            if u in running and (plan["workers"] or u in plan["instances_changed"])
        ]
        plan["start_units"] = [
            u
            for u in wanted
            if (units.get(u) or {}).get("active") != "active"
            or (units.get(u) or {}).get("enabled") != "enabled"
        ]
    plan["unwanted_units"] = [u for u in dict.fromkeys(present_workers) if u not in wanted]
    plan["drained_units"] = plan["restart_units"] + [
        u for u in plan["unwanted_units"] if u in running
    ]
    return plan


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"restarts": restarts}
