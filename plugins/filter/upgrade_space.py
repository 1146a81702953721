"""upgrade_space: whether the disks have room for an upgrade's backup and migration, in numbers.

    needs | prefect_preset.prefect.upgrade_space(database_size, space, context)

Checked before anything stops. Each need is a dict: path (where the bytes go),
what (said in the message) and factor (bytes needed per byte of database).
``space`` is host_info's: path -> free bytes, device and the path measured.
Needs on one file system add up. The answer names, per file system short of
room, what needs how much, what is free, and the database's size.

Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DOCUMENTATION = r"""
name: upgrade_space
short_description: Whether an upgrade's backup and migration fit on the disks
description:
  - Adds up what each file system must hold (a backup, a migration's rebuilt tables) from
    the database's size and compares it with the free space host_info read.
options:
  _input:
    description: Needs - dicts of path, what (for the message) and factor (of the database's size).
    type: list
    elements: dict
    required: true
  size:
    description: The database's size in bytes.
    type: int
    required: true
  space:
    description: host_info's space - path to free, device, measured.
    type: dict
    required: true
  context:
    description: What is being done, for the message (e.g. "Upgrading from Prefect 3.8.8 to 3.9.1").
    type: str
"""

EXAMPLES = r"""
- name: Room for the upgrade?
  ansible.builtin.set_fact:
    room: >-
      {{ [{'path': '/var/lib/prefect/backups', 'what': 'the backup', 'factor': 1.0}]
         | prefect_preset.prefect.upgrade_space(db_size, host.space, 'Upgrading') }}
"""

RETURN = r"""
_value:
  description: ok, error (empty when ok), devices (per file system - path, needed, free).
  type: dict
"""

MIB = 1 << 20
# Kept free beyond what the numbers say: logs, the journal, a little growth meanwhile.
MARGIN = 64 * MIB


def mib(size: float) -> str:
    return f"{size / MIB:,.0f} MiB" if size >= MIB else f"{size / 1024:,.0f} KiB"


def upgrade_space(
    needs: Iterable[Mapping[str, Any]],
    size: int,
    space: Mapping[str, Mapping[str, Any]],
    context: str = "The upgrade",
) -> dict[str, Any]:
    devices: dict[Any, dict[str, Any]] = {}
    for need in needs:
        where = space.get(need["path"])
        if where is None:
            raise ValueError(f"upgrade_space: host_info read no space for {need['path']}")
        device = devices.setdefault(
            where["device"],
            {"path": need["path"], "measured": where["measured"], "free": int(where["free"]),
             "needed": MARGIN, "parts": []},
        )
        amount = int(size * float(need.get("factor", 1.0)))
        device["needed"] += amount
        device["parts"].append(f"{need['what']}: {mib(amount)}")
    short = [d for d in devices.values() if d["needed"] > d["free"]]
    error = " ".join(
        f"{context} needs {mib(d['needed'])} free on the file system of {d['path']} "
        f"({'; '.join(d['parts'])}; and {mib(MARGIN)} to spare), and it has {mib(d['free'])} free."
        for d in short
    )
    if error:
        error += f" The database is {mib(size)}."
    return {
        "ok": not short,
        "error": error,
        "devices": [
            {"path": d["path"], "needed": d["needed"], "free": d["free"]} for d in devices.values()
        ],
    }


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"upgrade_space": upgrade_space}
