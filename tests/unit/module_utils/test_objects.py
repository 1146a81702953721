"""plugins/module_utils/objects.py: the plan of what to create, change and remove.

The server's side is shaped as Prefect 3 answers (read off a real server: a cron
without a timezone comes back with timezone None, an interval with its anchor_date
and timezone UTC filled in, an rrule with a DTSTART put in front, a deployment's limit
as its own global concurrency limit); tests/flows/test_server_objects.py runs the
same plan against a real server."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible_collections.prefect_preset.prefect.plugins.module_utils import objects

from module_harness import load_plugin

LABEL, TAG, LEDGER = objects.LABEL, objects.TAG, objects.LEDGER
PATH = "/opt/prefect/code/pipelines/v2"


def declared_deployment(name: str = "nightly", **over: Any) -> dict[str, Any]:
    """A deployment as server_objects declares it: the wire without flow_id, with flow_name."""
    item = {
        "name": name, "flow_name": "sync", "entrypoint": "flows/jobs.py:sync", "path": PATH,
        "version": "v2", "source": "pipelines", "work_pool": "etl", "work_queue": "",
        "schedules": [{"cron": "0 2 * * *", "timezone": "Europe/Berlin", "active": True,
                       "day_or": True}],
        "parameters": {"table": "orders"}, "tags": ["prod"], "description": "",
        "concurrency_limit": 1, "job_variables": {}, "paused": False,
        "parameter_openapi_schema": {"type": "object", "title": "Parameters",
                                     "properties": {"table": {"title": "table", "position": 0}},
                                     "required": []},
        **over,
    }
    wire = objects.deployment_wire(item, None)
    wire.pop("flow_id")
    wire["flow_name"] = item["flow_name"]
    return wire


def on_server(entry: dict[str, Any]) -> dict[str, Any]:
    """A schedule entry as the server returns it after taking entry."""
    body = dict(entry["schedule"])
    if "cron" in body:
        body.setdefault("timezone", None)
    elif "interval" in body:
        body.setdefault("anchor_date", "2026-12-06T07:36:42.471748Z")
        body.setdefault("timezone", "UTC")
    else:
        if "DTSTART" not in body["rrule"]:
            body["rrule"] = "DTSTART:20200101T000000\n" + body["rrule"]
        body.setdefault("timezone", "UTC")
    return {"id": "s-" + str(id(entry)), "deployment_id": "d", "schedule": body,
            "active": entry["active"], "max_scheduled_runs": None, "parameters": {},
            "slug": None}


def server_deployment(wire: dict[str, Any], did: str = "d1") -> dict[str, Any]:
    """The deployment as the server holds it once wire was applied."""
    got = {k: copy.deepcopy(v) for k, v in wire.items() if k != "concurrency_limit"}
    limit = wire["concurrency_limit"]
    got.update(
        id=did, flow_id="f1", concurrency_limit=None,
        global_concurrency_limit=None if limit is None else {
            "id": "g1", "name": f"deployment:{did}", "limit": limit, "active": True},
        labels={"prefect.flow.id": "f1", **wire["labels"]},
        schedules=[on_server(s) for s in wire["schedules"]],
    )
    return got


def empty_declaration(**over: Any) -> dict[str, Any]:
    return {"deployments": [], "variables": {}, "secrets": {}, "concurrency_limits": [], **over}


def empty_server(**over: Any) -> dict[str, Any]:
    return {"deployments": [], "variables": [], "secrets": {}, "concurrency_limits": [],
            "ledger": {}, **over}


def ops(actions: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(a["kind"], a["name"], a["op"]) for a in actions]


# --- wire ---------------------------------------------------------------------------------


def test_a_deployment_points_at_its_versioned_code_and_carries_the_label() -> None:
    wire = declared_deployment()
    assert wire["path"] == PATH
    assert wire["pull_steps"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": PATH}}]
    assert wire["labels"] == {LABEL: "pipelines"}
    assert wire["work_queue_name"] == "default"
    assert wire["description"] is None
    assert wire["schedules"] == [{"schedule": {"cron": "0 2 * * *", "timezone": "Europe/Berlin",
                                               "day_or": True}, "active": True}]


def test_a_schedule_goes_on_the_wire_without_unset_fields() -> None:
    assert objects.schedule_wire({"interval": 60.0, "timezone": None, "active": False}) == {
        "schedule": {"interval": 60.0}, "active": False}


# --- deployments --------------------------------------------------------------------------


def test_a_declared_deployment_the_server_lacks_is_created() -> None:
    wire = declared_deployment()
    actions = objects.plan(empty_declaration(deployments=[wire]), empty_server())
    assert actions == [{"kind": "deployment", "name": "sync/nightly", "op": "create", "id": None,
                        "changes": [], "body": wire}]


def test_a_deployment_as_declared_is_left_alone() -> None:
    wire = declared_deployment()
    current = empty_server(deployments=[server_deployment(wire)])
    assert objects.plan(empty_declaration(deployments=[wire]), current) == []


def test_a_new_version_updates_path_pull_step_and_version() -> None:
    old = server_deployment(declared_deployment(path="/opt/prefect/code/pipelines/v1",
                                                version="v1"))
    wire = declared_deployment()
    [action] = objects.plan(empty_declaration(deployments=[wire]),
                            empty_server(deployments=[old]))
    assert (action["op"], action["id"]) == ("update", "d1")
    assert action["changes"] == ["path", "pull_steps", "version"]
    assert action["body"] == wire


@pytest.mark.parametrize(("over", "changes"), [
    ({"parameters": {"table": "customers"}}, ["parameters"]),
    ({"tags": ["prod", "eu"]}, ["tags"]),
    ({"description": "Nightly"}, ["description"]),
    ({"paused": True}, ["paused"]),
    ({"work_queue": "high"}, ["work_queue_name"]),
    ({"job_variables": {"env": {"A": "1"}}}, ["job_variables"]),
    ({"entrypoint": "flows/jobs.py:other"}, ["entrypoint"]),
    ({"source": "renamed"}, ["labels"]),
])
def test_each_changed_field_is_named(over: dict[str, Any], changes: list[str]) -> None:
    current = empty_server(deployments=[server_deployment(declared_deployment())])
    [action] = objects.plan(empty_declaration(deployments=[declared_deployment(**over)]),
                            current)
    assert action["op"] == "update" and action["changes"] == changes


def test_a_hand_made_deployment_of_the_same_flow_and_name_is_adopted() -> None:
    hand_made = server_deployment(declared_deployment())
    hand_made["labels"] = {"prefect.flow.id": "f1"}
    [action] = objects.plan(empty_declaration(deployments=[declared_deployment()]),
                            empty_server(deployments=[hand_made]))
    assert action["op"] == "update" and action["changes"] == ["labels"]


def test_deployments_of_another_flow_with_the_same_name_are_not_the_same() -> None:
    other = server_deployment(declared_deployment(flow_name="other"), did="d9")
    actions = objects.plan(empty_declaration(deployments=[declared_deployment()]),
                           empty_server(deployments=[other]))
    assert ops(actions) == [("deployment", "sync/nightly", "create"),
                            ("deployment", "other/nightly", "delete")]


def test_a_labelled_deployment_no_longer_declared_is_deleted_a_hand_made_one_is_not() -> None:
    ours = server_deployment(declared_deployment("gone"), did="d2")
    theirs = server_deployment(declared_deployment("manual"), did="d3")
    theirs["labels"] = {"prefect.flow.id": "f1"}
    actions = objects.plan(empty_declaration(), empty_server(deployments=[ours, theirs]))
    assert actions == [{"kind": "deployment", "name": "sync/gone", "op": "delete", "id": "d2",
                        "changes": [], "body": None}]
    assert objects.plan(empty_declaration(), empty_server(deployments=[ours, theirs]),
                        prune=False) == []


@pytest.mark.parametrize(("server_limit", "declared_limit", "changed"), [
    (2, 2, False), (2, 3, True), (2, None, True), (None, 2, True), (None, None, False)])
def test_the_deployment_limit_is_read_from_its_global_concurrency_limit(
        server_limit: int | None, declared_limit: int | None, changed: bool) -> None:
    current = server_deployment(declared_deployment(concurrency_limit=server_limit))
    assert current["concurrency_limit"] is None  # what the server says there, always
    actions = objects.plan(
        empty_declaration(deployments=[declared_deployment(concurrency_limit=declared_limit)]),
        empty_server(deployments=[current]))
    assert [a["changes"] for a in actions] == ([["concurrency_limit"]] if changed else [])


# --- schedules ----------------------------------------------------------------------------

CRON_BERLIN = {"cron": "0 2 * * *", "timezone": "Europe/Berlin", "active": True, "day_or": True}
CRON_PLAIN = {"cron": "30 6 * * mon-fri", "active": True, "day_or": True}
HOURLY = {"interval": 3600.0, "active": True}
ANCHORED = {"interval": 60.0, "anchor_date": "2024-01-01T00:00:00+02:00", "active": False}
WEEKLY = {"rrule": "FREQ=WEEKLY;BYDAY=MO", "active": True}


def schedule_changes(declared: list[dict[str, Any]], held: list[dict[str, Any]]) -> bool:
    """Whether the plan updates a deployment declared with `declared` schedules on a
    server that took `held` ones."""
    current = server_deployment(declared_deployment(schedules=held))
    actions = objects.plan(empty_declaration(deployments=[declared_deployment(
        schedules=declared)]), empty_server(deployments=[current]))
    assert all(a["changes"] == ["schedules"] for a in actions)
    return bool(actions)


@pytest.mark.parametrize("schedules", [
    [CRON_BERLIN], [CRON_PLAIN], [HOURLY], [ANCHORED], [WEEKLY],
    [CRON_BERLIN, HOURLY], [CRON_BERLIN, CRON_PLAIN, HOURLY, ANCHORED, WEEKLY],
    [HOURLY, {**HOURLY, "anchor_date": "2024-01-01T00:00:00Z"}], [],
])
def test_schedules_the_server_holds_as_declared_are_no_change(
        schedules: list[dict[str, Any]]) -> None:
    assert not schedule_changes(schedules, schedules)


def test_schedules_are_compared_whatever_their_order() -> None:
    assert not schedule_changes([CRON_BERLIN, HOURLY, WEEKLY], [WEEKLY, CRON_BERLIN, HOURLY])


def test_a_timezone_given_as_utc_is_the_servers_none() -> None:
    assert not schedule_changes([{**CRON_PLAIN, "timezone": "UTC"}], [CRON_PLAIN])
    assert not schedule_changes([CRON_PLAIN], [{**CRON_PLAIN, "timezone": "UTC"}])


@pytest.mark.parametrize(("declared", "held"), [
    ([{**CRON_BERLIN, "cron": "0 3 * * *"}], [CRON_BERLIN]),
    ([{**CRON_BERLIN, "timezone": "Europe/Paris"}], [CRON_BERLIN]),
    ([{k: v for k, v in CRON_BERLIN.items() if k != "timezone"}], [CRON_BERLIN]),
    ([{**CRON_BERLIN, "day_or": False}], [CRON_BERLIN]),
    ([{**CRON_BERLIN, "active": False}], [CRON_BERLIN]),
    ([{**HOURLY, "interval": 1800.0}], [HOURLY]),
    ([{**ANCHORED, "anchor_date": "2024-01-01T00:00:00Z"}], [ANCHORED]),
    ([{**WEEKLY, "rrule": "FREQ=WEEKLY;BYDAY=TU"}], [WEEKLY]),
    ([CRON_BERLIN], [CRON_BERLIN, HOURLY]),
    ([CRON_BERLIN, HOURLY], [CRON_BERLIN]),
    ([HOURLY, HOURLY], [HOURLY, {**HOURLY, "active": False}]),
])
def test_a_changed_added_or_removed_schedule_is_a_change(
        declared: list[dict[str, Any]], held: list[dict[str, Any]]) -> None:
    assert schedule_changes(declared, held)


def test_an_anchor_date_is_compared_as_the_instant_it_names() -> None:
    assert not schedule_changes([{**ANCHORED, "anchor_date": "2023-12-31T22:00:00Z"}],
                                [ANCHORED])
    naive_berlin = {**ANCHORED, "anchor_date": "2024-01-01T00:00:00", "timezone": "Europe/Berlin"}
    held_berlin = {**ANCHORED, "anchor_date": "2024-01-01T00:00:00+01:00",
                   "timezone": "Europe/Berlin"}
    assert not schedule_changes([naive_berlin], [held_berlin])


def test_an_rrule_with_its_own_dtstart_is_compared_whole() -> None:
    anchored = {"rrule": "DTSTART:20240101T090000\nFREQ=DAILY", "active": True}
    assert not schedule_changes([anchored], [anchored])
    assert schedule_changes([{**anchored, "rrule": "DTSTART:20240102T090000\nFREQ=DAILY"}],
                            [anchored])


def test_a_changed_cron_replaces_the_schedules_exactly() -> None:
    current = server_deployment(declared_deployment(schedules=[CRON_BERLIN, HOURLY]))
    wire = declared_deployment(schedules=[{**CRON_BERLIN, "cron": "0 4 * * *"}, HOURLY])
    [action] = objects.plan(empty_declaration(deployments=[wire]),
                            empty_server(deployments=[current]))
    assert action["changes"] == ["schedules"]
    assert action["body"]["schedules"] == [
        {"schedule": {"cron": "0 4 * * *", "timezone": "Europe/Berlin", "day_or": True},
         "active": True},
        {"schedule": {"interval": 3600.0}, "active": True}]


def test_the_server_filling_in_an_anchor_date_is_no_change() -> None:
    held = server_deployment(declared_deployment(schedules=[HOURLY]))
    assert held["schedules"][0]["schedule"]["anchor_date"]
    assert objects.schedules_differ(held["schedules"], [objects.schedule_wire(HOURLY)]) is False


# --- variables ----------------------------------------------------------------------------


def variable(name: str, value: Any, tags: list[str] | None = None, vid: str = "") -> dict:
    return {"id": vid or f"v-{name}", "name": name, "value": value,
            "tags": [TAG] if tags is None else tags}


def test_variables_are_created_updated_and_left_alone() -> None:
    current = empty_server(variables=[variable("environment", "prod"),
                                      variable("region", "eu", tags=[TAG, "team"])])
    declared = empty_declaration(variables={"environment": "prod", "region": "us",
                                            "retries": 3})
    assert objects.plan(declared, current) == [
        {"kind": "variable", "name": "region", "op": "update", "id": "v-region",
         "changes": ["value"], "body": {"value": "us", "tags": [TAG, "team"]}},
        {"kind": "variable", "name": "retries", "op": "create", "id": None, "changes": [],
         "body": {"name": "retries", "value": 3, "tags": [TAG]}},
    ]


def test_a_value_of_another_type_is_a_change() -> None:
    current = empty_server(variables=[variable("retries", "3")])
    [action] = objects.plan(empty_declaration(variables={"retries": 3}), current)
    assert action["changes"] == ["value"]


def test_a_hand_made_variable_declared_by_name_is_adopted_with_the_tag() -> None:
    current = empty_server(variables=[variable("environment", "prod", tags=["ops"])])
    [action] = objects.plan(empty_declaration(variables={"environment": "prod"}), current)
    assert action["op"] == "update" and action["changes"] == ["tags"]
    assert action["body"] == {"value": "prod", "tags": ["ops", TAG]}


def test_only_tagged_variables_are_pruned_and_never_the_ledger() -> None:
    current = empty_server(variables=[variable("old", 1), variable("manual", 2, tags=[]),
                                      variable("other", 3, tags=["ops"]),
                                      variable(LEDGER, {"secrets": []})])
    assert ops(objects.plan(empty_declaration(), current)) == [("variable", "old", "delete")]
    assert objects.plan(empty_declaration(), current, prune=False) == []


# --- Secret blocks ------------------------------------------------------------------------


def test_secrets_are_created_updated_and_left_alone() -> None:
    current = empty_server(secrets={"a": {"id": "b-a", "value": "1"},
                                    "b": {"id": "b-b", "value": "2"}},
                           ledger={"secrets": ["a", "b"]})
    actions = objects.plan(empty_declaration(secrets={"a": "1", "b": "changed", "c": "3"}),
                           current)
    assert actions == [
        {"kind": "secret", "name": "b", "op": "update", "id": "b-b", "changes": ["value"],
         "body": {"value": "changed"}},
        {"kind": "secret", "name": "c", "op": "create", "id": None, "changes": [],
         "body": {"value": "3"}},
    ]


def test_only_secrets_in_the_ledger_are_pruned() -> None:
    current = empty_server(secrets={"ours": {"id": "b1", "value": "x"},
                                    "manual": {"id": "b2", "value": "y"}},
                           ledger={"secrets": ["ours", "already-gone"]})
    assert objects.plan(empty_declaration(), current) == [
        {"kind": "secret", "name": "ours", "op": "delete", "id": "b1", "changes": [],
         "body": None}]
    assert objects.plan(empty_declaration(), current, prune=False) == []


# --- concurrency limits -------------------------------------------------------------------


def limit(name: str, value: int, active: bool = True) -> dict[str, Any]:
    return {"id": f"l-{name}", "name": name, "limit": value, "active": active,
            "active_slots": 0, "slot_decay_per_second": 0.0}


def test_limits_are_created_updated_and_left_alone() -> None:
    current = empty_server(concurrency_limits=[limit("api", 2), limit("db", 4),
                                               limit("queue", 1)])
    declared = empty_declaration(concurrency_limits=[
        {"name": "api", "limit": 2}, {"name": "db", "limit": 8, "active": False},
        {"name": "queue", "limit": "1", "active": True}, {"name": "new", "limit": 1}])
    assert objects.plan(declared, current) == [
        {"kind": "concurrency_limit", "name": "db", "op": "update", "id": "l-db",
         "changes": ["limit", "active"], "body": {"name": "db", "limit": 8, "active": False}},
        {"kind": "concurrency_limit", "name": "new", "op": "create", "id": None, "changes": [],
         "body": {"name": "new", "limit": 1, "active": True}},
    ]


def test_only_limits_in_the_ledger_are_pruned_never_a_deployments_own() -> None:
    current = empty_server(concurrency_limits=[limit("ours", 1), limit("manual", 1),
                                               limit("deployment:d1", 1)],
                           ledger={"concurrency_limits": ["ours"]})
    assert ops(objects.plan(empty_declaration(), current)) == [
        ("concurrency_limit", "ours", "delete")]
    assert objects.plan(empty_declaration(), current, prune=False) == []


# --- the ledger ---------------------------------------------------------------------------


def test_the_ledger_after_names_what_is_declared() -> None:
    declared = empty_declaration(secrets={"b": "1", "a": "2"},
                                 concurrency_limits=[{"name": "z", "limit": 1}])
    current = empty_server(ledger={"secrets": ["old"], "concurrency_limits": ["gone"]})
    assert objects.ledger_after(declared, current) == {"secrets": ["a", "b"],
                                                       "concurrency_limits": ["z"]}


def test_without_pruning_the_ledger_keeps_what_it_owned() -> None:
    declared = empty_declaration(secrets={"b": "1"})
    current = empty_server(ledger={"secrets": ["old", "b"], "concurrency_limits": ["gone"]})
    assert objects.ledger_after(declared, current, prune=False) == {
        "secrets": ["b", "old"], "concurrency_limits": ["gone"]}


def test_no_ledger_and_nothing_declared_is_an_empty_ledger() -> None:
    assert objects.ledger_after(empty_declaration(), empty_server()) == {
        "secrets": [], "concurrency_limits": []}


def test_flows_plan_reserves_the_ledgers_name() -> None:
    flows_plan = load_plugin("plugins/filter/flows_plan.py", "prefect_filter_flows_plan_l")
    assert flows_plan.LEDGER == LEDGER
