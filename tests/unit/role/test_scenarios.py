"""Every scenario file is read by molecule before anything runs.

Molecule substitutes environment variables in the whole of molecule.yml,
comments included: a lone dollar sign anywhere makes it refuse the file
("Invalid placeholder in string") and the scenario never starts. This reads
each file through molecule's own interpolator, with the variables the test
runner exports, and checks it against molecule's schema (tmpfs, say, must be a
list), so such a slip fails here in a second instead of in CI's slow tier."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = sorted((ROOT / "molecule").glob("*/molecule.yml"))

interpolation = pytest.importorskip("molecule.interpolation")
schema = pytest.importorskip("molecule.model.schema_v3")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.parent.name)
def test_molecule_reads_the_scenario_file(path: Path) -> None:
    env = dict(os.environ)
    env.setdefault("MOLECULE_PROJECT_DIRECTORY", str(ROOT))
    env.setdefault("PREFECT_COLLECTIONS_PATH", "/collections")
    interpolator = interpolation.Interpolator(
        interpolation.TemplateWithDefaults, env
    )
    text = interpolator.interpolate(path.read_text())
    config = yaml.safe_load(text)
    assert config["driver"]["name"] == "podman"
    # molecule's own schema check, which it runs before any action
    assert schema.validate(config) in (None, [], ""), path
    assert "$" not in str(config.get("platforms")), path


def test_there_are_scenarios() -> None:
    assert len(SCENARIOS) >= 6
