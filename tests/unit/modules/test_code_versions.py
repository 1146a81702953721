"""plugins/modules/code_versions.py on real directories, with a real process working in one.

The process is a `sleep` started with its working directory in a version, as a flow run
works in its version's directory; the module reads it from /proc/PID/cwd."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from module_harness import load_plugin, patch_module_args

cv = load_plugin("plugins/modules/code_versions.py", "prefect_code_versions")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def run(capsys: pytest.CaptureFixture[str], root: Path, keep: list[str],
        **more: Any) -> dict[str, Any]:
    with patch_module_args({"root": str(root), "keep": keep, **more}), \
            pytest.raises(SystemExit):
        cv.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "code" / "pipelines"
    for version in ("v1", "v2", "v3", "v4.partial"):
        (root / version / "flows").mkdir(parents=True)
        (root / version / "flows" / "jobs.py").write_text("X = 1\n", encoding="utf-8")
    return root


@pytest.fixture
def running_in(root: Path) -> Iterator[Path]:
    """A process working in v1/flows, as a run that started on v1."""
    cwd = root / "v1" / "flows"
    process = subprocess.Popen(["sleep", "60"], cwd=cwd)
    try:
        yield cwd
    finally:
        process.kill()
        process.wait()


def test_old_versions_go_the_current_and_one_a_process_runs_in_stay(
        capsys: pytest.CaptureFixture[str], root: Path, running_in: Path) -> None:
    got = run(capsys, root, ["v3"])
    assert got["changed"] is True
    assert got["removed"] == ["v2", "v4.partial"]
    assert got["in_use"] == ["v1"]
    assert sorted(p.name for p in root.iterdir()) == ["v1", "v3"]


def test_a_version_in_use_through_a_symlinked_root_stays(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, root: Path,
        running_in: Path) -> None:
    """/proc/PID/cwd is the real path; the root may be given through a symlink
    (an install_dir on a linked volume)."""
    linked = tmp_path / "linked"
    linked.symlink_to(root.parent)
    got = run(capsys, linked / "pipelines", ["v3"])
    assert got["in_use"] == ["v1"] and got["removed"] == ["v2", "v4.partial"]
    assert (root / "v1").is_dir()


def test_check_mode_says_what_would_go_and_removes_nothing(
        capsys: pytest.CaptureFixture[str], root: Path, running_in: Path) -> None:
    got = run(capsys, root, ["v3"], _ansible_check_mode=True)
    assert (got["changed"], got["removed"], got["in_use"]) == (True, ["v2", "v4.partial"],
                                                               ["v1"])
    assert sorted(p.name for p in root.iterdir()) == ["v1", "v2", "v3", "v4.partial"]


def test_nothing_to_remove_is_no_change(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    root = tmp_path / "only"
    (root / "v3").mkdir(parents=True)
    got = run(capsys, root, ["v3"])
    assert (got["changed"], got["removed"], got["in_use"]) == (False, [], [])
    assert (root / "v3").is_dir()


def test_a_source_no_longer_declared_goes_with_its_root(capsys: pytest.CaptureFixture[str],
                                                        root: Path) -> None:
    got = run(capsys, root, [])
    assert got["removed"] == ["v1", "v2", "v3", "v4.partial", "."]
    assert not root.exists() and root.parent.is_dir()


def test_the_root_stays_while_a_process_runs_in_it(capsys: pytest.CaptureFixture[str],
                                                   root: Path, running_in: Path) -> None:
    got = run(capsys, root, [])
    assert got["removed"] == ["v2", "v3", "v4.partial"] and got["in_use"] == ["v1"]
    assert sorted(p.name for p in root.iterdir()) == ["v1"]


def test_files_beside_the_versions_are_left_and_keep_the_root(
        capsys: pytest.CaptureFixture[str], root: Path) -> None:
    (root / "README").write_text("not a version\n", encoding="utf-8")
    got = run(capsys, root, [])
    assert got["removed"] == ["v1", "v2", "v3", "v4.partial"]
    assert [p.name for p in root.iterdir()] == ["README"]


def test_a_root_that_does_not_exist_is_no_change(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    got = run(capsys, tmp_path / "absent", [])
    assert (got["changed"], got["removed"], got["in_use"]) == (False, [], [])


def test_in_use_matches_the_directory_and_below_it_only() -> None:
    assert cv.in_use("/c/p/v1", {"/c/p/v1"})
    assert cv.in_use("/c/p/v1", {"/c/p/v1/flows/sub"})
    assert not cv.in_use("/c/p/v1", {"/c/p/v10", "/c/p", "/"})

