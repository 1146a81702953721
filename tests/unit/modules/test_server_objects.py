"""plugins/modules/server_objects.py: its documentation, and what it shows of an action.

The module against a real Prefect server: tests/flows/test_server_objects.py."""

from __future__ import annotations

import json
from typing import Any

import yaml

from module_harness import load_plugin, module_kwargs

so = load_plugin("plugins/modules/server_objects.py", "prefect_server_objects")


def test_one_way_of_authenticating_and_examples_shaped_like_the_plan() -> None:
    # test_documentation.py checks DOCUMENTATION, EXAMPLES and RETURN against the spec
    assert module_kwargs(so)["mutually_exclusive"] == [("api_auth_string", "api_key")]
    for example in yaml.safe_load(so.EXAMPLES):
        args = example["prefect_preset.prefect.server_objects"]
        for item in args.get("deployments", []):  # what flows_plan hands the module
            assert {"name", "flow_name", "entrypoint", "path", "version", "source",
                    "work_pool"} <= set(item)


def test_the_example_deployment_goes_on_the_wire() -> None:
    [example] = yaml.safe_load(so.EXAMPLES)
    args = example["prefect_preset.prefect.server_objects"]
    declared = so.declared_of({**args, "secrets": {"warehouse-password": 12345}})
    [wire] = declared["deployments"]
    assert wire["flow_name"] == "daily-sync" and "flow_id" not in wire
    assert wire["labels"] == {"prefect-preset.source": "pipelines"}
    assert declared["secrets"] == {"warehouse-password": "12345"}  # Secret blocks hold text


def test_a_secret_action_shows_no_value() -> None:
    action = {"kind": "secret", "name": "pw", "op": "update", "id": "b1",
              "changes": ["value"], "body": {"value": "hunter2"}}
    assert so.shown(action) == {"kind": "secret", "name": "pw", "op": "update",
                                "changes": ["value"], "after": None}


def test_a_deployment_update_shows_the_changed_fields_only() -> None:
    body = {"name": "d", "path": "/new", "version": "v2", "tags": ["a"]}
    action = {"kind": "deployment", "name": "f/d", "op": "update", "id": "d1",
              "changes": ["path", "version"], "body": body}
    assert so.shown(action)["after"] == {"path": "/new", "version": "v2"}
    created = {**action, "op": "create", "changes": []}
    assert so.shown(created)["after"] == body


def test_the_diff_names_each_action_and_shows_new_values_but_no_secret() -> None:
    update = so.shown({"kind": "deployment", "name": "versioned/versioned", "op": "update", "id": "d1",
                       "changes": ["schedules"],
                       "body": {"schedules": [{"cron": "30 4 * * *"}], "path": "/p"}})
    secret = so.shown({"kind": "secret", "name": "pw", "op": "create", "id": None,
                       "changes": [], "body": {"value": "hunter2"}})
    gone = so.shown({"kind": "variable", "name": "old", "op": "delete", "id": "v1",
                     "changes": [], "body": None})
    diff = so.diff_of([update, secret, gone])
    assert diff["before"] == ""
    assert diff["after"].splitlines() == [
        "update deployment versioned/versioned",
        '  schedules: [{"cron": "30 4 * * *"}]',
        "create secret pw",
        "delete variable old",
    ]
    assert "hunter2" not in diff["after"]
    assert so.diff_of([])["after"] == ""


class PagingClient:
    """The API's filter endpoints as the server pages them (limit, offset, sorted by name),
    with 250 deployments that each have a limit of their own and one declared limit."""

    def __init__(self) -> None:
        self.deployments = [{"id": f"d{i:03}", "name": f"d{i:03}", "flow_id": "f1",
                             "labels": {}} for i in range(250)]
        self.limits = sorted([{"id": f"g{i:03}", "name": f"deployment:d{i:03}", "limit": 1,
                               "active": True} for i in range(250)]
                             + [{"id": "gw", "name": "warehouse", "limit": 4, "active": True}],
                             key=lambda c: c["name"])
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def url(self, *parts: str) -> str:
        return "/".join(parts)

    def call(self, method: str, url: str, body: Any = None, ok: Any = (200,),
             allow: Any = ()) -> tuple[int, bytes]:
        self.calls.append((url, body))
        rows: dict[str, list[dict[str, Any]]] = {
            "deployments/filter": self.deployments, "flows/filter": [{"id": "f1", "name": "f"}],
            "variables/filter": [], "block_documents/filter": [],
            "v2/concurrency_limits/filter": self.limits}
        offset, size = body.get("offset", 0), body["limit"]
        return 200, json.dumps(rows[url][offset:offset + size]).encode()

    def json(self, method: str, url: str, body: bytes) -> Any:
        return json.loads(body)


def test_every_page_of_deployments_and_limits_is_read() -> None:
    client = PagingClient()
    current = so.Server(client).read()
    assert len(current["deployments"]) == 250
    assert {d["flow_name"] for d in current["deployments"]} == {"f"}
    assert len(current["concurrency_limits"]) == 251
    # The declared limit, on the second page, is found: no create of a name that exists.
    actions = so.plan({"deployments": [], "variables": {}, "secrets": {},
                       "concurrency_limits": [{"name": "warehouse", "limit": 4}]}, current)
    assert actions == []
    assert [c[1]["offset"] for c in client.calls if c[0] == "v2/concurrency_limits/filter"] == [
        0, 200]
