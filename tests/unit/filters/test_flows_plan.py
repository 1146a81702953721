"""plugins/filter/flows_plan.py and code_for.py: flows as code checked whole, and planned.

The sources are shaped as flow_source returns them (and as a loop's failed item is
registered); each error names the item and what is accepted."""

from __future__ import annotations

from typing import Any

import pytest

from module_harness import load_plugin

fp = load_plugin("plugins/filter/flows_plan.py", "prefect_filter_flows_plan")
cf = load_plugin("plugins/filter/code_for.py", "prefect_filter_code_for")

CODE_DIR = "/opt/prefect/code"
POOLS = [{"name": "etl", "type": "process"}, {"name": "ml", "type": "process"}]


def deployment(name: str = "nightly", **over: Any) -> dict[str, Any]:
    """A deployment as flow_source returns it."""
    return {
        "name": name, "entrypoint": "flows/jobs.py:sync", "work_pool": "etl", "work_queue": "",
        "schedules": [{"cron": "0 2 * * *", "active": True, "day_or": True}],
        "parameters": {"table": "orders"}, "tags": ["prod"], "description": "",
        "concurrency_limit": None, "job_variables": {}, "paused": False,
        "flow_name": "sync", "accepts": ["table", "limit"], "required": ["table"],
        "var_kwargs": False, "problems": [], "index": 0, **over,
    }


def source(*deployments: dict[str, Any], version: str = "a" * 40, **over: Any) -> dict[str, Any]:
    return {"changed": False, "version": version, "commit": version,
            "export": f"/cache/code/x/{version}", "archive": f"/cache/code/x/{version}.tar.gz",
            "deployments": list(deployments), "from_prefect_yaml": False, "notes": [],
            "problems": [], **over}


def plan(sources: list[dict[str, Any]], names: list[str] | None = None, *,
         pools: list[dict[str, Any]] | None = None, variables: dict[str, Any] | None = None,
         secrets: dict[str, Any] | None = None, limits: list[dict[str, Any]] | None = None,
         secret_values: list[str] | None = None) -> dict[str, Any]:
    declared = [{"name": n, "git": "https://example.invalid/x.git", "ref": "main"}
                for n in (names or [f"src{i}" for i in range(len(sources))])]
    return fp.flows_plan(sources, declared, POOLS if pools is None else pools, variables or {},
                         secrets or {}, limits or [], CODE_DIR, secret_values)


# --- the plan -----------------------------------------------------------------------------


def test_a_clean_declaration_plans_deployments_and_sources() -> None:
    got = plan([source(deployment(), deployment("hourly", work_pool="ml", parameters={}))],
               ["pipelines"])
    assert got["errors"] == [] and got["notes"] == []
    nightly, hourly = got["deployments"]
    path = f"{CODE_DIR}/pipelines/{'a' * 40}"
    assert nightly == {
        "name": "nightly", "flow_name": "sync", "entrypoint": "flows/jobs.py:sync",
        "work_pool": "etl", "work_queue": "",
        "schedules": [{"cron": "0 2 * * *", "active": True, "day_or": True}],
        "parameters": {"table": "orders"}, "tags": ["prod"], "description": "",
        "concurrency_limit": None, "job_variables": {}, "paused": False,
        "path": path, "version": "a" * 40, "source": "pipelines",
        "parameter_openapi_schema": {
            "type": "object", "title": "Parameters",
            "properties": {"table": {"title": "table", "position": 0},
                           "limit": {"title": "limit", "position": 1}},
            "required": ["table"]},
    }
    assert hourly["work_pool"] == "ml" and hourly["path"] == path
    assert got["sources"] == [{"name": "pipelines", "version": "a" * 40,
                               "archive": f"/cache/code/x/{'a' * 40}.tar.gz", "path": path,
                               "pools": ["etl", "ml"]}]


