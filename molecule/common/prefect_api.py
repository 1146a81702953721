"""Helpers the molecule scenarios' tests share: the Prefect API of a test host,
called with curl inside the host (loopback, its own credentials, and Prefect's
CSRF token when the server enforces it), Python with the host's Prefect as an
administrator runs it, and a unit's journal for messages."""

from __future__ import annotations

import json
import shlex
import time
import uuid
from typing import Any


class Api:
    """GET/POST against a host's Prefect API with curl, as an administrator would."""

    def __init__(self, host: Any, base: str = "http://127.0.0.1:4200/api", auth: str | None = None):
        self.host = host
        self.base = base
        self.auth = auth
        self._csrf: list[str] | None = None

    def _curl(self, method: str, path: str, body: Any = None, headers: list[str] | None = None) -> Any:
        # A busy server (SQLite "database is locked") answers 503: waited out for
        # a minute, as long as Prefect's own client waits (five waits, 62 s).
        args = ["curl", "-fsS", "--retry", "12", "--retry-delay", "5", "-X", method]
        if self.auth:
            args += ["-u", self.auth]
        for header in headers or []:
            args += ["-H", header]
        if body is not None:
            args += ["-H", "content-type: application/json", "-d", json.dumps(body)]
        cmd = self.host.run(" ".join(shlex.quote(a) for a in [*args, self.base + path]))
        assert cmd.rc == 0, f"{method} {path}: {cmd.stderr}"
        return json.loads(cmd.stdout) if cmd.stdout.strip() else None

    def _csrf_headers(self) -> list[str]:
        if self._csrf is None:
            client = f"molecule-{uuid.uuid4()}"
            answer = self.host.run(
                f"curl -s {'-u ' + shlex.quote(self.auth) if self.auth else ''} "
                f"-w '\\n%{{http_code}}' '{self.base}/csrf-token?client={client}'"
            )
            body, _, status = answer.stdout.rpartition("\n")
            self._csrf = (
                [f"Prefect-Csrf-Token: {json.loads(body)['token']}", f"Prefect-Csrf-Client: {client}"]
                if status == "200"
                else []
            )
        return self._csrf

    def get(self, path: str) -> Any:
        return self._curl("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._curl("POST", path, body, self._csrf_headers())

    def delete(self, path: str) -> Any:
        return self._curl("DELETE", path, None, self._csrf_headers())

    def status(self, path: str, auth: str | None = "same") -> str:
        """The HTTP status of a GET, with these credentials, other ones, or none (None)."""
        creds = self.auth if auth == "same" else auth
        user = f"-u {shlex.quote(creds)}" if creds else ""
        return self.host.run(f"curl -s -o /dev/null -w '%{{http_code}}' {user} {self.base}{path}").stdout


    def run_deployment(self, deployment_id: str, parameters: dict | None = None) -> str:
        """Start a run of a deployment now; its id."""
        return self.post(f"/deployments/{deployment_id}/create_flow_run", {"parameters": parameters or {}})["id"]

    def wait_run(self, run_id: str, states: set[str], timeout: float = 180, every: float = 2) -> dict[str, Any]:
        """The flow run once its state type is one of states; fails after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get(f"/flow_runs/{run_id}")
            if run["state_type"] in states:
                return run
            assert time.monotonic() < deadline, f"run {run_id} still {run['state_name']} after {timeout} s"
            time.sleep(every)


def journal(host: Any, unit: str, lines: int = 40) -> str:
    return host.run(f"journalctl -u {unit} --no-pager -n {lines}").stdout


def admin_python(host: Any, code: str) -> str:
    """The last line code prints, run by the host's Prefect Python as root with the
    client credentials (/etc/prefect/client.env) and the host's profile."""
    script = (
        "set -a; . /etc/prefect/client.env; set +a; "
        "PREFECT_PROFILES_PATH=/etc/prefect/config.toml PREFECT_HOME=/root/.prefect-test "
        f"/opt/prefect/venv/bin/python -c {shlex.quote(code)}"
    )
    out = host.run(f"bash -c {shlex.quote(script)}")
    assert out.rc == 0, out.stdout + out.stderr
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
