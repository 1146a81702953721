"""prefect-wait-ready (the API server unit's ExecStartPost): waits until GET
/api/ready answers 200, and fails naming the URL and the last answer."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles/prefect/files/prefect-wait-ready.py"
spec = importlib.util.spec_from_file_location("prefect_wait_ready", SCRIPT)
assert spec and spec.loader
wait_ready = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wait_ready)


class _Server:
    """An API that answers 503 for the first `busy` requests, then 200."""

    def __init__(self, busy: int):
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                status = 503 if outer.requests <= busy else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b'{"message": "OK"}')

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/ready"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server_factory() -> Iterator[type[_Server]]:
    made: list[_Server] = []

    def make(busy: int) -> _Server:
        server = _Server(busy)
        made.append(server)
        return server

    yield make  # type: ignore[misc]
    for server in made:
        server.httpd.shutdown()


def test_returns_once_the_server_is_ready(server_factory) -> None:
    server = server_factory(busy=2)
    assert wait_ready.main(["--timeout", "10", server.url]) == 0
    assert server.requests == 3


def test_fails_naming_the_url_and_the_last_answer(server_factory, capsys) -> None:
    server = server_factory(busy=1000)
    assert wait_ready.main(["--timeout", "1", server.url]) == 1
    err = capsys.readouterr().err
    assert server.url in err and "HTTP 503" in err and "within 1 s" in err


def test_a_closed_port_is_waited_for_then_reported(capsys) -> None:
    assert wait_ready.main(["--timeout", "0.5", "http://127.0.0.1:9/api/ready"]) == 1
    assert "was not ready within" in capsys.readouterr().err
