"""The preset the tool carries: found in a wheel or a checkout, checked for damage,
never shadowed by an older copy of itself; and the collections path that makes its
role and plugins the ones Ansible loads."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from preset import ansible_env, bundle
from preset.cli import main
from preset.errors import ManifestError
from preset.manifest import load_manifest


def _fake_wheel(tmp_path: Path) -> Path:
    """A package dir with a _bundle holding a copy of this repository's collection."""
    package = tmp_path / "site-packages" / "preset"
    root = package / "_bundle"
    for rel in ("preset.yaml", "galaxy.yml", "meta/runtime.yml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, root / rel)
    shutil.copytree(ROOT / "plugins", root / "plugins")
    (root / "roles" / "prefect" / "tasks").mkdir(parents=True)
    (root / "roles" / "prefect" / "tasks" / "main.yml").write_text("---\n[]\n")
    return package


def test_wheel_bundle_is_found_and_used(tmp_path: Path) -> None:
    package = _fake_wheel(tmp_path)
    found = bundle.locate(package)
    assert (found.origin, found.root) == ("wheel", package / "_bundle")
    assert found.manifest().collection == "prefect_preset.prefect"


def test_checkout_is_the_bundle_when_there_is_no_wheel_copy() -> None:
    found = bundle.locate(ROOT / "src" / "preset")
    assert (found.origin, found.root) == ("checkout", ROOT)


def test_no_bundle_and_no_checkout_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"carries no preset: .*_bundle does not exist"):
        bundle.locate(tmp_path / "site-packages" / "preset")


@pytest.mark.parametrize("damage", ["preset.yaml", "plugins", "roles/prefect/tasks/main.yml"])
def test_damaged_bundle_names_what_is_missing(tmp_path: Path, damage: str) -> None:
    package = _fake_wheel(tmp_path)
    target = package / "_bundle" / damage
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(ManifestError) as raised:
        bundle.locate(package)
    message = str(raised.value)
    assert f"at {package / '_bundle'} is damaged: missing" in message
    assert damage.split("/")[0] in message and "reinstall" in message


def test_older_copy_of_the_carried_preset_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    text = (ROOT / "preset.yaml").read_text()
    current = load_manifest(ROOT / "preset.yaml")
    (old / "preset.yaml").write_text(text.replace(f"version: {current.version}", "version: 0.0.1"))
    with pytest.raises(ManifestError) as raised:
        bundle.check_not_older(load_manifest(old / "preset.yaml"), current)
    message = str(raised.value)
    assert f"'prefect' 0.0.1 at {old} is older than the {current.version}" in message


def test_run_refuses_an_older_copy_on_preset_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old"
    old.mkdir()
    current = load_manifest(ROOT / "preset.yaml")
    (old / "preset.yaml").write_text(
        (ROOT / "preset.yaml").read_text().replace(f"version: {current.version}", "version: 0.0.1")
    )
    book = tmp_path / "site.yml"
    book.write_text("- preset: prefect\n")
    assert main(["run", "--print", "--preset-path", str(old), str(book)]) == 2
    assert "is older than the" in capsys.readouterr().err


def test_run_refuses_a_preset_path_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "site.yml"
    book.write_text("- preset: prefect\n")
    assert main(["run", "--preset-path", str(tmp_path / "gone"), str(book)]) == 2
    assert capsys.readouterr().err == (
        f"preset: error: --preset-path {tmp_path / 'gone'} does not exist\n"
    )


