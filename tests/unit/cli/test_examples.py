"""Every example playbook under examples/ passes the preset tool's validation against
preset.yaml (types, choices, patterns, options of lists of mappings): an example that
drifted from the interface fails here, not in a user's first converge."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

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


PARAMETERS = {parameter.name for parameter in MANIFEST.parameters}


def _doc_blocks() -> list[tuple[str, str]]:
    """The YAML blocks of README.md and docs/*.md that users copy as parameters: whole
    playbooks and plays with `preset: prefect` tasks, and mappings of the preset's parameters, which
    are checked as the `with:` of a playbook."""
    blocks = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for number, block in enumerate(re.findall(r"```yaml\n(.*?)```", path.read_text(), re.S)):
            where = f"{path.relative_to(ROOT)}#{number}"
            data = yaml.safe_load(block)
            if isinstance(data, list) and "preset: prefect" in block:
                blocks.append((where, block))
            elif isinstance(data, dict) and data and set(data) <= PARAMETERS:
                blocks.append((where, yaml.safe_dump([{"preset": "prefect", "with": data}])))
    return blocks


DOC_BLOCKS = _doc_blocks()


@pytest.mark.parametrize("where, block", DOC_BLOCKS, ids=[where for where, _ in DOC_BLOCKS])
def test_the_playbooks_in_the_docs_validate(where: str, block: str, tmp_path: Path) -> None:
    playbook = tmp_path / "site.yml"
    playbook.write_text(block)
    translation = translate(load_playbook(playbook), where, lambda name: MANIFEST)
    assert translation.plays


def test_the_docs_show_playbooks() -> None:
    assert sum(where.startswith("README.md") for where, _ in DOC_BLOCKS) >= 2
    assert sum(where.startswith("docs/") for where, _ in DOC_BLOCKS) >= 12
