"""Generated role files: drift against preset.yaml, content, validity for Ansible."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import make_preset
from preset import generate
from preset.cli import main
from preset.manifest import Manifest, load_manifest


def load(text: str) -> Any:
    return yaml.safe_load(text)


def test_committed_files_match_preset_yaml(
    preset_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["generate", "--check", "--manifest", str(preset_root / "preset.yaml")])
    assert code == 0, capsys.readouterr().err + "\nrun `preset generate` and commit the result"


def test_check_reports_drift_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = make_preset(tmp_path / "p")
    manifest = str(base / "preset.yaml")
    assert main(["generate", "--manifest", manifest]) == 0
    assert main(["generate", "--check", "--manifest", manifest]) == 0
    defaults = base / "roles/demo/defaults/main.yml"
    before = defaults.read_text()
    (base / "preset.yaml").write_text(
        (base / "preset.yaml").read_text().replace("default: 80", "default: 81")
    )
    capsys.readouterr()
    assert main(["generate", "--check", "--manifest", manifest]) == 1
    err = capsys.readouterr().err
    assert "roles/demo/defaults/main.yml is out of date" in err
    assert "roles/demo/meta/argument_specs.yml is out of date" in err
    assert "constraints.yml" not in err
    assert defaults.read_text() == before


def test_generate_without_manifest_uses_the_nearest_preset_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = make_preset(tmp_path / "p")
    (base / "sub").mkdir()
    monkeypatch.chdir(base / "sub")
    assert main(["generate"]) == 0
    assert "wrote roles/demo/vars/constraints.yml" in capsys.readouterr().out


def test_rendering_is_deterministic(prefect_manifest: Manifest) -> None:
    assert generate.generated_files(prefect_manifest) == generate.generated_files(prefect_manifest)


def test_defaults_hold_every_top_level_default(prefect_manifest: Manifest) -> None:
    text = generate.render_defaults(prefect_manifest)
    assert text.startswith("---\n# Generated from preset.yaml")
    assert "do not edit by hand" in text
    assert load(text) == {f"prefect_{p.name}": p.default for p in prefect_manifest.parameters}


def test_argument_specs(prefect_manifest: Manifest) -> None:
    spec = load(generate.render_argument_specs(prefect_manifest))["argument_specs"]["main"]
    assert spec["description"] == prefect_manifest.description
    assert spec["short_description"]
    options = spec["options"]
    assert list(options) == [f"prefect_{p.name}" for p in prefect_manifest.parameters]
    assert options["prefect_server_port"] == {
        "type": "int",
        "required": False,
        "default": 4200,
        "description": "TCP port of the server (UI at /, API at /api).",
    }
    assert options["prefect_log_level"]["choices"][0] == "DEBUG"
    assert options["prefect_ca_bundle"]["type"] == "path"
    assert options["prefect_extra_index_urls"]["elements"] == "str"
    assert options["prefect_secret_settings"]["no_log"] is True
    pools = options["prefect_work_pools"]
    assert pools["elements"] == "dict"
    assert pools["options"]["name"] == {
        "type": "str",
        "required": True,
        "description": "Work pool name; also the worker unit instance (prefect-worker@NAME).",
    }
    assert "no_log" not in options["prefect_settings"]


def test_argument_specs_are_accepted_by_ansible(prefect_manifest: Manifest) -> None:
    arg_spec = pytest.importorskip("ansible.module_utils.common.arg_spec")
    spec = load(generate.render_argument_specs(prefect_manifest))["argument_specs"]["main"]
    validator = arg_spec.ArgumentSpecValidator(spec["options"])
    defaults = load(generate.render_defaults(prefect_manifest))
    assert validator.validate(defaults).error_messages == []
    bad = dict(defaults, prefect_state="gone", prefect_work_pools=[{"type": "process"}])
    errors = " ".join(validator.validate(bad).error_messages)
    assert "prefect_state" in errors and "name" in errors


def test_constraints_cover_pattern_min_max(prefect_manifest: Manifest) -> None:
    data = load(generate.render_constraints(prefect_manifest))
    constraints = data["__prefect_constraints"]
    assert {
        "param": "prefect_server_port",
        "path": "server_port",
        "min": 1,
        "max": 65535,
    } in constraints
    assert {
        "param": "prefect_work_pools",
        "path": "work_pools[].name",
        "option": "name",
        "pattern": "[A-Za-z0-9][A-Za-z0-9_.-]{0,62}",
    } in constraints
    expected = {
        p.name
        for p in prefect_manifest.parameters
        if p.pattern or p.min is not None or p.max is not None
    }
    assert expected <= {c["path"] for c in constraints}
    assert data["__prefect_constraint_values"]["prefect_server_port"] == "{{ prefect_server_port }}"


def test_secret_constraints_are_marked(demo_manifest: Manifest) -> None:
    constraints = load(generate.render_constraints(demo_manifest))["__demo_constraints"]
    assert {
        "param": "demo_token",
        "path": "token",
        "pattern": "[A-Z0-9]*",
        "secret": True,
    } in constraints


@pytest.mark.parametrize(
    "render",
    [generate.render_defaults, generate.render_argument_specs, generate.render_constraints],
)
def test_output_is_lint_friendly(prefect_manifest: Manifest, render: Any) -> None:
    text = render(prefect_manifest)
    assert text.startswith("---\n")
    assert max(len(line) for line in text.splitlines()) <= 160
    assert " yes" not in text and ": True" not in text and ": False" not in text
    yamllint = pytest.importorskip("yamllint.linter")
    config = pytest.importorskip("yamllint.config").YamlLintConfig(
        "extends: default\nrules:\n  line-length: {max: 160}\n"
        "  comments: {min-spaces-from-content: 1}\n"
        "  indentation: {spaces: 2, indent-sequences: true}\n"
    )
    problems = list(yamllint.run(text, config))
    assert problems == [], [str(p) for p in problems]


def test_quoted_where_yaml_would_retype(tmp_path: Path) -> None:
    base = make_preset(
        tmp_path / "p",
        text=(
            "name: q\nrole: roles/demo\nparameters:\n"
            "  a:\n    type: str\n    default: 'yes'\n    description: x\n"
            "  b:\n    type: str\n    default: '0640'\n    description: x\n"
            "  c:\n    type: str\n    default: '1.10'\n    description: x\n"
            "  d:\n    type: str\n    default: 'null'\n    description: x\n"
        ),
    )
    text = generate.render_defaults(load_manifest(base / "preset.yaml"))
    assert load(text) == {"q_a": "yes", "q_b": "0640", "q_c": "1.10", "q_d": "null"}


def test_write_creates_missing_directories(tmp_path: Path) -> None:
    base = make_preset(tmp_path / "p")
    shutil.rmtree(base / "roles")
    manifest = load_manifest(base / "preset.yaml")
    written = generate.write(generate.generated_files(manifest))
    assert len(written) == 3 and all(p.is_file() for p in written)
    assert generate.write(generate.generated_files(manifest)) == []