def test_each_source_lands_in_its_own_versioned_directory() -> None:
    got = plan([source(deployment("a")), source(deployment("b"), version="0123456789ab")],
               ["one", "two"])
    assert got["errors"] == []
    assert [d["path"] for d in got["deployments"]] == [f"{CODE_DIR}/one/{'a' * 40}",
                                                       f"{CODE_DIR}/two/0123456789ab"]
    assert [(s["name"], s["pools"]) for s in got["sources"]] == [("one", ["etl"]),
                                                                 ("two", ["etl"])]


def test_a_flow_without_parameters_has_an_empty_schema() -> None:
    got = plan([source(deployment(parameters={}, accepts=[], required=[]))])
    assert got["deployments"][0]["parameter_openapi_schema"] == {
        "type": "object", "title": "Parameters", "properties": {}, "required": []}


def test_notes_of_every_source_are_collected() -> None:
    got = plan([source(deployment("a"), notes=["n1"]), source(deployment("b"), notes=["n2"])])
    assert got["notes"] == ["n1", "n2"] and got["errors"] == []


# --- errors -------------------------------------------------------------------------------


def test_a_source_that_could_not_be_read_is_an_error_with_its_message() -> None:
    failed = {"failed": True, "msg": "https://x has no tag, branch or commit 'v9'"}
    got = plan([failed, source(deployment())], ["broken", "fine"])
    assert got["errors"] == ["flows broken: https://x has no tag, branch or commit 'v9'"]
    assert [s["name"] for s in got["sources"]] == ["fine"]
    assert plan([{"failed": True}], ["x"])["errors"] == ["flows x: could not be read"]


def test_a_failed_read_registered_under_failed_when_false_is_still_an_error() -> None:
    # How Ansible registers a loop item that failed under failed_when: false (the role's
    # task): failed is false, the module's msg stays, nothing else it would return.
    registered = {"failed": False, "failed_when_result": False, "item": "broken",
                  "msg": "https://x has no tag, branch or commit 'v9'", "changed": False}
    got = plan([registered, source(deployment())], ["broken", "fine"])
    assert got["errors"] == ["flows broken: https://x has no tag, branch or commit 'v9'"]


def test_problems_of_a_source_and_of_its_deployments_are_passed_through() -> None:
    got = plan([source(deployment(problems=["flows s deployment nightly: bad cron"]),
                       problems=["flows s: prefect.yaml is not a mapping"])], ["s"])
    assert got["errors"] == ["flows s: prefect.yaml is not a mapping",
                             "flows s deployment nightly: bad cron"]


def test_a_work_pool_must_be_given_when_there_are_several() -> None:
    got = plan([source(deployment(work_pool=""))], ["s"])
    assert got["errors"] == ["flows s deployment nightly: give work_pool (one of etl, ml)"]


def test_the_only_work_pool_is_the_default() -> None:
    got = plan([source(deployment(work_pool=""))], ["s"], pools=[{"name": "etl"}])
    assert got["errors"] == []
    assert got["deployments"][0]["work_pool"] == "etl"
    assert got["sources"][0]["pools"] == ["etl"]


def test_no_work_pool_at_all_is_said() -> None:
    got = plan([source(deployment(work_pool=""))], ["s"], pools=[])
    assert got["errors"] == ["flows s deployment nightly: give work_pool (one of no pool)"]
    assert got["sources"][0]["pools"] == []


def test_a_work_pool_that_is_not_declared_is_an_error_naming_the_declared_ones() -> None:
    got = plan([source(deployment(work_pool="gpu"))], ["s"])
    assert got["errors"] == [
        "flows s deployment nightly: work_pool gpu is not declared in work_pools (etl, ml)"]
    got = plan([source(deployment(work_pool="gpu"))], ["s"], pools=[])
    assert got["errors"] == [
        "flows s deployment nightly: work_pool gpu is not declared in work_pools (none)"]


def test_a_parameter_the_flow_does_not_take_is_an_error() -> None:
    got = plan([source(deployment(parameters={"table": "x", "tabel": "y", "mode": 1}))], ["s"])
    assert got["errors"] == ["flows s deployment nightly: the flow sync takes no parameter "
                             "mode, tabel (it takes table, limit)"]
    got = plan([source(deployment(parameters={"x": 1}, accepts=[], required=[]))], ["s"])
    assert got["errors"] == ["flows s deployment nightly: the flow sync takes no parameter x "
                             "(it takes none)"]


