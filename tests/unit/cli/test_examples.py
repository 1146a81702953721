"""Every example playbook under examples/ passes the preset tool's validation against
preset.yaml (types, choices, patterns, options of lists of mappings): an example that
drifted from the interface fails here, not in a user's first converge."""

from __future__ import annotations

from pathlib import Path

import pytest

from preset.manifest import load_manifest
from preset.translate import translate
from preset.yamlio import load_playbook

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = load_manifest(ROOT / "preset.yaml")
PLAYBOOKS = sorted(p for p in (ROOT / "examples").glob("*.yml") if "preset:" in p.read_text())


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=[p.name for p in PLAYBOOKS])
def test_the_example_validates(playbook: Path) -> None:
    translation = translate(load_playbook(playbook), str(playbook), lambda name: MANIFEST)
    assert translation.plays


def test_there_are_examples() -> None:
    assert {"site.yml", "flows.yml", "backup.yml", "restore.yml", "upgrade.yml"} <= {p.name for p in PLAYBOOKS}
