"""plugins/modules/server_objects.py against the real Prefect server of this tier.

The module runs as Ansible runs it: its file executed by the Python that has ansible-core
(/work/main/.venv), the arguments on stdin, the collection importable from a temporary
ansible_collections tree. What it did is then read back from the server's REST API.
Last, the example project (examples/flows-as-code) is read by flow_source, planned by
flows_plan, applied, and its flows run in-process against the server."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PYTHON = ROOT / ".venv" / "bin" / "python"
EXAMPLE = ROOT / "examples" / "flows-as-code"
PASSWORD = "pw-" + uuid.uuid4().hex  # a value that must never be shown
RUN = uuid.uuid4().hex[:8]  # names of this run's objects
POOL = f"etl-{RUN}"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def collections() -> Iterator[str]:
    """A directory that makes this checkout importable as the collection."""
    with tempfile.TemporaryDirectory(prefix="collections-") as directory:
        namespace = Path(directory) / "ansible_collections" / "prefect_preset"
        namespace.mkdir(parents=True)
        (namespace / "prefect").symlink_to(ROOT)
        yield directory


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    from prefect.settings import PREFECT_API_URL

    with httpx.Client(base_url=str(PREFECT_API_URL.value()), timeout=30) as client:
        for pool in (POOL, "etl"):  # "etl": the example project's pool
            answer = client.post("/work_pools/", json={"name": pool, "type": "process"})
            assert answer.status_code in (201, 409), answer.text
        yield client


def run_module(collections: str, api: httpx.Client, name: str, args: dict[str, Any],
               check: bool = False) -> tuple[dict[str, Any], str]:
    """Run a module of the collection as Ansible does; its result and raw stdout."""
    payload = {"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check,
                                       "_ansible_diff": True}}
    if name == "server_objects":
        payload["ANSIBLE_MODULE_ARGS"]["api_url"] = str(api.base_url).rstrip("/")
    done = subprocess.run(
        [str(ANSIBLE_PYTHON), str(ROOT / "plugins" / "modules" / f"{name}.py")],
        input=json.dumps(payload), capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": collections}, check=False)
    assert done.stdout, done.stderr
    return json.loads(done.stdout), done.stdout


def apply(collections: str, api: httpx.Client, check: bool = False,
          **declared: Any) -> tuple[dict[str, Any], str]:
    got, out = run_module(collections, api, "server_objects", declared, check)
    assert "failed" not in got, got
    return got, out


def deployment(name: str, schedules: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    """A deployment as flows_plan returns it."""
    path = f"/opt/prefect/code/pipelines/{RUN}"
    return {"name": name, "flow_name": f"sync-{RUN}", "entrypoint": "flows/sync.py:nightly_sync",
            "path": path, "version": RUN, "source": "pipelines", "work_pool": POOL,
            "work_queue": "", "schedules": schedules, "parameters": {"table": "orders"},
            "parameter_openapi_schema": {"type": "object", "title": "Parameters",
                                         "properties": {"table": {"title": "table",
                                                                  "position": 0}},
                                         "required": []},
            "tags": ["test"], "description": "", "concurrency_limit": None,
            "job_variables": {}, "paused": False, **over}


NIGHTLY = f"nightly-{RUN}"
HOURLY = f"hourly-{RUN}"
CRON = {"cron": "0 2 * * *", "timezone": "Europe/Berlin", "active": True, "day_or": True}
EVERY_HOUR = {"interval": 3600.0, "active": True}
# One deployment with each kind, the way the server fills them in differing: a cron's
# timezone stays None when not given, an interval gets an anchor_date and timezone UTC, an
# rrule a DTSTART in front. Declared again, none of that is a change.
MIXED = [EVERY_HOUR, {"cron": "15 * * * *", "timezone": "Europe/Berlin", "active": True,
                      "day_or": True},
         {"cron": "45 * * * *", "active": False, "day_or": True},
         {"rrule": "FREQ=WEEKLY;BYDAY=MO", "active": True}]


def declaration(cron: dict[str, Any] = CRON) -> dict[str, Any]:
    return {
        "deployments": [deployment(NIGHTLY, [cron], concurrency_limit=1),
                        deployment(HOURLY, MIXED, tags=["test", "hourly"])],
        "variables": {f"environment-{RUN}": "test", f"batch-{RUN}": {"size": 100}},
        "secrets": {f"warehouse-{RUN}": PASSWORD},
        "concurrency_limits": [{"name": f"warehouse-{RUN}", "limit": 4}],
    }


def server_deployment(api: httpx.Client, name: str) -> dict[str, Any]:
    found = api.post("/deployments/filter",
                     json={"deployments": {"name": {"any_": [name]}}}).json()
    assert len(found) == 1, found
    return found[0]


def variable(api: httpx.Client, name: str) -> dict[str, Any] | None:
    answer = api.get(f"/variables/name/{name}")
    return answer.json() if answer.status_code == 200 else None


def secret(api: httpx.Client, name: str) -> str | None:
    answer = api.get(f"/block_types/slug/secret/block_documents/name/{name}",
                     params={"include_secrets": True})
    return answer.json()["data"]["value"] if answer.status_code == 200 else None


def limit(api: httpx.Client, name: str) -> dict[str, Any] | None:
    answer = api.get(f"/v2/concurrency_limits/{name}")
    return answer.json() if answer.status_code == 200 else None


def test_declared_objects_are_created_as_declared_and_a_second_run_changes_nothing(
        collections: str, api: httpx.Client) -> None:
    got, out = apply(collections, api, **declaration())
    assert got["changed"] is True
    assert sorted(got["summary"]["create"]) == sorted([
        f"deployment sync-{RUN}/{NIGHTLY}", f"deployment sync-{RUN}/{HOURLY}",
        f"variable environment-{RUN}", f"variable batch-{RUN}", f"secret warehouse-{RUN}",
        f"concurrency_limit warehouse-{RUN}"])
    assert PASSWORD not in out

    nightly = server_deployment(api, NIGHTLY)
    assert nightly["labels"]["prefect-preset.source"] == "pipelines"
    assert nightly["path"] == f"/opt/prefect/code/pipelines/{RUN}"
    assert nightly["pull_steps"] == [{"prefect.deployments.steps.set_working_directory": {
        "directory": f"/opt/prefect/code/pipelines/{RUN}"}}]
    assert (nightly["work_pool_name"], nightly["version"], nightly["parameters"]) == (
        POOL, RUN, {"table": "orders"})
    assert nightly["global_concurrency_limit"]["limit"] == 1
    [cron] = nightly["schedules"]
    assert cron["schedule"] == {"cron": "0 2 * * *", "timezone": "Europe/Berlin",
                                "day_or": True}
    assert cron["active"] is True
    hourly = server_deployment(api, HOURLY)
    assert hourly["tags"] == ["test", "hourly"] and hourly["global_concurrency_limit"] is None
    held = {json.dumps(s["schedule"].get("interval") or s["schedule"].get("cron")
                       or s["schedule"]["rrule"]): s for s in hourly["schedules"]}
    assert len(held) == 4
    assert held["3600.0"]["schedule"]["timezone"] == "UTC"  # filled in by the server
    assert held["3600.0"]["schedule"]["anchor_date"]
    assert held['"15 * * * *"']["schedule"]["timezone"] == "Europe/Berlin"
    assert held['"45 * * * *"']["schedule"]["timezone"] is None
    assert held['"45 * * * *"']["active"] is False
    [rule] = [s for k, s in held.items() if "FREQ=WEEKLY" in k]
    assert rule["schedule"]["rrule"].endswith("FREQ=WEEKLY;BYDAY=MO")

    environment = variable(api, f"environment-{RUN}")
    assert environment is not None and environment["value"] == "test"
    assert environment["tags"] == ["prefect-preset"]
    batch = variable(api, f"batch-{RUN}")
    assert batch is not None and batch["value"] == {"size": 100}
    assert secret(api, f"warehouse-{RUN}") == PASSWORD
    warehouse = limit(api, f"warehouse-{RUN}")
    assert warehouse is not None and (warehouse["limit"], warehouse["active"]) == (4, True)
    ledger = variable(api, "prefect-preset-objects")
    assert ledger is not None and ledger["value"] == {
        "secrets": [f"warehouse-{RUN}"], "concurrency_limits": [f"warehouse-{RUN}"]}

    again, out = apply(collections, api, **declaration())
    assert again["changed"] is False, again["actions"]
    assert again["actions"] == [] and PASSWORD not in out


def test_check_mode_shows_a_cron_change_and_leaves_the_server_then_apply_replaces_it(
        collections: str, api: httpx.Client) -> None:
    apply(collections, api, **declaration())
    before = server_deployment(api, NIGHTLY)
    changed_cron = {**CRON, "cron": "30 3 * * *"}

    checked, out = apply(collections, api, check=True, **declaration(changed_cron))
    assert checked["changed"] is True
    assert [(a["kind"], a["name"], a["op"], a["changes"]) for a in checked["actions"]] == [
        ("deployment", f"sync-{RUN}/{NIGHTLY}", "update", ["schedules"])]
    assert "30 3 * * *" in checked["diff"]["after"]
    assert PASSWORD not in out
    assert server_deployment(api, NIGHTLY)["schedules"] == before["schedules"]

    applied, _ = apply(collections, api, **declaration(changed_cron))
    assert applied["changed"] is True
    [schedule] = server_deployment(api, NIGHTLY)["schedules"]  # exactly one: replaced
    assert schedule["schedule"]["cron"] == "30 3 * * *"
    assert schedule["schedule"]["timezone"] == "Europe/Berlin"


def test_what_is_no_longer_declared_goes_and_what_was_made_by_hand_stays(
        collections: str, api: httpx.Client) -> None:
    apply(collections, api, **declaration())
    hand_made = f"by-hand-{RUN}"
    assert api.post("/variables/", json={"name": hand_made, "value": "kept"}).status_code == 201

    smaller = declaration()
    smaller["deployments"] = smaller["deployments"][:1]
    smaller["variables"] = {f"environment-{RUN}": "test"}
    smaller["secrets"] = {}
    smaller["concurrency_limits"] = []
    got, out = apply(collections, api, **smaller)
    assert sorted(got["summary"]["delete"]) == sorted([
        f"deployment sync-{RUN}/{HOURLY}", f"variable batch-{RUN}", f"secret warehouse-{RUN}",
        f"concurrency_limit warehouse-{RUN}"])
    assert PASSWORD not in out
    assert api.post("/deployments/filter",
                    json={"deployments": {"name": {"any_": [HOURLY]}}}).json() == []
    assert variable(api, f"batch-{RUN}") is None
    assert secret(api, f"warehouse-{RUN}") is None
    assert limit(api, f"warehouse-{RUN}") is None
    kept = variable(api, hand_made)
    assert kept is not None and kept["value"] == "kept"
    server_deployment(api, NIGHTLY)  # still there
    ledger = variable(api, "prefect-preset-objects")
    assert ledger is not None and ledger["value"] == {"secrets": [], "concurrency_limits": []}


def test_the_example_project_deploys_and_its_flows_read_the_declared_objects(
        collections: str, api: httpx.Client, tmp_path: Path) -> None:
    source, _ = run_module(collections, api, "flow_source", {
        "name": "example", "path": str(EXAMPLE), "cache_dir": str(tmp_path / "cache")})
    assert "failed" not in source and source["problems"] == [], source
    flows_plan = load(ROOT / "plugins" / "filter" / "flows_plan.py", "flows_plan_filter")
    plan = flows_plan.flows_plan([source], [{"name": "example", "path": str(EXAMPLE)}],
                                 [{"name": "etl"}], {"environment": "test"},
                                 {"warehouse-password": PASSWORD}, [], "/opt/prefect/code",
                                 [])
    assert plan["errors"] == []
    got, out = apply(collections, api, deployments=plan["deployments"],
                     variables={"environment": "test"},
                     secrets={"warehouse-password": PASSWORD})
    assert got["changed"] is True and PASSWORD not in out
    nightly = server_deployment(api, "nightly-sync")
    assert nightly["path"] == f"/opt/prefect/code/example/{source['version']}"
    assert nightly["schedules"][0]["schedule"]["cron"] == "0 2 * * *"
    assert nightly["global_concurrency_limit"]["limit"] == 1
    assert server_deployment(api, "weekly-report")["schedules"][0]["schedule"]["interval"] == (
        604800.0)
    assert apply(collections, api, deployments=plan["deployments"],
                 variables={"environment": "test"},
                 secrets={"warehouse-password": PASSWORD})[0]["changed"] is False

    sync = load(EXAMPLE / "flows" / "sync.py", "example_sync")
    report = load(EXAMPLE / "flows" / "report.py", "example_report")
    state = sync.nightly_sync(return_state=True)
    assert state.is_completed() and state.result() == len("orders") * 1000
    logged = run_logs(api, state.state_details.flow_run_id)
    assert "copied 6000 rows of orders in test" in logged  # the declared variable
    assert f"password of {len(PASSWORD)} characters" in logged  # the declared secret
    assert PASSWORD not in logged
    assert report.weekly_report(weeks=2) == "report over 2 week(s)"


def run_logs(api: httpx.Client, flow_run_id: Any) -> str:
    """What a flow run logged (its prints, with log_prints), as the server holds it."""
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # the log worker sends in batches
    found = api.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [str(flow_run_id)]}},
                                           "limit": 200}).json()
    return "\n".join(entry["message"] for entry in found)