def test_a_flow_with_var_kwargs_takes_any_parameter() -> None:
    got = plan([source(deployment(parameters={"anything": 1}, var_kwargs=True))])
    assert got["errors"] == []


def test_parameters_are_not_checked_against_a_flow_that_was_not_found() -> None:
    problem = "flows s deployment nightly: entrypoint 'f.py:sync': f.py defines no function sync"
    got = plan([source(deployment(parameters={"x": 1}, flow_name="", accepts=[],
                                  problems=[problem]))], ["s"])
    assert got["errors"] == [problem]


def test_one_deployment_name_twice_across_sources_is_an_error() -> None:
    got = plan([source(deployment("nightly")), source(deployment("nightly"))], ["one", "two"])
    assert got["errors"] == ["flows two deployment nightly: a deployment named nightly is "
                             "declared twice (also in flows one)"]


def test_one_deployment_name_twice_in_a_source_is_an_error() -> None:
    got = plan([source(deployment("nightly"), deployment("nightly"))], ["one"])
    assert got["errors"] == ["flows one deployment nightly: a deployment named nightly is "
                             "declared twice (also in flows one)"]


def test_two_sources_with_one_name_are_an_error() -> None:
    got = plan([source(deployment("a")), source(deployment("b"))], ["same", "same"])
    assert got["errors"] == ["flows[1]: two code sources named same"]


@pytest.mark.parametrize("name", ["", "../etc", "with space", "-dash-first", "a/b", "x" * 64])
def test_a_source_name_must_be_a_directory_name(name: str) -> None:
    got = plan([source(deployment())], [name])
    assert got["errors"][0] == (
        f"flows[0].name {name!r}: letters, digits, '_', '.', '-' (a directory name)")


@pytest.mark.parametrize("name", ["pipelines", "Team.ETL-2", "a_b", "x" * 63])
def test_good_source_names_pass(name: str) -> None:
    assert plan([source(deployment())], [name])["errors"] == []


# --- variables, secrets, limits -----------------------------------------------------------


@pytest.mark.parametrize("name", ["db_password", "passwd", "api-token", "client_secret",
                                  "stripe_api_key", "apikey", "ssh_private_key", "credentials"])
def test_a_variable_named_like_a_secret_is_refused(name: str) -> None:
    got = plan([], [], variables={name: "x"})
    assert got["errors"] == [f"variables {name}: looks like a secret (its name, or a value given "
                             "as a secret elsewhere); give it in secrets, which become Secret "
                             "blocks"]


def test_a_variable_holding_a_secrets_value_is_refused() -> None:
    got = plan([], [], variables={"dsn": "hunter2", "environment": "prod"},
               secrets={"warehouse-password": "hunter2"})
    assert got["errors"] == [
        "variables dsn: looks like a secret (its name, or a value given as a secret elsewhere); "
        "give it in secrets, which become Secret blocks"]


def test_a_variable_holding_another_secret_of_the_play_is_refused() -> None:
    got = plan([], [], variables={"header": "tok-123"}, secret_values=["tok-123", ""])
    assert [e.split(":")[0] for e in got["errors"]] == ["variables header"]


def test_empty_secrets_do_not_make_empty_variables_suspect() -> None:
    got = plan([], [], variables={"suffix": ""}, secrets={"unset": ""}, secret_values=[""])
    assert got["errors"] == []


@pytest.mark.parametrize("name", ["Environment", "has space", "a.b", "x" * 256])
def test_a_variable_name_prefect_would_refuse_is_an_error(name: str) -> None:
    got = plan([], [], variables={name: 1})
    assert got["errors"] == [f"variables {name}: Prefect variable names are lowercase letters, "
                             "digits, '_' and '-' (at most 255)"]


