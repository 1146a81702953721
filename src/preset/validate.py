"""Check a preset step's `with:` mapping against the manifest's parameters.

Values that Ansible will template at run time - strings containing `{{` or `{%`,
and tagged scalars such as `!vault` - cannot be checked here; they pass, and the
role checks them again at run time (argument_specs plus the constraints filter).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from preset.manifest import Parameter
from preset.yamlio import TaggedScalar

_MAX_SHOWN = 60


@dataclass(frozen=True)
class Problem:
    """One violation: the dotted path of the value and what is wrong with it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def validate_with(parameters: Sequence[Parameter], given: Mapping[Any, Any]) -> list[Problem]:
    """All problems of a `with:` mapping; parameters that are not given are fine."""
    return _check_keys(parameters, given, "", "parameter")


def is_templated(value: Any) -> bool:
    """True for values only Ansible can resolve (Jinja expressions, !vault, !unsafe)."""
    return isinstance(value, TaggedScalar) or (
        isinstance(value, str) and ("{{" in value or "{%" in value)
    )


def _check_keys(
    parameters: Sequence[Parameter],
    given: Mapping[Any, Any],
    prefix: str,
    kind: str,
    secret: bool = False,
) -> list[Problem]:
    names = [p.name for p in parameters]
    by_name = {p.name: p for p in parameters}
    problems: list[Problem] = []
    for key, value in given.items():
        path = f"{prefix}{key}"
        param = by_name.get(key) if isinstance(key, str) else None
        if param is None:
            problems.append(Problem(path, _unknown(str(key), names, kind)))
        else:
            problems.extend(check_value(param, value, path, secret))
    for param in parameters:
        if param.required and param.name not in given:
            problems.append(Problem(f"{prefix}{param.name}", f"required {kind} missing"))
    return problems


def _unknown(key: str, names: Sequence[str], kind: str) -> str:
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown {kind}; {hint}accepted: {', '.join(names)}"


def check_value(param: Parameter, value: Any, path: str, secret: bool = False) -> list[Problem]:
    """Problems of one value: type, choices, pattern, bounds, list elements, dict options."""
    secret = secret or param.secret
    if is_templated(value) or (value is None and param.has_default and param.default is None):
        return []  # templated: the role checks it; null: the parameter's "unset" default
    if not _has_type(param.type, value) or not _satisfies(param, value):
        return [Problem(path, f"expected {expected(param)}, got {_got(param, value, secret)}")]
    if isinstance(value, list) and param.elements:
        return [
            p
            for i, item in enumerate(value)
            for p in _check_element(param, item, f"{path}[{i}]", secret)
        ]
    if isinstance(value, dict) and param.options:
        return _check_keys(param.options, value, f"{path}.", "option", secret)
    return []


def _check_element(param: Parameter, item: Any, path: str, secret: bool) -> list[Problem]:
    element = Parameter(name=param.name, type=param.elements or "str", options=param.options)
    return check_value(element, item, path, secret)


def _has_type(kind: str, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    expected_type = {"str": str, "path": str, "bool": bool, "list": list, "dict": dict}[kind]
    return isinstance(value, expected_type)


def _satisfies(param: Parameter, value: Any) -> bool:
    if param.choices and value not in param.choices:
        return False
    if param.pattern is not None and not re.fullmatch(param.pattern, str(value)):
        return False
    if param.min is not None and value < param.min:
        return False
    return param.max is None or value <= param.max


def expected(param: Parameter) -> str:
    """What a parameter accepts, e.g. `int from 1 to 65535` or `one of present, absent`."""
    if param.choices:
        return "one of " + ", ".join(show(c) for c in param.choices)
    kind = f"list of {param.elements}" if param.elements else param.type
    if param.options:
        kind += " with options " + ", ".join(o.name for o in param.options)
    if param.pattern is not None:
        return f"{kind} matching '{param.pattern}'"
    if param.min is not None and param.max is not None:
        return f"{kind} from {param.min} to {param.max}"
    if param.min is not None:
        return f"{kind} >= {param.min}"
    if param.max is not None:
        return f"{kind} <= {param.max}"
    return kind


def type_name(value: Any) -> str:
    """The YAML-ish name of a value's type."""
    if value is None:
        return "null"
    names = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}
    return names.get(type(value), type(value).__name__)


def show(value: Any) -> str:
    """A short YAML-ish rendering of a value for messages: 70000, 'abc', true, null."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, bool) or value is None:
        text = {True: "true", False: "false", None: "null"}[value]
    elif isinstance(value, (int, float)):
        text = repr(value)
    else:
        text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _got(param: Parameter, value: Any, secret: bool) -> str:
    if secret:
        return f"{type_name(value)} (value hidden: secret)"
    if value is None or _has_type(param.type, value):
        return show(value)
    hint = ""
    if param.type in ("str", "path") and isinstance(value, (int, float, bool)):
        hint = " (quote it to pass a string)"
    return f"{type_name(value)} {show(value)}{hint}"
