"""The README's parameter table is the one `preset show` prints from preset.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from preset.cli import main

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_parameter_table_matches_preset_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "prefect", "--format", "markdown"]) == 0
    generated = capsys.readouterr().out.strip()
    match = re.search(r"<!-- parameters:start -->\n(.*?)\n<!-- parameters:end -->", README.read_text(), re.S)
    assert match, "README lacks the parameters markers"
    assert match.group(1).strip() == generated, (
        "README's parameter table is stale: paste `preset show prefect --format markdown`"
    )
