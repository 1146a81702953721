"""Unit tests for plugins/modules/work_pool.py.

Fast and offline: the HTTP layer is replaced by FakePrefect, an in-memory
stand-in for the /api/work_pools endpoints that records every request.

A live test at the end runs against a real Prefect server when
PREFECT_TEST_API_URL is set (e.g. http://127.0.0.1:4299/api) and skips otherwise.
"""

import base64
import copy
import importlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from unittest import mock

import pytest
import yaml

from module_harness import FakeApi, FakeResponse, load_plugin, run_api_module

ROOT = Path(__file__).resolve().parents[3]
pwp = load_plugin("plugins/modules/work_pool.py", "prefect_work_pool")
# The logic the module and server_setup share.
pools = importlib.import_module("ansible_collections.prefect_preset.prefect.plugins.module_utils.work_pools")
# The collection's module_utils, where the HTTP layer (fetch_url) lives.
API_UTILS = sys.modules[pwp.PrefectApiError.__module__]

API = "http://127.0.0.1:4200/api"

PROCESS_TEMPLATE = {
    "job_configuration": {"command": "{{ command }}", "env": "{{ env }}"},
    "variables": {
        "type": "object",
        "properties": {
            "command": {"type": "string", "default": None},
            "env": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
}


# --- fakes

class FakePrefect(FakeApi):
    """request(method, url, payload) -> (status, body, msg), like FetchUrlTransport."""

    WRITES = ("POST", "PATCH", "DELETE")

    def __init__(self, pools=None, api_url=API):
        super().__init__(api_url)
        self.pools = {}
        self.calls = []
        for pool in pools or []:
            self.add(**pool)

    def add(self, name, **fields):
        pool = {
            "id": str(uuid.uuid4()),
            "created": "2026-01-01T00:00:00Z",
            "updated": "2026-01-01T00:00:00Z",
            "name": name,
            "description": None,
            "type": "process",
            "base_job_template": {},
            "is_paused": False,
            "concurrency_limit": None,
            "status": "NOT_READY",
            "default_queue_id": str(uuid.uuid4()),
            "storage_configuration": {},
            "active_slots": None,
        }
        pool.update(fields)
        if pool["is_paused"]:
            pool["status"] = "PAUSED"
        self.pools[name] = pool
        return pool

    @property
    def writes(self):
        return [c for c in self.calls if c[0] in self.WRITES]

    def __call__(self, method, url, payload=None, headers=None):
        refused = self.csrf_answer(method, url, headers)
        if refused is not None:
            return refused
        self.calls.append((method, url, copy.deepcopy(payload)))
        assert url.startswith(self.api_url + "/work_pools/"), url
        rest = url[len(self.api_url + "/work_pools/"):]
        name = urllib.request.unquote(rest)
        if method == "POST" and rest == "":
            if payload["name"] in self.pools:
                return self._resp(409, {"detail": "A work pool with this name already exists."})
            return self._resp(201, self.add(**payload))
        pool = self.pools.get(name)
        if pool is None:
            return self._resp(404, {"detail": f'Work pool "{name}" not found.'})
        if method == "GET":
            return self._resp(200, pool)
        if method == "PATCH":
            assert "type" not in payload and "name" not in payload
            pool.update(payload)
            if "is_paused" in payload:
                pool["status"] = "PAUSED" if payload["is_paused"] else "NOT_READY"
            return self._resp(204)
        if method == "DELETE":
            del self.pools[name]
            return self._resp(204)
        raise AssertionError(f"unexpected {method} {url}")


def params(**kw):
    p = dict(
        api_url=API, name="default", type="process", state="present",
        concurrency_limit=None, paused=None, description=None, base_job_template=None,
        api_auth_string=None, api_key=None, validate_certs=True, timeout=30,
    )
    p.update(kw)
    return p


def run(fake, check_mode=False, **kw):
    return pools.ensure_pool(pools.PrefectApi(fake.api_url, fake), params(**kw), check_mode=check_mode)


# --- present

def test_create_when_missing():
    fake = FakePrefect()
    res = run(fake, concurrency_limit=3, paused=True, description="d",
              base_job_template=PROCESS_TEMPLATE)
    assert res["changed"] is True
    posts = [c for c in fake.calls if c[0] == "POST"]
    assert len(posts) == 1
    assert posts[0][1] == API + "/work_pools/"
    assert posts[0][2] == {
        "name": "default", "type": "process", "concurrency_limit": 3, "is_paused": True,
        "description": "d", "base_job_template": PROCESS_TEMPLATE,
    }
    assert res["work_pool"]["id"] == fake.pools["default"]["id"]
    assert res["work_pool"]["status"] == "PAUSED"


def test_create_minimal_sends_only_name_and_type():
    fake = FakePrefect()
    res = run(fake)
    assert res["changed"] is True
    assert fake.writes == [("POST", API + "/work_pools/", {"name": "default", "type": "process"})]


def test_no_change_when_equal():
    fake = FakePrefect([dict(name="default", concurrency_limit=3, is_paused=True, description="d",
                             base_job_template=PROCESS_TEMPLATE)])
    # same template, different key order, must not count as a change
    reordered = json.loads(json.dumps(PROCESS_TEMPLATE, sort_keys=True))
    res = run(fake, concurrency_limit=3, paused=True, description="d", base_job_template=reordered)
    assert res["changed"] is False
    assert fake.writes == []
    assert [c[0] for c in fake.calls] == ["GET"]
    assert res["work_pool"] == fake.pools["default"]


def test_unmanaged_fields_are_left_alone():
    fake = FakePrefect([dict(name="default", concurrency_limit=7, is_paused=True,
                             description="by hand")])
    res = run(fake)
    assert res["changed"] is False
    assert fake.writes == []


def test_patch_only_differing_fields():
    fake = FakePrefect([dict(name="default", concurrency_limit=3, is_paused=False, description="d",
                             base_job_template=PROCESS_TEMPLATE)])
    res = run(fake, concurrency_limit=5, paused=False, description="d",
              base_job_template=PROCESS_TEMPLATE)
    assert res["changed"] is True
    assert fake.writes == [("PATCH", API + "/work_pools/default", {"concurrency_limit": 5})]
    assert res["work_pool"]["concurrency_limit"] == 5
    # the pool as the API returns it after the change: re-read with GET
    assert [c[0] for c in fake.calls] == ["GET", "PATCH", "GET"]


def test_base_job_template_updated_when_different():
    fake = FakePrefect([dict(name="default")])  # raw API default: {}
    res = run(fake, base_job_template=PROCESS_TEMPLATE)
    assert res["changed"] is True
    assert fake.writes == [
        ("PATCH", API + "/work_pools/default", {"base_job_template": PROCESS_TEMPLATE}),
    ]


@pytest.mark.parametrize("current, wanted, patch", [
    (5, 0, {"concurrency_limit": None}),     # 0 = unlimited = null
    (None, 0, None),                         # already unlimited
    (0, 0, {"concurrency_limit": None}),     # a literal 0 in the API is not "unlimited"
    (None, 4, {"concurrency_limit": 4}),
    (4, None, None),                         # not managed
])
def test_concurrency_limit_zero_is_null(current, wanted, patch):
    fake = FakePrefect([dict(name="default", concurrency_limit=current)])
    res = run(fake, concurrency_limit=wanted)
    if patch is None:
        assert res["changed"] is False and fake.writes == []
    else:
        assert res["changed"] is True
        assert fake.writes == [("PATCH", API + "/work_pools/default", patch)]


def test_create_with_zero_limit_sends_null():
    fake = FakePrefect()
    run(fake, concurrency_limit=0)
    assert fake.writes[0][2]["concurrency_limit"] is None


def test_bool_and_int_are_not_equal_json_values():
    assert API_UTILS.json_equal({"a": 1}, {"a": 1.0})
    assert not API_UTILS.json_equal({"a": True}, {"a": 1})
    assert not API_UTILS.json_equal({"a": None}, {})
    assert not API_UTILS.json_equal([1, 2], [2, 1])
    assert API_UTILS.json_equal({"a": [{"b": "x"}]}, {"a": [{"b": "x"}]})
    fake = FakePrefect([dict(name="default",
                             base_job_template={"job_configuration": {"x": 1}, "variables": {}})])
    res = run(fake, base_job_template={"job_configuration": {"x": True}, "variables": {}})
    assert res["changed"] is True


def test_type_mismatch_fails_without_touching_the_pool():
    fake = FakePrefect([dict(name="default", type="docker")])
    with pytest.raises(pools.WorkPoolError) as exc:
        run(fake, type="process", concurrency_limit=3)
    msg = str(exc.value)
    assert "'docker'" in msg and "'process'" in msg
    assert "cannot be changed" in msg and "deleted first" in msg
    assert fake.writes == []
    assert "default" in fake.pools


def test_name_is_url_quoted():
    fake = FakePrefect([dict(name="my pool+x")])
    res = run(fake, name="my pool+x", concurrency_limit=2)
    assert res["changed"] is True
    assert fake.writes[0][1] == API + "/work_pools/my%20pool%2Bx"


def test_conflict_on_create_falls_back_to_update():
    fake = FakePrefect()
    real = fake.__call__

    def racing(method, url, payload=None, headers=None):
        if method == "POST" and "default" not in fake.pools:
            fake.add("default", concurrency_limit=9)  # someone else was faster
        return real(method, url, payload, headers)

    res = pools.ensure_pool(pools.PrefectApi(API, racing), params(concurrency_limit=3))
    assert res["changed"] is True
    assert [c[0] for c in fake.calls] == ["GET", "POST", "GET", "PATCH", "GET"]
    assert fake.pools["default"]["concurrency_limit"] == 3


# --- CSRF


def test_csrf_token_is_fetched_once_and_sent_with_every_change():
    fake = FakePrefect([dict(name="other")])
    fake.csrf = True
    api = pools.PrefectApi(API, fake)
    pools.ensure_pool(api, params(concurrency_limit=3))
    pools.ensure_pool(api, params(name="other", paused=True))
    assert [c[0] for c in fake.writes] == ["POST", "PATCH"]
    assert fake.pools["default"]["concurrency_limit"] == 3


def test_no_csrf_headers_when_the_server_does_not_enforce_it():
    fake = FakePrefect()
    seen = []

    def spy(method, url, payload=None, headers=None):
        seen.append((method, dict(headers or {})))
        return fake(method, url, payload, headers)

    pools.ensure_pool(pools.PrefectApi(API, spy), params())
    assert ("POST", {}) in seen


# --- absent

def test_absent_deletes_existing_pool():
    fake = FakePrefect([dict(name="default", type="docker")])  # type is irrelevant for absent
    res = run(fake, state="absent")
    assert res["changed"] is True
    assert fake.writes == [("DELETE", API + "/work_pools/default", None)]
    assert fake.pools == {}
    assert res["work_pool"] == {}
    assert res["diff"]["after"] == {}
    assert res["diff"]["before"]["type"] == "docker"


def test_absent_when_missing_does_nothing():
    fake = FakePrefect()
    res = run(fake, state="absent")
    assert res == {"changed": False, "work_pool": {}, "diff": {"before": {}, "after": {}}}
    assert fake.writes == []


# --- check mode

def test_check_mode_create_predicts_without_writing():
    fake = FakePrefect()
    res = run(fake, check_mode=True, concurrency_limit=3, paused=True,
              base_job_template=PROCESS_TEMPLATE)
    assert res["changed"] is True
    assert fake.writes == [] and fake.pools == {}
    wp = res["work_pool"]
    assert wp["name"] == "default" and wp["type"] == "process"
    assert wp["concurrency_limit"] == 3 and wp["is_paused"] is True and wp["status"] == "PAUSED"
    assert wp["base_job_template"] == PROCESS_TEMPLATE
    assert wp["id"] is None


def test_check_mode_update_predicts_without_writing():
    fake = FakePrefect([dict(name="default", concurrency_limit=3, is_paused=True)])
    before = copy.deepcopy(fake.pools["default"])
    res = run(fake, check_mode=True, concurrency_limit=0, paused=False)
    assert res["changed"] is True
    assert fake.writes == []
    assert fake.pools["default"] == before
    assert res["work_pool"]["concurrency_limit"] is None
    assert res["work_pool"]["is_paused"] is False
    assert res["work_pool"]["status"] == "NOT_READY"
    assert res["work_pool"]["id"] == before["id"]


def test_check_mode_absent_predicts_without_writing():
    fake = FakePrefect([dict(name="default")])
    res = run(fake, check_mode=True, state="absent")
    assert res["changed"] is True
    assert fake.writes == [] and "default" in fake.pools


def test_check_mode_no_change():
    fake = FakePrefect([dict(name="default", concurrency_limit=3)])
    res = run(fake, check_mode=True, concurrency_limit=3)
    assert res["changed"] is False and fake.writes == []


def test_check_mode_type_mismatch_still_fails():
    fake = FakePrefect([dict(name="default", type="kubernetes")])
    with pytest.raises(pools.WorkPoolError):
        run(fake, check_mode=True)


# --- diff

def test_diff_on_update_shows_managed_fields_only():
    fake = FakePrefect([dict(name="default", concurrency_limit=3, description="keep")])
    res = run(fake, concurrency_limit=5, paused=False)
    assert res["diff"] == {
        "before": {"name": "default", "type": "process", "is_paused": False,
                   "concurrency_limit": 3},
        "after": {"name": "default", "type": "process", "is_paused": False,
                  "concurrency_limit": 5},
    }


def test_diff_on_create_and_no_change():
    fake = FakePrefect()
    res = run(fake, concurrency_limit=2)
    assert res["diff"]["before"] == {}
    assert res["diff"]["after"]["name"] == "default"
    assert res["diff"]["after"]["concurrency_limit"] == 2
    assert set(res["diff"]["after"]) == set(pools.FIELD_ORDER)
    res = run(fake, concurrency_limit=2)
    assert res["diff"]["before"] == res["diff"]["after"]


def test_diff_in_check_mode_matches_real_run():
    checked = run(FakePrefect([dict(name="default", concurrency_limit=1)]), check_mode=True,
                  concurrency_limit=0, description="x")
    real = run(FakePrefect([dict(name="default", concurrency_limit=1)]),
               concurrency_limit=0, description="x")
    assert checked["diff"] == real["diff"]


# --- errors

def test_http_500_error_has_status_url_and_detail():
    def request(method, url, payload=None, headers=None):
        return (500, b'{"detail": "database is locked"}',
                "HTTP Error 500: Internal Server Error")

    with pytest.raises(pwp.PrefectApiError) as exc:
        pools.ensure_pool(pools.PrefectApi(API, request), params())
    e = exc.value
    assert e.msg == ("Prefect API request failed: HTTP 500 for GET "
                     f"{API}/work_pools/default: database is locked")
    assert e.status == 500


def test_http_error_without_json_body_uses_reason():
    def request(method, url, payload=None, headers=None):
        return 502, b"", "HTTP Error 502: Bad Gateway"

    with pytest.raises(pwp.PrefectApiError) as exc:
        pools.PrefectApi(API, request).get_pool("x")
    assert "HTTP 502" in exc.value.msg and "Bad Gateway" in exc.value.msg


def test_http_422_validation_detail_is_readable():
    body = json.dumps({
        "exception_message": "Invalid request received.",
        "exception_detail": [{"type": "value_error", "loc": ["body", "base_job_template"],
                              "msg": "Value error, must contain both keys"}],
        "request_body": {},
    }).encode()

    def request(method, url, payload=None, headers=None):
        if method == "GET":
            return 404, b'{"detail": "Work pool \\"x\\" not found."}', "HTTP Error 404"
        return 422, body, "HTTP Error 422"

    with pytest.raises(pwp.PrefectApiError) as exc:
        pools.ensure_pool(pools.PrefectApi(API, request),
                        params(name="x", base_job_template={"a": 1}))
    assert exc.value.msg == (
        f"Prefect API request failed: HTTP 422 for POST {API}/work_pools/: "
        "Invalid request received.; base_job_template: Value error, must contain both keys")


def test_generic_404_means_wrong_api_url():
    def request(method, url, payload=None, headers=None):
        return 404, b'{"detail": "Not Found"}', "HTTP Error 404: Not Found"

    with pytest.raises(pwp.PrefectApiError) as exc:
        pools.PrefectApi("http://127.0.0.1:4200", request).get_pool("default")
    assert "HTTP 404" in exc.value.msg and "/api" in exc.value.msg


def test_connection_refused_says_not_reachable():
    def request(method, url, payload=None, headers=None):
        return -1, b"", "Request failed: <urlopen error [Errno 111] Connection refused>"

    with pytest.raises(pwp.PrefectApiError) as exc:
        pools.PrefectApi(API + "/", request).get_pool("default")
    assert exc.value.msg == (f"The Prefect API is not reachable at {API}: "
                             "GET failed: [Errno 111] Connection refused")


def test_api_url_trailing_slash_is_ignored():
    fake = FakePrefect()
    pools.ensure_pool(pools.PrefectApi(API + "/", fake), params())
    assert fake.calls[0][1] == API + "/work_pools/default"


def test_redact_url():
    assert API_UTILS.redact_url("https://u:pw@h:1/api") == "https://h:1/api"
    assert API_UTILS.redact_url(API) == API


@pytest.mark.parametrize("kw, fragment", [
    (dict(name="a/b"), "not a valid work pool name"),
    (dict(name=""), "name must not be empty"),
    (dict(concurrency_limit=-1), "concurrency_limit"),
    (dict(api_url="127.0.0.1:4200/api"), "api_url must be"),
    (dict(timeout=0), "timeout"),
])
def test_validate_params(kw, fragment):
    assert fragment in pools.validate_params(params(**kw))


def test_validate_params_accepts_defaults():
    assert pools.validate_params(params()) is None


def test_auth_headers():
    basic = API_UTILS.auth_headers(api_auth_string="admin:s3cret")
    assert basic == {"Authorization": "Basic " + base64.b64encode(b"admin:s3cret").decode()}
    assert API_UTILS.auth_headers(api_key="pnu_abc") == {"Authorization": "Bearer pnu_abc"}
    assert API_UTILS.auth_headers() == {}


# --- main() through AnsibleModule

def run_main(args, fake, capsys, check_mode=False):
    return run_api_module(pwp, API_UTILS, args, fake, capsys, check_mode)


def test_main_create_then_idempotent(capsys):
    fake = FakePrefect()
    args = dict(api_url=API, name="probe", concurrency_limit=3)
    rc, res, seen = run_main(args, fake, capsys)
    assert rc == 0 and res["changed"] is True
    assert res["work_pool"]["concurrency_limit"] == 3
    assert "Authorization" not in seen[0]
    rc, res, seen = run_main(args, fake, capsys)
    assert rc == 0 and res["changed"] is False


def test_main_check_mode(capsys):
    fake = FakePrefect()
    rc, res, _ = run_main(dict(api_url=API, name="probe", concurrency_limit=3), fake, capsys,
                          check_mode=True)
    assert rc == 0 and res["changed"] is True
    assert fake.writes == [] and fake.pools == {}


def test_main_type_mismatch_fails(capsys):
    fake = FakePrefect([dict(name="probe", type="docker")])
    rc, res, _ = run_main(dict(api_url=API, name="probe"), fake, capsys)
    assert rc == 1 and res["failed"] is True
    assert "deleted first" in res["msg"]


@pytest.mark.parametrize("auth", [dict(api_auth_string="admin:SUPERSECRET"),
                                  dict(api_key="SUPERSECRET")])
def test_main_credentials_sent_but_never_in_messages(capsys, auth):
    # HTTP error path
    def failing(method, url, payload=None, headers=None):
        return 401, b'{"detail": "Unauthorized"}', "HTTP Error 401: Unauthorized"

    args = dict(api_url="http://admin:URLSECRET@prefect.example:4200/api", name="probe", **auth)
    rc, res, seen = run_main(args, failing, capsys)
    assert rc == 1
    assert res["msg"] == ("Prefect API request failed: HTTP 401 for GET "
                          "http://prefect.example:4200/api/work_pools/probe: Unauthorized "
                          "(the server requires credentials: check api_auth_string, user:password)")
    assert res["status"] == 401
    text = json.dumps(res)
    assert "SUPERSECRET" not in text and "URLSECRET" not in text
    header = seen[0]["Authorization"]
    if "api_key" in auth:
        assert header == "Bearer SUPERSECRET"
    else:
        assert header == "Basic " + base64.b64encode(b"admin:SUPERSECRET").decode()

    # connection refused path
    rc, res, seen = run_main(args, None, capsys)
    assert rc == 1
    assert res["msg"].startswith("The Prefect API is not reachable at http://prefect.example:4200/api")
    assert "Connection refused" in res["msg"]
    text = json.dumps(res)
    assert "SUPERSECRET" not in text and "URLSECRET" not in text


def test_main_auth_options_are_mutually_exclusive(capsys):
    args = dict(api_url=API, name="p", api_key="key-xyz", api_auth_string="user:pw-xyz")
    rc, res, seen = run_main(args, FakePrefect(), capsys)
    assert rc == 1 and "mutually exclusive" in res["msg"]
    assert seen == []


def test_main_rejects_invalid_name_before_any_request(capsys):
    rc, res, seen = run_main(dict(api_url=API, name="a/b"), FakePrefect(), capsys)
    assert rc == 1 and "not a valid work pool name" in res["msg"]
    assert seen == []


def test_transport_reads_body_and_error_body():
    module = mock.Mock()

    def fake_fetch(module, url, data=None, headers=None, method=None, timeout=None,
                   use_netrc=True):
        assert timeout == 7
        assert headers["Authorization"] == "Bearer k" and use_netrc is False
        if method == "PATCH":
            assert headers["Content-Type"] == "application/json"
            assert json.loads(data) == {"is_paused": True}
            return FakeResponse(b""), {"status": 204, "msg": "OK"}
        return None, {"status": 500, "msg": "HTTP Error 500", "body": b'{"detail":"boom"}'}

    t = API_UTILS.FetchUrlTransport(module, headers={"Authorization": "Bearer k"}, timeout=7)
    with mock.patch.object(API_UTILS, "fetch_url", fake_fetch):
        assert t("PATCH", API + "/work_pools/x", {"is_paused": True}) == (204, b"", "OK")
        assert t("GET", API + "/work_pools/x") == (500, b'{"detail":"boom"}', "HTTP Error 500")


@pytest.mark.parametrize(
    "method, answers, calls",
    [
        ("GET", [-1, -1, 200], 3),  # no answer: a read is repeated
        ("GET", [503, 502, 504, 429, 200], 5),
        ("GET", [-1] * 9, 6),  # gives up after the last delay, with the last answer
        ("POST", [-1, 200], 1),  # no answer to a write: it may have happened
        ("POST", [502, 200], 1),
        ("POST", [503, 429, 201], 3),  # refused before doing anything: repeated
        ("GET", [500, 200], 1),  # a server error is an answer, not a busy server
    ],
)
def test_transport_repeats_only_what_is_safe_to_repeat(monkeypatch, method, answers, calls):
    delays = []
    monkeypatch.setattr(API_UTILS.time, "sleep", delays.append)
    seen = []

    def fake_fetch(module, url, method=None, **kw):
        status = answers[len(seen)]
        seen.append(method)
        if status == -1:
            return None, {"status": -1, "msg": "Request failed: <urlopen error timed out>"}
        if status >= 400:
            return None, {"status": status, "msg": f"HTTP {status}", "body": b"{}"}
        return FakeResponse(b"{}"), {"status": status, "msg": "OK"}

    with mock.patch.object(API_UTILS, "fetch_url", fake_fetch):
        status, _body, _msg = API_UTILS.FetchUrlTransport(mock.Mock())(method, API + "/x")
    assert seen == [method] * calls
    assert status == answers[calls - 1]
    assert delays == list(API_UTILS.RETRY_DELAYS[: calls - 1])


# --- DOCUMENTATION vs argument_spec

DOC = yaml.safe_load(pwp.DOCUMENTATION)


def test_documentation_has_the_sections_galaxy_shows():
    for key in ("version_added", "requirements", "notes"):
        assert key in DOC, key
    assert DOC["module"] == "work_pool"
    assert DOC["author"] == "prefect preset maintainers (!UNKNOWN)"
    assert DOC["requirements"] == []
    notes = " ".join(DOC["notes"]).lower()
    assert "check mode" in notes and "base_job_template" in notes


# --- live (optional)

LIVE_URL = os.environ.get("PREFECT_TEST_API_URL", "")


def _server_up(url):
    if not url:
        return False
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=2) as resp:
            return resp.status == 200
    except (OSError, ValueError):  # URLError and TimeoutError are OSErrors
        return False


@pytest.mark.skipif(not _server_up(LIVE_URL), reason="no Prefect server at PREFECT_TEST_API_URL")
def test_live_roundtrip():
    def request(method, url, payload=None, headers=None):
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read(), "OK"
        except urllib.error.HTTPError as e:
            return e.code, e.read(), str(e)

    api = pools.PrefectApi(LIVE_URL, request)
    name = f"pytest-{uuid.uuid4().hex[:8]}"

    def go(check_mode=False, **kw):
        return pools.ensure_pool(api, params(api_url=LIVE_URL, name=name, **kw),
                               check_mode=check_mode)

    try:
        assert go(check_mode=True, concurrency_limit=2)["changed"] is True
        assert api.get_pool(name) is None
        res = go(concurrency_limit=2, base_job_template=PROCESS_TEMPLATE)
        assert res["changed"] is True and res["work_pool"]["concurrency_limit"] == 2
        assert go(concurrency_limit=2, base_job_template=PROCESS_TEMPLATE)["changed"] is False
        res = go(concurrency_limit=0, paused=True, description="live")
        assert res["changed"] is True
        assert res["work_pool"]["concurrency_limit"] is None
        assert res["work_pool"]["status"] == "PAUSED"
        assert go(concurrency_limit=0, paused=True, description="live")["changed"] is False
        with pytest.raises(pools.WorkPoolError):
            go(type="docker")
        assert go(state="absent")["changed"] is True
        assert go(state="absent")["changed"] is False
    finally:
        api.delete_pool(name)


# --- work queues and online workers


class QueueFake:
    """Answers the queue and worker calls of one existing pool 'etl'."""

    def __init__(self, queues=(), online=()):
        self.queues = list(queues)
        self.online = list(online)
        self.created = []

    def __call__(self, method, url, payload=None, headers=None):
        base = API + "/work_pools/etl"
        if url.startswith(API + "/csrf-token"):
            return 422, b'{"detail": "CSRF protection is disabled."}', "HTTP Error 422"
        if method == "GET" and url == base:
            pool = {"name": "etl", "type": "process", "id": "p1", "status": "READY"}
            return 200, json.dumps(pool).encode(), "OK"
        if method == "POST" and url == base + "/queues/filter":
            return 200, json.dumps([{"name": q} for q in self.queues]).encode(), "OK"
        if method == "POST" and url == base + "/queues":
            self.queues.append(payload["name"])
            self.created.append(payload["name"])
            return 201, json.dumps({"name": payload["name"]}).encode(), "OK"
        if method == "POST" and url == base + "/workers/filter":
            workers = [{"name": n, "status": "ONLINE"} for n in self.online]
            return 200, json.dumps(workers).encode(), "OK"
        raise AssertionError((method, url))


def test_missing_work_queues_are_created_and_others_left_alone():
    fake = QueueFake(queues=["default", "mine"])
    api = pools.PrefectApi(API, fake)
    p = params(name="etl", work_queues=["default", "high", "low"])
    result = pools.ensure_queues(api, p, pools.ensure_pool(api, p))
    assert fake.created == ["high", "low"] and result["changed"] is True
    assert result["diff"]["after"]["work_queues"] == ["default", "high", "low"]
    again = pools.ensure_queues(api, p, pools.ensure_pool(api, p))
    assert again["changed"] is False and fake.queues == ["default", "mine", "high", "low"]


def test_check_mode_creates_no_queue():
    fake = QueueFake(queues=["default"])
    api = pools.PrefectApi(API, fake)
    p = params(name="etl", work_queues=["default", "high"])
    result = pools.ensure_queues(api, p, pools.ensure_pool(api, p, check_mode=True), check_mode=True)
    assert result["changed"] is True and fake.created == []


def test_wait_online_returns_when_every_worker_polls():
    fake = QueueFake(online=["h-etl-1", "h-etl-2", "other"])
    pools.wait_online(pools.PrefectApi(API, fake), params(name="etl", online_workers=["h-etl-1", "h-etl-2"]))


def test_wait_online_names_the_workers_that_never_came():
    fake = QueueFake(online=["h-etl-1"])
    now = [0.0]

    def clock():
        return now[0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(pools.WorkPoolError) as exc:
        pools.wait_online(pools.PrefectApi(API, fake),
                        params(name="etl", online_workers=["h-etl-1", "h-etl-2"], online_timeout=10),
                        sleep=sleep, clock=clock)
    assert "after 10 s: h-etl-2" in str(exc.value)
