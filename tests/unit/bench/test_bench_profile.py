"""bench/run's profile of the cold converge: the callback that times each task, and
the rows that name the steps of 2 s or more beside their floor."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


bench = _load("bench_under_test", BENCH / "bench.py")
callback = _load("bench_profile_under_test", BENCH / "callbacks" / "bench_profile.py")


def test_a_step_run_twice_counts_once_with_both_times() -> None:
    run = [
        {"task": "Create the directories", "seconds": 1.5},
        {"task": "Create the directories", "seconds": 1.0},
        {"task": "Gathering Facts", "seconds": 0.5},
    ]
    rows = bench.profile_rows([run], total=10.0)
    assert rows[0] == "| Create the directories | 2.5 s | 25 % | not measured |"
    assert rows[-1] == "| the other 1 steps together | 0.5 s | 5 % | |"


def test_the_median_over_runs_decides_and_a_step_missing_from_a_run_counts_zero() -> None:
    runs = [
        [{"task": "Run the smoke flows", "seconds": 30.0}, {"task": "Upgrade", "seconds": 9.0}],
        [{"task": "Run the smoke flows", "seconds": 40.0}],
        [{"task": "Run the smoke flows", "seconds": 35.0}],
    ]
    rows = bench.profile_rows(runs, total=100.0)
    # Upgrade ran once in three: its median is 0, so it is not a large step.
    assert [row.split(" | ")[0] for row in rows] == [
        "| Run the smoke flows",
        "| the other 1 steps together",
    ]
    assert rows[0].startswith("| Run the smoke flows | 35.0 s | 35 % | about 3 s per run")


def test_a_floor_is_found_by_the_steps_name_without_its_version() -> None:
    run = [{"task": "Install Prefect from the lock (3.9.1)", "seconds": 12.0}]
    (row, _rest) = bench.profile_rows([run], total=24.0)
    assert "`uv pip install prefect` from a warm cache" in row
    assert "| 50 % |" in row


def test_the_steps_are_listed_largest_first() -> None:
    run = [{"task": f"step {n}", "seconds": float(n)} for n in range(1, 6)]
    rows = bench.profile_rows([run], total=15.0)
    assert [row.split(" | ")[0] for row in rows[:-1]] == ["| step 5", "| step 4", "| step 3", "| step 2"]


class _Task:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_name(self) -> str:
        return self.name


def test_the_callback_writes_each_task_in_order_without_the_role_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "profile.json"
    monkeypatch.setenv("BENCH_PROFILE_FILE", str(out))
    clock = iter([10.0, 12.5, 12.5, 13.0, 13.0, 20.0])
    monkeypatch.setattr(callback.time, "monotonic", lambda: next(clock))
    plugin: Any = callback.CallbackModule()
    plugin.v2_playbook_on_task_start(_Task("Gathering Facts"), False)
    plugin.v2_playbook_on_task_start(_Task("prefect_preset.prefect.prefect : Run the smoke flows"), False)
    plugin.v2_playbook_on_handler_task_start(_Task("prefect : Restart"))
    plugin.v2_playbook_on_stats(None)
    assert json.loads(out.read_text()) == [
        {"task": "Gathering Facts", "seconds": 2.5},
        {"task": "Run the smoke flows", "seconds": 0.5},
        {"task": "Restart", "seconds": 7.0},
    ]
