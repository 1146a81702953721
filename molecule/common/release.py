"""The Prefect release the preset installs by default, read from preset.yaml (its one home),
and the Alembic heads of every tested release, from the locks' metadata (scripts/lock)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VERSION: str = yaml.safe_load((ROOT / "preset.yaml").read_text())["parameters"]["version"]["default"]
HEADS: dict[str, dict[str, str]] = {
    path.name.removeprefix("prefect-").removesuffix(".json"): json.loads(path.read_text())["alembic_heads"]
    for path in (ROOT / "roles" / "prefect" / "files" / "locks").glob("prefect-*.json")
}