def test_the_preset_s_own_ledger_variable_cannot_be_declared() -> None:
    got = plan([], [], variables={"prefect-preset-objects": {"secrets": []}})
    assert got["errors"] == [
        "variables prefect-preset-objects: the preset keeps its record of the Secret blocks "
        "and concurrency limits it made in this variable; choose another name"]


@pytest.mark.parametrize(("name", "suggestion"), [
    ("Warehouse_Password", "warehouse-password"),
    ("db password!", "db-password"),
    ("API.KEY", "api-key"),
])
def test_a_secret_block_name_prefect_would_refuse_is_an_error_with_a_suggestion(
        name: str, suggestion: str) -> None:
    got = plan([], [], secrets={name: "v"})
    assert got["errors"] == [f"secrets {name}: Secret block names are lowercase letters, digits "
                             f"and '-' (e.g. {suggestion})"]


def test_good_secret_block_names_pass() -> None:
    assert plan([], [], secrets={"warehouse-password": "v", "k8s-token-2": "w"})["errors"] == []


@pytest.mark.parametrize("name", ["", "a/b", "50%", "x&y", "<w>"])
def test_a_limit_name_prefect_would_refuse_is_an_error(name: str) -> None:
    got = plan([], [], limits=[{"name": name, "limit": 1}])
    assert got["errors"] == [f"concurrency_limits[0].name {name!r}: a name without / % & > <"]


def test_a_limit_declared_twice_is_an_error() -> None:
    got = plan([], [], limits=[{"name": "warehouse", "limit": 1},
                               {"name": "api", "limit": 2},
                               {"name": "warehouse", "limit": 3}])
    assert got["errors"] == ["concurrency_limits: warehouse is declared twice"]


def test_every_error_is_reported_at_once() -> None:
    got = plan([source(deployment(work_pool="gpu", parameters={"x": 1}))], ["bad name"],
               variables={"token": "t"}, secrets={"Bad": "s"}, limits=[{"name": "a/b"}])
    assert len(got["errors"]) == 6


def test_the_filter_is_registered() -> None:
    assert fp.FilterModule().filters() == {"flows_plan": fp.flows_plan}
    assert cf.FilterModule().filters() == {"code_for": cf.code_for}


# --- code_for -----------------------------------------------------------------------------

SOURCES = [
    {"name": "pipelines", "version": "v2", "archive": "/c/v2.tar.gz",
     "path": f"{CODE_DIR}/pipelines/v2", "pools": ["etl"]},
    {"name": "models", "version": "m1", "archive": "/c/m1.tar.gz",
     "path": f"{CODE_DIR}/models/m1", "pools": ["ml", "gpu"]},
    {"name": "unused", "version": "u1", "archive": "/c/u1.tar.gz",
     "path": f"{CODE_DIR}/unused/u1", "pools": []},
]


def test_a_host_gets_the_sources_of_the_pools_it_serves() -> None:
    assert [s["name"] for s in cf.code_for(SOURCES, ["etl"], {}, CODE_DIR)] == ["pipelines"]
    assert [s["name"] for s in cf.code_for(SOURCES, ["gpu", "etl"], {}, CODE_DIR)] == [
        "pipelines", "models"]
    assert cf.code_for(SOURCES, ["other"], {}, CODE_DIR) == []
    assert cf.code_for(SOURCES, [], {}, CODE_DIR) == []


def test_present_says_whether_the_current_version_is_on_the_host() -> None:
    listings = {f"{CODE_DIR}/pipelines": ["v1", "v2"], f"{CODE_DIR}/models": ["m0"]}
    got = cf.code_for(SOURCES, ["etl", "ml"], listings, CODE_DIR)
    assert got == [{**SOURCES[0], "present": True}, {**SOURCES[1], "present": False}]


def test_a_version_being_copied_is_not_present() -> None:
    listings = {f"{CODE_DIR}/pipelines": ["v2.partial"]}
    assert cf.code_for(SOURCES, ["etl"], listings, CODE_DIR)[0]["present"] is False
