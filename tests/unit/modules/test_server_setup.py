"""plugins/modules/server_setup.py: work pools and automations in one module call,
against an in-memory stand-in for Prefect's /work_pools and /automations routes.
The per-object logic is work_pool's and automation's (tested in their files); this
proves the batching: order, one result per object, changed, diff, check mode, and
errors that name the object."""

from __future__ import annotations

import copy
import sys
import urllib.parse
import uuid
from typing import Any

from module_harness import FakeApi, load_plugin, run_api_module

setup = load_plugin("plugins/modules/server_setup.py", "prefect_server_setup")
API_UTILS = sys.modules[setup.PrefectApiError.__module__]
API = "http://127.0.0.1:4200/api"
TEMPLATE = {"job_configuration": {"command": "{{ command }}"}, "variables": {"properties": {}}}
ZOMBIES = {
    "name": "Crash zombie flows",
    "trigger": {"type": "event", "posture": "Proactive", "expect": ["a", "b"], "within": 90},
    "actions": [{"type": "change-flow-run-state", "state": "CRASHED"}],
}


class FakePrefect(FakeApi):
    """The routes server_setup uses; records every request."""

    def __init__(self) -> None:
        super().__init__(API)
        self.pools: dict[str, dict[str, Any]] = {}
        self.queues: dict[str, list[str]] = {}
        self.automations: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []

    @property
    def writes(self) -> list[tuple[str, str]]:
        reads = ("/filter",)
        return [(m, u) for m, u in self.calls if m != "GET" and not u.endswith(reads)]

    def __call__(self, method: str, url: str, payload: Any = None, headers: Any = None) -> Any:
        refused = self.csrf_answer(method, url, headers)
        if refused is not None:
            return refused
        self.calls.append((method, url))
        path = url[len(API):]
        if path.startswith("/automations"):
            return self._automations(method, path, payload)
        parts = [urllib.parse.unquote(p) for p in path.split("/")[2:]]
        if method == "POST" and parts == [""]:
            pool = {"id": str(uuid.uuid4()), "status": "NOT_READY", "is_paused": False,
                    "concurrency_limit": None, "description": None, "base_job_template": {},
                    **payload}
            self.pools[pool["name"]] = pool
            self.queues[pool["name"]] = ["default"]
            return self._resp(201, pool)
        name = parts[0]
        if name not in self.pools:
            return self._resp(404, {"detail": f'Work pool "{name}" not found.'})
        if method == "GET":
            return self._resp(200, self.pools[name])
        if method == "PATCH":
            self.pools[name].update(payload)
            return self._resp(204)
        if parts[1:] == ["queues", "filter"]:
            return self._resp(200, [{"name": q} for q in self.queues[name]])
        if parts[1:] == ["queues"]:
            self.queues[name].append(payload["name"])
            return self._resp(201, {"name": payload["name"]})
        raise AssertionError((method, url))

    def _automations(self, method: str, path: str, payload: Any) -> Any:
        if path == "/automations/filter":
            wanted = payload["automations"]["name"]["any_"]
            return self._resp(200, [a for a in self.automations.values() if a["name"] in wanted])
        if method == "POST" and path == "/automations/":
            created = dict(copy.deepcopy(payload), id=str(uuid.uuid4()))
            self.automations[created["id"]] = created
            return self._resp(201, created)
        if method == "PUT":
            automation_id = path.rsplit("/", 1)[1]
            self.automations[automation_id] = dict(copy.deepcopy(payload), id=automation_id)
            return self._resp(204)
        raise AssertionError((method, path))


def run(fake: FakePrefect, capsys: Any, check_mode: bool = False, **args: Any) -> tuple[int, dict[str, Any]]:
    code, result, _headers = run_api_module(setup, API_UTILS, {"api_url": API, **args}, fake, capsys,
                                            check_mode=check_mode)
    return code, result


