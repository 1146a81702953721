"""What the tests of the collection's modules share: loading a plugin from its
file, handing AnsibleModule its arguments on every supported ansible-core,
and checking a module's DOCUMENTATION against the spec main() really builds."""

from __future__ import annotations

import contextlib
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[2]

try:  # ansible-core >= 2.19
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.17 / 2.18
    from ansible.module_utils import basic as _basic

    @contextlib.contextmanager  # type: ignore[no-redef]
    def patch_module_args(args: dict[str, Any] | None = None) -> Iterator[None]:
        data = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        with mock.patch.object(_basic, "_ANSIBLE_ARGS", data):
            yield


__all__ = ["ROOT", "assert_options_match_spec", "load_plugin", "module_kwargs", "patch_module_args"]


def load_plugin(relative: str, name: str) -> ModuleType:
    """A plugin file of the repository (plugins/..., roles/.../files/...) as a module."""
    spec = importlib.util.spec_from_file_location(name, str(ROOT / relative))
    assert spec is not None and spec.loader is not None, relative
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _CapturedError(Exception):
    pass


def module_kwargs(module: ModuleType) -> dict[str, Any]:
    """What main() hands AnsibleModule (argument_spec, supports_check_mode, ...)."""
    captured: dict[str, Any] = {}

    def fake_module(**kwargs: Any) -> None:
        captured.update(kwargs)
        raise _CapturedError

    with mock.patch.object(module, "AnsibleModule", fake_module), pytest.raises(_CapturedError):
        module.main()
    return captured


def assert_options_match_spec(options: dict[str, Any], spec: dict[str, Any]) -> None:
    """DOCUMENTATION's options say what the argument spec enforces, option by option."""
    assert set(options) == set(spec)
    for name, opt in options.items():
        arg = spec[name]
        assert opt["description"], name
        assert opt["type"] == arg.get("type", "str"), name
        assert bool(opt.get("required", False)) == bool(arg.get("required", False)), name
        assert opt.get("default") == arg.get("default"), name
        assert opt.get("choices") == arg.get("choices"), name
        assert opt.get("elements") == arg.get("elements"), name
        if arg.get("required"):
            assert "default" not in arg, name
