"""The role's constraint_errors filter (pattern/min/max at run time)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "prefect"


@pytest.fixture(scope="module")
def plugin() -> ModuleType:
    path = ROLE.parents[1] / "plugins" / "filter" / "constraint_errors.py"
    spec = importlib.util.spec_from_file_location("constraint_errors", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def constraints() -> list[dict[str, Any]]:
    data = yaml.safe_load((ROLE / "vars" / "constraints.yml").read_text())
    return list(data["__prefect_constraints"])


@pytest.fixture(scope="module")
def defaults() -> dict[str, Any]:
    return dict(yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()))


def test_registered_as_a_filter(plugin: ModuleType) -> None:
    filters = plugin.FilterModule().filters()
    assert filters["constraint_errors"] is plugin.constraint_errors


def test_defaults_satisfy_the_constraints(
    plugin: ModuleType, constraints: Any, defaults: Any
) -> None:
    assert plugin.constraint_errors(constraints, defaults) == []


def test_every_violation_is_reported(plugin: ModuleType, constraints: Any, defaults: Any) -> None:
    values = dict(
        defaults,
        prefect_server_port=70000,
        prefect_wait_timeout=1,
        prefect_user="Bad User",
        prefect_version="3.8",
        prefect_work_pools=[{"name": "ok"}, {"name": "bad name", "concurrency_limit": -1}],
    )
    assert plugin.constraint_errors(constraints, values) == [
        "prefect_version: '3.8' does not match the pattern '[0-9]+\\.[0-9]+\\.[0-9]+'",
        "prefect_user: 'Bad User' does not match the pattern '[a-z_][a-z0-9_-]{0,31}'",
        "prefect_server_port: 70000 is above the maximum 65535",
        "prefect_work_pools[1].name: 'bad name' does not match the pattern "
        "'[A-Za-z0-9][A-Za-z0-9_.-]{0,62}'",
        "prefect_work_pools[1].concurrency_limit: -1 is below the minimum 0",
        "prefect_wait_timeout: 1 is below the minimum 5",
    ]


def test_strings_from_extra_vars_are_compared_as_integers(plugin: ModuleType) -> None:
    rule = [{"param": "p", "path": "p", "min": 1, "max": 10}]
    assert plugin.constraint_errors(rule, {"p": "10"}) == []
    assert plugin.constraint_errors(rule, {"p": "11"}) == [
        "p: '11' is above the maximum 10"
    ]
    assert plugin.constraint_errors(rule, {"p": "ten"}) == ["p: 'ten' is not an integer"]


def test_missing_and_null_values_are_skipped(plugin: ModuleType, constraints: Any) -> None:
    values = {"prefect_server_port": None, "prefect_work_pools": [{"name": None}, "x"]}
    assert plugin.constraint_errors(constraints, values) == []


def test_dict_option_and_secret(plugin: ModuleType) -> None:
    rules = [{"param": "d", "path": "d.k", "option": "k", "pattern": "[a-z]+", "secret": True}]
    assert plugin.constraint_errors(rules, {"d": {"k": "S3CRET"}}) == [
        "d.k: the value does not match the pattern '[a-z]+'"
    ]
