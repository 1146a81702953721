"""Unit tests for plugins/modules/automation.py.

Fast and offline: the HTTP layer is replaced by FakeAutomations, an in-memory
stand-in for Prefect's /automations endpoints (with the keys the server adds to
what it is given, and its set-valued trigger fields returned in another order)
that records every request.
"""

import base64
import copy
import importlib
import json
import sys
import urllib.parse
import uuid
from pathlib import Path

import pytest
import yaml

from module_harness import FakeApi, load_plugin, run_api_module

ROOT = Path(__file__).resolve().parents[3]
auto = load_plugin("plugins/modules/automation.py", "prefect_automation")
# The logic the module and server_setup share.
automations = importlib.import_module(
    "ansible_collections.prefect_preset.prefect.plugins.module_utils.automations")
# The collection's module_utils, where the HTTP layer (fetch_url) lives.
API_UTILS = sys.modules[auto.PrefectApiError.__module__]

API = "http://127.0.0.1:4200/api"
NAME = "Crash zombie flows"

TRIGGER = {
    "type": "event",
    "posture": "Proactive",
    "match": {"prefect.resource.id": ["prefect.flow-run.*"]},
    "after": ["prefect.flow-run.heartbeat"],
    "expect": ["prefect.flow-run.heartbeat", "prefect.flow-run.Completed",
               "prefect.flow-run.Failed", "prefect.flow-run.Cancelled",
               "prefect.flow-run.Crashed"],
    "for_each": ["prefect.resource.id"],
    "threshold": 1,
    "within": 90,
}
ACTIONS = [{"type": "change-flow-run-state", "state": "CRASHED",
            "message": "Flow run marked as crashed due to missing heartbeats."}]


# --- fakes

def server_copy(body, automation_id=None):
    """What the server stores and returns for a body: its own keys added, defaults
    filled in, numbers as floats where it keeps timedeltas, sets in another order."""
    trigger = copy.deepcopy(body["trigger"])
    trigger.setdefault("id", str(uuid.uuid4()))
    trigger.setdefault("match_related", [])
    trigger.setdefault("for_each", [])
    if "within" in trigger:
        trigger["within"] = float(trigger["within"])
    for key in ("expect", "after"):
        if key in trigger:
            trigger[key] = list(reversed(trigger[key]))
    actions = []
    for action in body["actions"]:
        action = dict(action)
        action.setdefault("force", False)
        action.setdefault("name", None)
        actions.append(action)
    return {
        "id": automation_id or str(uuid.uuid4()),
        "created": "2026-01-01T00:00:00Z",
        "updated": "2026-01-01T00:00:00Z",
        "name": body["name"],
        "description": body.get("description", ""),
        "enabled": body.get("enabled", True),
        "tags": [],
        "owner_resource": None,
        "trigger": trigger,
        "actions": actions,
        "actions_on_trigger": copy.deepcopy(body.get("actions_on_trigger", [])),
        "actions_on_resolve": copy.deepcopy(body.get("actions_on_resolve", [])),
    }


class FakeAutomations(FakeApi):
    """request(method, url, payload, headers) -> (status, body, msg), like FetchUrlTransport."""

    def __init__(self, automations=(), api_url=API, csrf=False):
        super().__init__(api_url, csrf)
        self.automations = {}
        self.calls = []
        for body in automations:
            self.add(body)

    def add(self, body):
        stored = server_copy(body)
        self.automations[stored["id"]] = stored
        return stored

    def named(self, name):
        return [a for a in self.automations.values() if a["name"] == name]

    @property
    def writes(self):
        """Calls that change something: all but the filter POST (a read)."""
        return [c for c in self.calls if not c[1].endswith("/automations/filter")]

    def __call__(self, method, url, payload=None, headers=None):
        refused = self.csrf_answer(method, url, headers)
        if refused is not None:
            return refused
        self.calls.append((method, url, copy.deepcopy(payload)))
        prefix = self.api_url + "/automations/"
        assert url.startswith(prefix), url
        rest = url[len(prefix):]
        if method == "POST" and rest == "filter":
            assert payload["limit"] >= 2  # enough to see a duplicate
            names = payload["automations"]["name"]["any_"]
            found = [a for a in self.automations.values() if a["name"] in names]
            return self._resp(200, found[:payload["limit"]])
        if method == "POST" and rest == "":
            return self._resp(201, self.add(payload))
        automation_id = urllib.parse.unquote(rest)
        if automation_id not in self.automations:
            return self._resp(404, {"detail": "Automation not found"})
        if method == "PUT":
            self.automations[automation_id] = server_copy(payload, automation_id)
            return self._resp(204)
        if method == "DELETE":
            del self.automations[automation_id]
            return self._resp(204)
        raise AssertionError(f"unexpected {method} {url}")


