"""plugins/filter/release.py: which Prefect releases the preset runs, from the locks' metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from module_harness import ROOT, load_plugin

release_filter = load_plugin("plugins/filter/release.py", "prefect_filter_release")
release = release_filter.release
LOCKS = ROOT / "roles" / "prefect" / "files" / "locks"
OLDEST = "3.7.4"
RELEASES = [
    {"version": "3.8.8", "requires_python": "<3.15,>=3.10", "alembic_heads": {"sqlite": "a"}},
    {"version": "3.9.1", "requires_python": "<3.16,>=3.11", "alembic_heads": {"sqlite": "b"}},
    {"version": "3.7.8", "requires_python": "<3.15,>=3.10", "alembic_heads": {"sqlite": "c"}},
]


def test_a_tested_release_is_locked_with_its_metadata() -> None:
    got = release(RELEASES, "3.9.1", OLDEST)
    assert got["locked"] and not got["error"] and not got["warning"]
    assert got["tested"] == ["3.7.8", "3.8.8", "3.9.1"]
    assert got["newest"] == "3.9.1"
    assert got["requires_python"] == "<3.16,>=3.11"
    assert got["alembic_heads"] == {"sqlite": "b"}
    assert got["tested_requires"]["3.8.8"] == "<3.15,>=3.10"


def test_the_pythons_a_platform_tries_fit_the_release() -> None:
    assert release(RELEASES, "3.9.1", OLDEST)["python_minors"] == ["3.15", "3.14", "3.13", "3.12", "3.11"]
    assert release(RELEASES, "3.9.1", OLDEST)["python_min"] == "3.11"
    assert release(RELEASES, "3.8.8", OLDEST)["python_minors"][-1] == "3.10"
    assert "3.15" not in release(RELEASES, "3.8.8", OLDEST)["python_minors"]
    # An unlocked release is taken to need what the newest tested one needs.
    assert release(RELEASES, "3.9.7", OLDEST)["python_min"] == "3.11"


def test_an_untested_3x_release_installs_with_a_warning() -> None:
    got = release(RELEASES, "3.9.7", OLDEST)
    assert not got["locked"] and not got["error"]
    assert "3.9.7 is not a tested release" in got["warning"]
    assert "3.7.8, 3.8.8, 3.9.1" in got["warning"]
    assert got["requires_python"] == ""


@pytest.mark.parametrize(
    ("version", "says"),
    [
        ("2.20.0", "Prefect 2.20.0 is not supported"),
        ("4.0.0", "Prefect 4.0.0 is not supported"),
        ("3.7.3", "older than the preset supports"),
        ("3.0.0", "older than the preset supports"),
        ("3.9", "is not a Prefect release number"),
        ("v3.9.1", "is not a Prefect release number"),
    ],
)
def test_versions_the_preset_cannot_run_are_refused_naming_what_is_supported(version: str, says: str) -> None:
    got = release(RELEASES, version, OLDEST)
    assert says in got["error"]
    assert "from 3.7.4 on" in got["error"] and "3.7.8, 3.8.8, 3.9.1" in got["error"]
    assert not got["locked"]


def test_the_default_version_is_the_newest_lock() -> None:
    """Adding a release is scripts/lock plus the default: this fails until both agree."""
    import yaml

    default = yaml.safe_load((ROOT / "preset.yaml").read_text())["parameters"]["version"]["default"]
    metadata = [json.loads(p.read_text()) for p in sorted(LOCKS.glob("prefect-*.json"))]
    got = release(metadata, default, OLDEST)
    assert got["locked"], f"the default {default} has no lock in {LOCKS}"
    assert got["newest"] == default, f"the default {default} is not the newest lock ({got['newest']})"


def test_every_lock_has_its_metadata_and_inputs() -> None:
    locks = {p.name.removeprefix("prefect-").removesuffix(".txt") for p in LOCKS.glob("prefect-*.txt")}
    for version in locks:
        meta = json.loads((LOCKS / f"prefect-{version}.json").read_text())
        assert meta["version"] == version
        assert meta["requires_python"].count(">=") == 1, meta["requires_python"]
        assert set(meta["alembic_heads"]) == {"sqlite", "postgresql"}
        assert "job_configuration" in meta["process_job_template"]
        assert (LOCKS / f"prefect-{version}.in").read_text().count(f"prefect=={version}") == 1
        assert f"prefect=={version}\n" in (LOCKS / f"prefect-{version}.txt").read_text()


def test_the_3_9_1_lock_has_the_heads_the_release_ships() -> None:
    meta = json.loads(Path(LOCKS / "prefect-3.9.1.json").read_text())
    assert meta["alembic_heads"] == {"sqlite": "27d8f4e1a6c9", "postgresql": "91e2b8f3d6a4"}