def test_version_prints_tool_and_preset(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--version"])
    assert raised.value.code == 0
    tool, preset = capsys.readouterr().out.splitlines()
    version = load_manifest(ROOT / "preset.yaml").version
    assert tool.startswith("preset ")
    assert preset == f"preset prefect {version} (checkout: {ROOT})"


def test_staged_collections_come_first_and_link_the_preset(tmp_path: Path) -> None:
    manifest = load_manifest(ROOT / "preset.yaml")
    environ = {"ANSIBLE_COLLECTIONS_PATH": "/elsewhere"}
    with ansible_env.staged([manifest], environ) as staged:
        paths = staged.env["ANSIBLE_COLLECTIONS_PATH"].split(":")
        link = Path(paths[0]) / "ansible_collections" / "prefect_preset" / "prefect"
        assert link.resolve() == ROOT
        assert (link / "roles" / "prefect" / "tasks" / "main.yml").is_file()
        callbacks = staged.env["ANSIBLE_CALLBACK_PLUGINS"].split(":")
        assert Path(callbacks[0]) == ansible_env.CALLBACK_DIR
        assert (ansible_env.CALLBACK_DIR / "preset_summary.py").is_file()
        assert staged.env[ansible_env.SUMMARY_ENV] == str(staged.summary_file)
    assert not link.parent.exists()


def test_configured_paths_follow_ansible_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", "/a:/b")
    # ansible.constants reads the environment once per process; ask a fresh one.
    import subprocess
    import sys

    code = (
        "from preset.ansible_env import configured_paths as c; import os;"
        "print(c('COLLECTIONS_PATHS', 'ANSIBLE_COLLECTIONS_PATH', os.environ, ()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['/a', '/b']"


def _paths_in_a_fresh_process(cwd: Path, env: dict[str, str]) -> tuple[str, str]:
    """configured_paths for the collections, and whether ansible.constants was imported.
    The machine's own /etc/ansible/ansible.cfg, if any, is left out of the search (cwd's
    nonexistent system.cfg stands in for it), so the answer does not depend on it."""
    import subprocess
    import sys

    code = (
        "import os, sys, pathlib; import preset.ansible_env as e;"
        "e.SYSTEM_ANSIBLE_CFG = pathlib.Path('system.cfg').resolve();"
        "print(e.configured_paths('COLLECTIONS_PATHS', 'ANSIBLE_COLLECTIONS_PATH', os.environ,"
        " ('~/d', '/e')));"
        "print('ansible.constants' in sys.modules)"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=cwd, env={**keep, **env})
    paths, imported = done.stdout.strip().splitlines()
    return paths, imported


def test_without_ansible_cfg_the_defaults_are_known_without_importing_ansible(
    tmp_path: Path,
) -> None:
    home = {"HOME": str(tmp_path)}
    assert _paths_in_a_fresh_process(tmp_path, home) == ("['~/d', '/e']", "False")
    with_env = {**home, "ANSIBLE_COLLECTIONS_PATH": "/a:/b"}
    assert _paths_in_a_fresh_process(tmp_path, with_env) == ("['/a', '/b']", "False")


def test_an_ansible_cfg_is_read_by_ansible_itself(tmp_path: Path) -> None:
    (tmp_path / "ansible.cfg").write_text("[defaults]\ncollections_path = /x:/y\n")
    paths, imported = _paths_in_a_fresh_process(tmp_path, {"HOME": str(tmp_path)})
    assert (paths, imported) == ("['/x', '/y']", "True")
    # the environment still wins over the file, as in Ansible
    env = {"HOME": str(tmp_path), "ANSIBLE_COLLECTIONS_PATH": "/a"}
    assert _paths_in_a_fresh_process(tmp_path, env)[0] == "['/a']"


def test_preload_callback_loads_ansible_cores_filters_and_tests_once() -> None:
    import importlib.util
    import sys

    path = ansible_env.CALLBACK_DIR / "preset_preload.py"
    spec = importlib.util.spec_from_file_location("preset_preload_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    callback = module.CallbackModule()
    assert callback.CALLBACK_NEEDS_ENABLED is False  # on for every `preset run`
    callback.v2_playbook_on_play_start(None)
    loaded = [name for name in sys.modules if name.startswith("ansible.plugins.filter.core_")]
    assert loaded, "ansible-core's core filters were not loaded in this process"
    callback.v2_playbook_on_play_start(None)  # a second play: nothing more to do
    assert [n for n in sys.modules if n.startswith("ansible.plugins.filter.core_")] == loaded
