"""constraint_errors: the pattern/min/max rules argument_specs cannot express.

    __prefect_constraints | constraint_errors(__prefect_constraint_values)

`constraints` is the generated list in vars/constraints.yml; `values` maps variable
names to their values. Returns one message per violation; missing or null values are
skipped (argument_specs handles required and types). Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any


def _check(rule: Mapping[str, Any], path: str, value: Any) -> list[str]:
    shown = "the value" if rule.get("secret") else repr(value)
    errors = []
    if "pattern" in rule and not re.fullmatch(rule["pattern"], str(value)):
        errors.append(f"{path}: {shown} does not match the pattern '{rule['pattern']}'")
    if "min" in rule or "max" in rule:
        try:
            number = int(value)
        except (TypeError, ValueError):
            return [*errors, f"{path}: {shown} is not an integer"]
        if "min" in rule and number < rule["min"]:
            errors.append(f"{path}: {shown} is below the minimum {rule['min']}")
        if "max" in rule and number > rule["max"]:
            errors.append(f"{path}: {shown} is above the maximum {rule['max']}")
    return errors


def _targets(rule: Mapping[str, Any], value: Any) -> list[tuple[str, Any]]:
    """(dotted path, value) pairs a rule applies to."""
    param, option = rule["param"], rule.get("option")
    if option is None:
        return [(param, value)]
    if isinstance(value, Mapping):
        return [(f"{param}.{option}", value.get(option))]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [
            (f"{param}[{i}].{option}", item.get(option))
            for i, item in enumerate(value)
            if isinstance(item, Mapping)
        ]
    return []


def constraint_errors(
    constraints: Sequence[Mapping[str, Any]], values: Mapping[str, Any]
) -> list[str]:
    """Every violated rule as `prefect_server_port: 70000 is above the maximum 65535`."""
    errors: list[str] = []
    for rule in constraints:
        value = values.get(rule["param"])
        for path, target in [] if value is None else _targets(rule, value):
            if target is not None:
                errors.extend(_check(rule, path, target))
    return errors


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"constraint_errors": constraint_errors}
