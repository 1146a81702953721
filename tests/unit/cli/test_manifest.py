"""preset.yaml loading, manifest checks and the preset search path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from conftest import FAKE_MANIFEST, make_preset
from preset.errors import ManifestError, PresetNotFoundError
from preset.manifest import (
    Manifest,
    find_preset,
    find_project_root,
    load_manifest,
    search_dirs,
    version_key,
)
from preset.validate import validate_with


def test_real_manifest_loads_every_parameter_in_order(
    prefect_manifest: Manifest, preset_root: Path
) -> None:
    raw = yaml.safe_load((preset_root / "preset.yaml").read_text())
    assert prefect_manifest.name == "prefect"
    assert prefect_manifest.role == preset_root / "roles" / "prefect"
    assert prefect_manifest.role.is_absolute()
    assert prefect_manifest.variable("server_port") == "prefect_server_port"
    assert [p.name for p in prefect_manifest.parameters] == list(raw["parameters"])


def test_real_manifest_nested_options(prefect_manifest: Manifest) -> None:
    pools = prefect_manifest.parameter("work_pools")
    assert pools is not None and pools.elements == "dict"
    name = pools.option("name")
    assert name is not None and name.required and not name.has_default
    secret = prefect_manifest.parameter("secret_settings")
    assert secret is not None and secret.secret


def test_every_default_passes_its_own_validation(prefect_manifest: Manifest) -> None:
    defaults = {p.name: p.default for p in prefect_manifest.parameters if p.has_default}
    assert validate_with(prefect_manifest.parameters, defaults) == []


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("  port:\n    type: integer\n", "type: expected one of str, int"),
        ("  port:\n    type: int\n    default: 1\n    colour: red\n", "unknown field(s) colour"),
        ("  port:\n    type: int\n    required: true\n    default: 1\n", "cannot have a default"),
        ("  port:\n    type: int\n", "give a default or mark the parameter required"),
        (
            "  port:\n    type: str\n    default: a\n    pattern: '('\n",
            "invalid regular expression",
        ),
        ("  port:\n    type: int\n    default: 1\n    pattern: '[0-9]'\n", "only for type str"),
        ("  port:\n    type: str\n    default: a\n    min: 1\n", "min/max: only for type int"),
        ("  Port:\n    type: int\n    default: 1\n", "parameter names must match"),
    ],
)
def test_malformed_parameters_are_rejected(tmp_path: Path, patch: str, message: str) -> None:
    text = FAKE_MANIFEST.split("parameters:\n")[0] + "parameters:\n" + patch
    (tmp_path / "preset.yaml").write_text(text)
    with pytest.raises(ManifestError, match=r".*") as info:
        load_manifest(tmp_path / "preset.yaml")
    assert message in str(info.value)
    assert str(tmp_path / "preset.yaml") in str(info.value)


def test_missing_manifest_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "preset.yaml")


def test_search_dirs_order(tmp_path: Path) -> None:
    first, env_a, env_b, book, bundled = (
        tmp_path / n for n in ("first", "a", "b", "book", "bundled")
    )
    for directory in (first, env_a, env_b, bundled, book / "sub"):
        directory.mkdir(parents=True)
    environ = {"PRESET_PATH": os.pathsep.join([str(env_a), "", str(env_b)])}
    (book / "preset.yaml").write_text("name: y\n")
    dirs = search_dirs([first], environ, book / "sub", bundled)
    assert dirs == [first, env_a, env_b, book / "sub", book, bundled]


def test_search_dirs_drops_duplicates(tmp_path: Path) -> None:
    dirs = search_dirs([tmp_path, tmp_path], {"PRESET_PATH": str(tmp_path)}, tmp_path, tmp_path)
    assert dirs == [tmp_path.resolve()]


def test_search_dirs_refuses_paths_that_do_not_exist(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    with pytest.raises(PresetNotFoundError) as raised:
        search_dirs([gone], {"PRESET_PATH": str(tmp_path / "nope")}, None, None)
    assert raised.value.messages == (
        f"--preset-path {gone} does not exist",
        f"PRESET_PATH entry {tmp_path / 'nope'} does not exist",
    )


def test_collection_field_names_the_role_by_fqcn(tmp_path: Path) -> None:
    make_preset(
        tmp_path,
        FAKE_MANIFEST.replace("role: roles/demo", "collection: acme.demo\nrole: roles/demo"),
    )
    manifest = load_manifest(tmp_path / "preset.yaml")
    assert manifest.collection == "acme.demo"
    assert manifest.role_name == "acme.demo.demo"


def test_bad_collection_name_is_refused(tmp_path: Path) -> None:
    make_preset(
        tmp_path,
        FAKE_MANIFEST.replace("role: roles/demo", "collection: Acme-demo\nrole: roles/demo"),
    )
    with pytest.raises(ManifestError, match=r"collection: expected NAMESPACE\.NAME"):
        load_manifest(tmp_path / "preset.yaml")


@pytest.mark.parametrize(
    ("older", "newer"), [("0.1.0", "0.2.0"), ("0.9.9", "0.10.0"), ("1.2", "1.2.1"), ("", "0.0.1")]
)
def test_version_key_orders_releases(older: str, newer: str) -> None:
    assert version_key(older) < version_key(newer)


def test_find_project_root_walks_up(tmp_path: Path) -> None:
    (tmp_path / "preset.yaml").write_text("name: x\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project_root(deep) == tmp_path
    assert find_project_root(Path("/")) is None or (Path("/") / "preset.yaml").is_file()


def test_find_preset_first_match_wins(tmp_path: Path) -> None:
    one = make_preset(tmp_path / "one")
    two = make_preset(tmp_path / "two")
    assert find_preset("demo", [one, two]).root == one


def test_find_preset_in_subdirectory_named_after_it(tmp_path: Path) -> None:
    make_preset(tmp_path / "collection" / "demo")
    found = find_preset("demo", [tmp_path / "collection"])
    assert found.role == tmp_path / "collection" / "demo" / "roles" / "demo"


def test_unknown_preset_lists_found_presets_and_searched_dirs(tmp_path: Path) -> None:
    make_preset(tmp_path / "one")
    with pytest.raises(PresetNotFoundError) as info:
        find_preset("nginx", [tmp_path / "one", tmp_path / "empty"])
    message = str(info.value)
    assert "unknown preset 'nginx'" in message
    assert f"presets found: demo ({tmp_path / 'one' / 'preset.yaml'})" in message
    assert f"searched: {tmp_path / 'one'}, {tmp_path / 'empty'}" in message
    assert "--preset-path" in message
