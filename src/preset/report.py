"""What `preset run` says around Ansible's own output: one line before (what it is
about to do) and one line per host after (outcome and elapsed time)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from preset.manifest import Manifest
from preset.runner import RunOptions


def announcement(manifests: Sequence[Manifest], playbook: Path, options: RunOptions) -> str:
    """e.g. `preset: running prefect 0.2.0 from site.yml on localhost (local connection)`."""
    presets = ", ".join(f"{m.name} {m.version}".strip() for m in manifests) or "no preset"
    if options.inventory is None:
        where = "on localhost (local connection)"
    else:
        where = f"on the hosts of {options.inventory}"
    if options.limit:
        where += f", limited to {options.limit}"
    mode = "; check mode, nothing is changed" if options.check else ""
    diff = "; showing differences" if options.diff else ""
    return f"preset: running {presets} from {playbook.name} {where}{mode}{diff}"


def outcome(counters: dict[str, Any]) -> str:
    """failed, unreachable, changed or ok: the worst that happened on the host."""
    if counters.get("unreachable"):
        return "unreachable"
    if counters.get("failures"):
        return "failed"
    return "changed" if counters.get("changed") else "ok"


def host_lines(summary_file: Path) -> list[str]:
    """One line per host from the summary callback's file; none if it was not written."""
    try:
        data = json.loads(summary_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    lines = []
    for host, counters in sorted(data.get("hosts", {}).items()):
        detail = " ".join(
            f"{key}={counters.get(field, 0)}"
            for key, field in (
                ("ok", "ok"),
                ("changed", "changed"),
                ("failed", "failures"),
                ("unreachable", "unreachable"),
            )
        )
        lines.append(
            f"preset: {host}: {outcome(counters)} ({detail}) in {counters.get('seconds', 0):.1f} s"
        )
    return lines