def params(**kw):
    p = dict(api_url=API, name=NAME, description="", enabled=True, trigger=TRIGGER,
             actions=ACTIONS, state="present", api_auth_string=None, api_key=None,
             validate_certs=True, timeout=30)
    p.update(kw)
    return p


def wanted_body(**kw):
    p = params(**kw)
    return dict(name=p["name"], description=p["description"], enabled=p["enabled"],
                trigger=p["trigger"], actions=p["actions"],
                actions_on_trigger=[], actions_on_resolve=[])


def run(fake, check_mode=False, **kw):
    api = automations.AutomationApi(fake.api_url, fake)
    return automations.ensure_automation(api, params(**kw), check_mode=check_mode)


# --- covers()

def test_covers_ignores_keys_only_the_server_has():
    assert automations.covers({"a": 1, "id": "x"}, {"a": 1})
    assert not automations.covers({"id": "x"}, {"a": 1})
    assert automations.covers({"a": {"b": 1, "c": 2}}, {"a": {"b": 1}})


def test_covers_compares_scalar_lists_as_sets_and_dict_lists_in_order():
    assert automations.covers({"e": ["b", "a"]}, {"e": ["a", "b"]})
    assert not automations.covers({"e": ["a"]}, {"e": ["a", "b"]})
    assert not automations.covers({"e": ["a", "b"]}, {"e": ["a"]})
    assert automations.covers([{"t": 1, "x": 0}, {"t": 2}], [{"t": 1}, {"t": 2}])
    assert not automations.covers([{"t": 2}, {"t": 1}], [{"t": 1}, {"t": 2}])
    assert not automations.covers([{"t": 1}], [{"t": 1}, {"t": 2}])
    assert not automations.covers("x", ["x"])


def test_covers_is_strict_about_types_but_not_int_float():
    assert automations.covers({"within": 90.0}, {"within": 90})
    assert not automations.covers({"enabled": 1}, {"enabled": True})
    assert not automations.covers({"threshold": "1"}, {"threshold": 1})
    assert not automations.covers({"x": None}, {"x": ""})


# --- present

def test_create_when_missing():
    fake = FakeAutomations()
    res = run(fake)
    assert res["changed"] is True
    assert fake.writes == [("POST", API + "/automations/", wanted_body())]
    assert fake.calls[0] == ("POST", API + "/automations/filter",
                             {"automations": {"name": {"any_": [NAME]}}, "limit": 10})
    (stored,) = fake.named(NAME)
    assert res["automation"] == stored
    assert res["diff"]["before"] == {}
    assert res["diff"]["after"]["name"] == NAME


def test_create_body_has_description_enabled_and_empty_trigger_and_resolve_actions():
    fake = FakeAutomations()
    run(fake, description="d", enabled=False)
    body = fake.writes[0][2]
    assert body["description"] == "d" and body["enabled"] is False
    assert body["actions_on_trigger"] == [] and body["actions_on_resolve"] == []
    assert body["trigger"] == TRIGGER and body["actions"] == ACTIONS


def test_no_change_when_the_server_copy_covers_the_wanted_keys():
    fake = FakeAutomations([wanted_body()])
    stored = fake.named(NAME)[0]
    # the server's copy really differs from what we send, in ways that must not count
    assert stored["trigger"]["expect"] != TRIGGER["expect"]
    assert stored["trigger"]["after"] == list(reversed(TRIGGER["after"]))
    assert "id" in stored["trigger"] and "match_related" in stored["trigger"]
    assert set(stored["actions"][0]) > set(ACTIONS[0])
    res = run(fake)
    assert res["changed"] is False
    assert fake.writes == []
    assert res["automation"] == stored
    assert res["diff"]["before"] == res["diff"]["after"]


def test_expect_and_after_in_another_order_is_no_change():
    trigger = dict(TRIGGER, after=["b", "a"], expect=["z", "y", "x"])
    fake = FakeAutomations([wanted_body(trigger=dict(trigger, after=["a", "b"],
                                                     expect=["x", "z", "y"]))])
    assert run(fake, trigger=trigger)["changed"] is False
    assert fake.writes == []


