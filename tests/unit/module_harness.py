"""What the tests of the collection's modules share: loading a plugin from its
file, handing AnsibleModule its arguments on every supported ansible-core,
checking a module's DOCUMENTATION against the spec main() really builds, and
running a Prefect API module's main() against a fake server in place of
fetch_url."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import urllib.parse
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


__all__ = ["ROOT", "FakeApi", "FakeResponse", "api_response", "assert_options_match_spec",
           "fetch_url_for", "load_plugin", "module_kwargs", "patch_module_args", "run_api_module"]


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


def api_response(status: int, data: Any = None) -> tuple[int, bytes, str]:
    """(status, body, msg) as a fake server answers through fetch_url_for."""
    body = b"" if data is None else json.dumps(data).encode()
    return status, body, "OK" if status < 400 else f"HTTP Error {status}"


class FakeApi:
    """What every fake Prefect server shares: its answers, and the CSRF protection a
    server exposed beyond loopback enforces (GET /csrf-token?client=ID gives a token;
    a request that changes something without the token's two headers is refused 403;
    a server without it answers the token request 422)."""

    CHANGES: tuple[str, ...] = ("POST", "PUT", "PATCH", "DELETE")

    def __init__(self, api_url: str, csrf: bool = False) -> None:
        self.api_url = api_url
        self.csrf = csrf
        self.csrf_client: str | None = None
        self.csrf_requests: list[str] = []

    _resp = staticmethod(api_response)

    def csrf_answer(self, method: str, url: str, headers: Any) -> tuple[int, bytes, str] | None:
        """The answer of the CSRF layer, or None when the request passes it."""
        if url.startswith(self.api_url + "/csrf-token?client="):
            assert method == "GET"
            self.csrf_requests.append(url)
            if not self.csrf:
                return self._resp(422, {"detail": "CSRF protection is disabled."})
            self.csrf_client = urllib.parse.parse_qs(url.split("?", 1)[1])["client"][0]
            return self._resp(200, {"token": "t0k3n", "client": self.csrf_client})
        if self.csrf and method in self.CHANGES:
            expected = {"Prefect-Csrf-Token": "t0k3n", "Prefect-Csrf-Client": self.csrf_client}
            if {k: (headers or {}).get(k) for k in expected} != expected:
                return self._resp(403, {"detail": "Invalid CSRF token or client identifier."})
        return None


class FakeResponse:
    """What fetch_url returns for an answer below 400: read() gives the body."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def read(self) -> bytes:
        return self._body

    def close(self) -> None:
        pass


def fetch_url_for(fake: Any, seen_headers: list[dict[str, str]]) -> Any:
    """A fetch_url replacement serving fake(method, url, payload, headers) -> (status,
    body, msg), or a refused connection when fake is None; records the headers sent."""

    def fetch_url(module: Any, url: str, data: Any = None, headers: Any = None,
                  method: Any = None, **kw: Any) -> tuple[Any, dict[str, Any]]:
        seen_headers.append(dict(headers or {}))
        if fake is None:
            return None, {"status": -1, "url": url,
                          "msg": "Request failed: <urlopen error [Errno 111] Connection refused>"}
        payload = json.loads(data) if data else None
        status, body, msg = fake(method, url, payload, headers)
        if status >= 400:
            return None, {"status": status, "url": url, "msg": msg, "body": body}
        return FakeResponse(body), {"status": status, "url": url, "msg": msg}

    return fetch_url


def run_api_module(module: ModuleType, api_utils: ModuleType, args: dict[str, Any], fake: Any,
                   capsys: Any, check_mode: bool = False) -> tuple[int, dict[str, Any],
                                                                    list[dict[str, str]]]:
    """main() of a module that talks to Prefect through api_utils.fetch_url: its exit
    code, its JSON result and the headers of every request."""
    seen: list[dict[str, str]] = []
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with (patch_module_args(args),
          mock.patch.object(api_utils, "fetch_url", fetch_url_for(fake, seen)),
          pytest.raises(SystemExit) as exc):
        module.main()
    return exc.value.code, json.loads(capsys.readouterr().out), seen
