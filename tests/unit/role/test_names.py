"""Names say what they are: a fact or a registered result never shadows a variable
of the role's vars or defaults files, so that reading a name's definition in
vars/ tells what a task sees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "prefect"


def _walk(tasks: list[dict[str, Any]] | None) -> Iterator[dict[str, Any]]:
    for task in tasks or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _walk(task.get(key))


def _set_by_tasks() -> dict[str, str]:
    """Every fact a task sets and every result a task registers -> the file that does."""
    names: dict[str, str] = {}
    for path in sorted((ROLE / "tasks").rglob("*.yml")):
        for task in _walk(yaml.safe_load(path.read_text(encoding="utf-8"))):
            facts = task.get("ansible.builtin.set_fact")
            if isinstance(facts, dict):
                names.update({name: str(path.relative_to(ROLE)) for name in facts if name != "cacheable"})
            if "register" in task:
                names[task["register"]] = str(path.relative_to(ROLE))
    return names


def _variables() -> set[str]:
    names: set[str] = set()
    for path in [*sorted((ROLE / "vars").glob("*.yml")), ROLE / "defaults" / "main.yml"]:
        names |= set(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return names


def test_no_fact_or_registered_result_shadows_a_variable() -> None:
    set_by_tasks = _set_by_tasks()
    assert len(set_by_tasks) > 100  # the walk finds the role's facts at all
    shadowing = {name: where for name, where in set_by_tasks.items() if name in _variables()}
    assert shadowing == {}


def test_every_internal_name_has_the_role_prefix() -> None:
    assert not [name for name in _set_by_tasks() if not name.startswith("__prefect_")]
    assert not [name for name in _variables() if not name.startswith(("__prefect_", "prefect_"))]