def test_create_then_second_run_is_idempotent():
    fake = FakeAutomations()
    assert run(fake)["changed"] is True
    assert run(fake)["changed"] is False
    assert len(fake.writes) == 1


@pytest.mark.parametrize("change", [
    dict(description="new"),
    dict(enabled=False),
    dict(trigger=dict(TRIGGER, within=120)),
    dict(trigger=dict(TRIGGER, expect=["prefect.flow-run.heartbeat"])),
    dict(trigger=dict(TRIGGER, posture="Reactive")),
    dict(actions=[dict(ACTIONS[0], message="other")]),
    dict(actions=[*ACTIONS, {"type": "pause-automation", "source": "selected"}]),
])
def test_replace_when_a_wanted_key_differs(change):
    fake = FakeAutomations([wanted_body()])
    (old,) = fake.named(NAME)
    res = run(fake, **change)
    assert res["changed"] is True
    assert fake.writes == [("PUT", f"{API}/automations/{old['id']}", wanted_body(**change))]
    (new,) = fake.named(NAME)
    assert new["id"] == old["id"]
    assert res["automation"]["id"] == old["id"]
    key = next(iter(change))
    assert res["diff"]["before"][key] == old[key]
    assert res["diff"]["after"][key] == change[key]
    # and now it is in place
    assert run(fake, **change)["changed"] is False


def test_two_automations_with_the_same_name_fail_without_writing():
    fake = FakeAutomations([wanted_body(), wanted_body(description="copy")])
    with pytest.raises(automations.AutomationError) as exc:
        run(fake, description="x")
    assert str(exc.value) == f"2 automations are named {NAME!r}; delete the extra ones first"
    assert fake.writes == []
    with pytest.raises(automations.AutomationError):
        run(fake, state="absent")
    assert fake.writes == [] and len(fake.named(NAME)) == 2


def test_other_names_are_not_touched():
    fake = FakeAutomations([wanted_body(name="other")])
    run(fake)
    run(fake, state="absent")
    assert [a["name"] for a in fake.automations.values()] == ["other"]


def test_present_without_trigger_or_actions_is_refused():
    fake = FakeAutomations()
    with pytest.raises(automations.AutomationError, match="needs trigger and actions"):
        run(fake, trigger=None)
    with pytest.raises(automations.AutomationError, match="needs trigger and actions"):
        run(fake, actions=None)
    assert fake.writes == []


# --- absent

def test_absent_deletes():
    fake = FakeAutomations([wanted_body()])
    (old,) = fake.named(NAME)
    res = run(fake, state="absent", trigger=None, actions=None)
    assert res["changed"] is True
    assert fake.writes == [("DELETE", f"{API}/automations/{old['id']}", None)]
    assert fake.automations == {}
    assert res["automation"] == {}
    assert res["diff"] == {"before": automations.view(old), "after": {}}


def test_absent_when_missing_does_nothing():
    fake = FakeAutomations()
    res = run(fake, state="absent")
    assert res == {"changed": False, "automation": {}, "diff": {"before": {}, "after": {}}}
    assert fake.writes == []


def test_delete_tolerates_a_concurrent_delete():
    fake = FakeAutomations()
    api = automations.AutomationApi(API, fake)
    api.delete(str(uuid.uuid4()))  # 404 is fine
    assert fake.calls[0][0] == "DELETE"


# --- check mode

def test_check_mode_create_writes_nothing():
    fake = FakeAutomations()
    res = run(fake, check_mode=True)
    assert res["changed"] is True
    assert fake.writes == [] and fake.automations == {}
    assert automations.view(res["automation"]) == automations.view(wanted_body())


def test_check_mode_replace_writes_nothing():
    fake = FakeAutomations([wanted_body()])
    before = copy.deepcopy(fake.automations)
    res = run(fake, check_mode=True, description="new")
    assert res["changed"] is True
    assert fake.writes == [] and fake.automations == before
    assert res["automation"]["description"] == "new"
    assert res["automation"]["id"] == next(iter(before))


def test_check_mode_absent_writes_nothing():
    fake = FakeAutomations([wanted_body()])
    res = run(fake, check_mode=True, state="absent")
    assert res["changed"] is True
    assert fake.writes == [] and len(fake.automations) == 1


def test_check_mode_diff_matches_real_run():
    fake = FakeAutomations([wanted_body()])
    twin = copy.deepcopy(fake)
    checked = run(fake, check_mode=True, enabled=False)
    real = run(twin, enabled=False)
    assert checked["diff"] == real["diff"]


