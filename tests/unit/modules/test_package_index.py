"""plugins/modules/package_index.py against real HTTP indexes on loopback.

Each index is a small http.server thread: one speaking the PEP 691 JSON API,
one only PEP 503 HTML, one behind basic authentication."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from module_harness import load_plugin, patch_module_args

pi = load_plugin("plugins/modules/package_index.py", "prefect_package_index")

FILES = [
    ("prefect-3.9.1-py3-none-any.whl", "<3.16,>=3.11"),
    ("prefect-3.9.1.tar.gz", "<3.16,>=3.11"),
    ("prefect-3.9.1.dev5-py3-none-any.whl", "<3.16,>=3.11"),
    ("prefect-3.8.8-py3-none-any.whl", "<3.15,>=3.10"),
    ("prefect-2.20.27-py3-none-any.whl", ">=3.8"),
    ("prefect_aws-0.5.0-py3-none-any.whl", ">=3.9"),
]


class Index(BaseHTTPRequestHandler):
    style = "json"
    credentials: str | None = None

    def do_GET(self) -> None:
        if self.credentials:
            expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.end_headers()
                return
        if self.path.rstrip("/").endswith("/prefect"):
            if self.style == "json" and "json" in self.headers.get("Accept", ""):
                body = json.dumps({"meta": {"api-version": "1.0"}, "name": "prefect", "files": [
                    {"filename": f, "url": f, "hashes": {}, "requires-python": r} for f, r in FILES]})
                kind = "application/vnd.pypi.simple.v1+json"
            else:
                body = "<html><body>" + "".join(
                    f'<a href="../../f/{f}#sha256=0" data-requires-python="{r.replace(">", "&gt;").replace("<", "&lt;")}">{f}</a><br>'
                    for f, r in FILES) + "</body></html>"
                kind = "text/html"
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def serve(**attrs: Any) -> Iterator[str]:
    handler = type("Handler", (Index,), attrs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()


@pytest.fixture
def json_index() -> Iterator[str]:
    yield from serve(style="json")


@pytest.fixture
def html_index() -> Iterator[str]:
    yield from serve(style="html")


def run(capsys: pytest.CaptureFixture[str], **args: Any) -> dict[str, Any]:
    with patch_module_args({"name": "prefect", **args}), pytest.raises(SystemExit):
        pi.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("index", ["json_index", "html_index"])
def test_a_release_on_the_index_is_found_with_its_wheels_requires_python(request, capsys, index) -> None:
    url = request.getfixturevalue(index)
    got = run(capsys, version="3.9.1", index_url=url)
    assert got["found"] is True and got["changed"] is False
    assert got["requires_python"] == "<3.16,>=3.11"
    assert got["index"] == url
    assert got["newest"] == ["3.9.1", "3.8.8"]  # final 3.x releases only


def test_a_release_that_does_not_exist_is_not_found_and_the_newest_are_named(capsys, json_index) -> None:
    got = run(capsys, version="3.99.0", index_url=json_index)
    assert got["found"] is False and got["requires_python"] == ""
    assert got["newest"] == ["3.9.1", "3.8.8"]


def test_another_projects_files_do_not_count(capsys, json_index) -> None:
    assert run(capsys, version="0.5.0", index_url=json_index)["found"] is False


def test_the_extra_indexes_are_asked_too(capsys, json_index) -> None:
    for empty in serve(style="json"):
        got = run(capsys, version="3.9.1", index_url=empty + "/nothing-here", extra_index_urls=[json_index])
        assert got["found"] is True and got["index"] == json_index


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_returned(capsys) -> None:
    for url in serve(credentials="ci:s3cr:et"):
        with_credentials = url.replace("http://", "http://ci:s3cr%3Aet@")
        got = run(capsys, version="3.9.1", index_url=with_credentials)
        assert got["found"] is True
        assert got["index"] == url


def test_an_unreachable_index_fails_before_anything_saying_which(capsys) -> None:
    got = run(capsys, version="3.9.1", index_url="http://127.0.0.1:9/simple", timeout=3)
    assert got["failed"] is True
    assert "Cannot ask the package index whether prefect 3.9.1 exists" in got["msg"]
    assert "http://127.0.0.1:9/simple/prefect/" in got["msg"]


def test_file_version_reads_wheels_and_sdists() -> None:
    assert pi.file_version("prefect", "prefect-3.9.1-py3-none-any.whl") == "3.9.1"
    assert pi.file_version("prefect", "prefect-3.9.1.tar.gz") == "3.9.1"
    assert pi.file_version("prefect-redis", "prefect_redis-0.3.0-py3-none-any.whl") == "0.3.0"
    assert pi.file_version("prefect", "prefect_aws-0.5.0-py3-none-any.whl") is None
    assert pi.file_version("prefect", "README.txt") is None