POOLS = [
    {"name": "default", "base_job_template": TEMPLATE},
    {"name": "etl", "concurrency_limit": 4, "work_queues": ["high"], "base_job_template": TEMPLATE},
]


def test_pools_then_automations_in_one_call_and_again_nothing_changes(capsys: Any) -> None:
    fake = FakePrefect()
    code, result = run(fake, capsys, work_pools=POOLS, automations=[ZOMBIES])
    assert code == 0 and result["changed"] is True
    assert [p["name"] for p in result["work_pools"]] == ["default", "etl"]
    assert [p["changed"] for p in result["work_pools"]] == [True, True]
    assert result["work_pools"][1]["created_queues"] == ["high"]
    assert result["automations"][0]["name"] == "Crash zombie flows"
    assert len(result["diff"]) == 3
    assert fake.pools["etl"]["concurrency_limit"] == 4 and fake.queues["etl"] == ["default", "high"]
    writes = [(m, u[len(API):]) for m, u in fake.writes]
    assert writes == [("POST", "/work_pools/"), ("POST", "/work_pools/"),
                      ("POST", "/work_pools/etl/queues"), ("POST", "/automations/")]

    fake.calls.clear()
    code, again = run(fake, capsys, work_pools=POOLS, automations=[ZOMBIES])
    assert code == 0 and again["changed"] is False and again["diff"] == []
    assert fake.writes == []


def test_only_what_differs_is_changed_and_shown(capsys: Any) -> None:
    fake = FakePrefect()
    run(fake, capsys, work_pools=POOLS, automations=[ZOMBIES])
    changed = [POOLS[0], dict(POOLS[1], concurrency_limit=8)]
    code, result = run(fake, capsys, work_pools=changed, automations=[ZOMBIES])
    assert code == 0 and result["changed"] is True
    assert [p["changed"] for p in result["work_pools"]] == [False, True]
    assert result["automations"][0]["changed"] is False
    assert result["diff"] == [{"before": {"name": "etl", "type": "process", "concurrency_limit": 4,
                                          "base_job_template": TEMPLATE, "work_queues": ["high"]},
                               "after": {"name": "etl", "type": "process", "concurrency_limit": 8,
                                         "base_job_template": TEMPLATE, "work_queues": ["high"]}}]


def test_check_mode_reports_the_changes_and_writes_nothing(capsys: Any) -> None:
    fake = FakePrefect()
    code, result = run(fake, capsys, check_mode=True, work_pools=POOLS, automations=[ZOMBIES])
    assert code == 0 and result["changed"] is True and len(result["diff"]) == 3
    assert fake.writes == [] and fake.pools == {} and fake.automations == {}


def test_a_bad_pool_is_refused_by_name_before_any_request(capsys: Any) -> None:
    fake = FakePrefect()
    bad = [POOLS[0], {"name": "a/b"}, {"name": "c", "concurrency_limit": -1}]
    code, result = run(fake, capsys, work_pools=bad)
    assert code == 1 and fake.calls == []
    assert result["msg"] == (
        "work pool 'a/b': name 'a/b' is not a valid work pool name: it must not contain / % & > or <; "
        "work pool 'c': concurrency_limit must be 0 (unlimited) or a positive number, got -1")


def test_a_refused_object_is_named_and_the_ones_before_it_are_done(capsys: Any) -> None:
    fake = FakePrefect()
    run(fake, capsys, work_pools=[{"name": "etl", "type": "docker"}])
    code, result = run(fake, capsys, work_pools=[{"name": "first"}, {"name": "etl"}])
    assert code == 1
    assert result["msg"].startswith("work pool 'etl': Work pool 'etl' exists with type 'docker'")
    assert "first" in fake.pools


def test_an_automation_without_trigger_is_named(capsys: Any) -> None:
    code, result = run(FakePrefect(), capsys, automations=[{"name": "x"}])
    assert code == 1
    assert result["msg"] == "automation 'x': state=present needs trigger and actions"