# --- CSRF

def test_csrf_token_is_fetched_and_sent_with_every_post_put_delete():
    fake = FakeAutomations(csrf=True)
    seen = []

    def spy(method, url, payload=None, headers=None):
        seen.append((method, url, dict(headers or {})))
        return fake(method, url, payload, headers)

    api = automations.AutomationApi(API, spy)
    automations.ensure_automation(api, params())
    automations.ensure_automation(api, params(description="new"))
    automations.ensure_automation(api, params(state="absent"))
    assert [c[0] for c in fake.writes] == ["POST", "PUT", "DELETE"]
    assert fake.automations == {}
    # one token for the client, asked for with GET /csrf-token?client=...
    assert len(fake.csrf_requests) == 1
    assert fake.csrf_requests[0] == (
        f"{API}/csrf-token?client={urllib.parse.quote(fake.csrf_client)}")
    token = {"Prefect-Csrf-Token": "t0k3n", "Prefect-Csrf-Client": fake.csrf_client}
    for method, url, headers in seen:
        if method in ("POST", "PUT", "DELETE"):
            assert headers == token, (method, url)
        else:
            assert "Prefect-Csrf-Token" not in headers


def test_without_the_token_the_fake_refuses_changes():
    # the fake really enforces CSRF: a client that skips the token gets 403
    fake = FakeAutomations(csrf=True)
    fake(method="GET", url=f"{API}/csrf-token?client=c1")
    assert fake("POST", API + "/automations/", wanted_body(), {})[0] == 403


def test_csrf_disabled_422_means_no_headers():
    fake = FakeAutomations(csrf=False)
    seen = []

    def spy(method, url, payload=None, headers=None):
        seen.append((method, dict(headers or {})))
        return fake(method, url, payload, headers)

    api = automations.AutomationApi(API, spy)
    automations.ensure_automation(api, params())
    automations.ensure_automation(api, params(enabled=False))
    assert len(fake.csrf_requests) == 1  # asked once, remembered as disabled
    assert [h for m, h in seen if m in ("POST", "PUT")] == [{}, {}, {}, {}]


def test_csrf_token_endpoint_error_is_reported():
    def request(method, url, payload=None, headers=None):
        if "/csrf-token" in url:
            return 500, b'{"detail": "boom"}', "HTTP Error 500"
        raise AssertionError("no request after a failed token fetch")

    with pytest.raises(auto.PrefectApiError) as exc:
        automations.ensure_automation(automations.AutomationApi(API, request), params())
    assert "HTTP 500" in exc.value.msg and "boom" in exc.value.msg


# --- errors

def test_http_error_names_method_url_and_detail():
    def request(method, url, payload=None, headers=None):
        if "/csrf-token" in url:
            return 422, b"{}", "HTTP Error 422"
        return 500, b'{"detail": "database is locked"}', "HTTP Error 500"

    with pytest.raises(auto.PrefectApiError) as exc:
        automations.ensure_automation(automations.AutomationApi(API, request), params())
    assert exc.value.msg == ("Prefect API request failed: HTTP 500 for POST "
                             f"{API}/automations/filter: database is locked")


def test_non_json_answer_is_reported():
    def request(method, url, payload=None, headers=None):
        if "/csrf-token" in url:
            return 422, b"{}", "HTTP Error 422"
        return 200, b"<html>proxy</html>", "OK"

    with pytest.raises(auto.PrefectApiError, match="not JSON"):
        automations.ensure_automation(automations.AutomationApi(API, request), params())


# --- main() through AnsibleModule

def run_main(args, fake, capsys, check_mode=False):
    return run_api_module(auto, API_UTILS, args, fake, capsys, check_mode)


MAIN_ARGS = dict(api_url=API, name=NAME, trigger=TRIGGER, actions=ACTIONS)


def test_main_create_then_idempotent(capsys):
    fake = FakeAutomations()
    rc, res, seen = run_main(MAIN_ARGS, fake, capsys)
    assert rc == 0 and res["changed"] is True
    assert fake.writes == [("POST", API + "/automations/", wanted_body())]
    assert res["automation"]["id"] == fake.named(NAME)[0]["id"]
    assert "Authorization" not in seen[0]
    rc, res, _ = run_main(MAIN_ARGS, fake, capsys)
    assert rc == 0 and res["changed"] is False
    assert len(fake.writes) == 1


def test_main_with_csrf_enforced(capsys):
    fake = FakeAutomations(csrf=True)
    rc, res, _ = run_main(MAIN_ARGS, fake, capsys)
    assert rc == 0 and res["changed"] is True, res
    rc, res, _ = run_main(dict(MAIN_ARGS, state="absent"), fake, capsys)
    assert rc == 0 and res["changed"] is True, res
    assert fake.automations == {}


def test_main_check_mode(capsys):
    fake = FakeAutomations()
    rc, res, _ = run_main(MAIN_ARGS, fake, capsys, check_mode=True)
    assert rc == 0 and res["changed"] is True
    assert fake.writes == [] and fake.automations == {}


def test_main_absent(capsys):
    fake = FakeAutomations([wanted_body()])
    rc, res, _ = run_main(dict(api_url=API, name=NAME, state="absent"), fake, capsys)
    assert rc == 0 and res["changed"] is True and fake.automations == {}
    rc, res, _ = run_main(dict(api_url=API, name=NAME, state="absent"), fake, capsys)
    assert rc == 0 and res["changed"] is False


def test_main_present_needs_trigger_and_actions(capsys):
    rc, res, seen = run_main(dict(api_url=API, name=NAME, trigger=TRIGGER), FakeAutomations(),
                             capsys)
    assert rc == 1 and "actions" in res["msg"]
    assert seen == []


def test_main_duplicate_names_fail(capsys):
    fake = FakeAutomations([wanted_body(), wanted_body()])
    rc, res, _ = run_main(MAIN_ARGS, fake, capsys)
    assert rc == 1 and res["failed"] is True
    assert "2 automations are named" in res["msg"]
    assert fake.writes == []


def test_main_rejects_a_bad_api_url_before_any_request(capsys):
    rc, res, seen = run_main(dict(MAIN_ARGS, api_url="127.0.0.1:4200/api"), FakeAutomations(),
                             capsys)
    assert rc == 1 and "api_url must be" in res["msg"]
    assert seen == []


def test_main_auth_options_are_mutually_exclusive(capsys):
    rc, res, seen = run_main(dict(MAIN_ARGS, api_key="k", api_auth_string="u:p"),
                             FakeAutomations(), capsys)
    assert rc == 1 and "mutually exclusive" in res["msg"]
    assert seen == []


@pytest.mark.parametrize("auth", [dict(api_auth_string="admin:SUPERSECRET"),
                                  dict(api_key="SUPERSECRET")])
def test_main_credentials_sent_but_never_in_the_output(capsys, auth):
    url = "http://admin:URLSECRET@prefect.example:4200/api"
    fake = FakeAutomations(api_url=url)
    args = dict(MAIN_ARGS, api_url=url, **auth)
    rc, res, seen = run_main(args, fake, capsys)
    assert rc == 0 and res["changed"] is True
    text = json.dumps(res)
    assert "SUPERSECRET" not in text and "URLSECRET" not in text
    if "api_key" in auth:
        assert seen[0]["Authorization"] == "Bearer SUPERSECRET"
    else:
        assert seen[0]["Authorization"] == (
            "Basic " + base64.b64encode(b"admin:SUPERSECRET").decode())
    assert all(h.get("Authorization") == seen[0]["Authorization"] for h in seen)

    # an HTTP error
    def failing(method, url, payload=None, headers=None):
        return 401, b'{"detail": "Unauthorized"}', "HTTP Error 401: Unauthorized"

    rc, res, _ = run_main(args, failing, capsys)
    assert rc == 1 and res["status"] == 401
    assert res["msg"].startswith("Prefect API request failed: HTTP 401 for GET "
                                 "http://prefect.example:4200/api/csrf-token")
    text = json.dumps(res)
    assert "SUPERSECRET" not in text and "URLSECRET" not in text

    # no server
    rc, res, _ = run_main(args, None, capsys)
    assert rc == 1
    assert res["msg"].startswith(
        "The Prefect API is not reachable at http://prefect.example:4200/api")
    text = json.dumps(res)
    assert "SUPERSECRET" not in text and "URLSECRET" not in text


# --- the documented example (test_documentation.py checks the rest)

def test_example_trigger_is_what_the_role_would_send():
    # the documented example is valid input: no change against its own server copy
    present = yaml.safe_load(auto.EXAMPLES)[0]["prefect_preset.prefect.automation"]
    fake = FakeAutomations()
    run(fake, name=present["name"], trigger=present["trigger"], actions=present["actions"])
    assert run(fake, name=present["name"], trigger=present["trigger"],
               actions=present["actions"])["changed"] is False
