"""plugins/module_utils/flows.py: what a code source declares, read without running it.

Cron and timezone checks against the expressions Prefect's server takes or refuses;
entrypoints inspected on real files in tmp_path (the code is parsed, never imported: a
file that would fail on import still inspects); deployments normalized from both shapes
prefect.yaml allows; prefect.yaml read with PyYAML, as flow_source does."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.prefect_preset.prefect.plugins.module_utils import flows


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- cron ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    ["0 2 * * *", "*/15 9-17 * * mon-fri", "@daily", "@HOURLY", "0 0 1 jan *",
     "0 0 1,15 * *", "0-59/5 * * * *", "0 0 * * 7", "0 0 * DEC *", "  0 2 * * *  "],
)
def test_valid_cron_expressions_have_no_error(expression: str) -> None:
    assert flows.cron_error(expression) == ""


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ("0 2 * * * *", "has 6 fields; give five"),
        ("0 2 * *", "has 4 fields; give five"),
        ("", "has 0 fields"),
        ("61 * * * *", "'61' is not a valid minute (0-59,"),
        ("0 25 * * *", "'25' is not a valid hour (0-23,"),
        ("* * 0 * *", "'0' is not a valid day of month (1-31,"),
        ("0 0 * 13 *", "'13' is not a valid month (1-12, or names"),
        ("0 0 * * 8", "'8' is not a valid day of week (0-7, or names"),
        ("*/0 * * * *", "'*/0' is not a valid minute"),
        ("*/x * * * *", "'*/x' is not a valid minute"),
        ("5-1 * * * *", "'5-1' is not a valid minute"),
        ("0 0 * * mon-", "'mon-' is not a valid day of week"),
        ("jan * * * *", "'jan' is not a valid minute (0-59, *, lists"),
        ("0 0 1,,15 * *", "'' is not a valid day of month"),
        ("@reboot", "has 1 fields"),
    ],
)
def test_invalid_cron_expressions_say_which_field_and_what_it_takes(
        expression: str, said: str) -> None:
    error = flows.cron_error(expression)
    assert said in error
    assert error.startswith(f"cron {expression!r}")


def test_a_cron_error_lists_the_aliases_when_the_field_count_is_wrong() -> None:
    assert "@hourly, @daily, @weekly, @monthly, @yearly" in flows.cron_error("daily")


# --- timezones ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Europe/Berlin", "UTC", "America/New_York", "", None])
def test_iana_zones_and_no_zone_are_accepted(name: str | None) -> None:
    assert flows.timezone_error(name) == ""


@pytest.mark.parametrize("name", ["Mars/Olympus", "utc+2", "../etc/passwd", "Europe", "posixrules"])
def test_names_that_are_not_iana_zones_are_refused(name: str) -> None:
    assert flows.timezone_error(name) == (
        f"timezone {name!r} is not an IANA time zone (e.g. Europe/Berlin, UTC)")


# --- schedules ----------------------------------------------------------------------------


def test_a_cron_schedule_is_normalized_with_day_or_and_active() -> None:
    assert flows.schedule_of({"cron": "0 2 * * *"}) == (
        {"cron": "0 2 * * *", "active": True, "day_or": True}, [])


def test_the_timezone_is_kept_only_when_given() -> None:
    schedule, problems = flows.schedule_of({"cron": "0 2 * * *", "timezone": "Europe/Berlin",
                                            "active": False, "day_or": False})
    assert problems == []
    assert schedule == {"cron": "0 2 * * *", "timezone": "Europe/Berlin", "active": False,
                        "day_or": False}
    assert "timezone" not in flows.schedule_of({"interval": 60, "timezone": ""})[0]


def test_an_interval_becomes_seconds_as_a_float() -> None:
    assert flows.schedule_of({"interval": "3600"}) == ({"interval": 3600.0, "active": True}, [])


@pytest.mark.parametrize("value", [0, -5, "soon", [1]])
def test_an_interval_must_be_a_positive_number(value: Any) -> None:
    _, problems = flows.schedule_of({"interval": value})
    assert problems == [f"interval {value!r} is not a positive number of seconds"]


def test_an_rrule_is_passed_as_given() -> None:
    rule = "FREQ=WEEKLY;BYDAY=MO"
    assert flows.schedule_of({"rrule": rule, "timezone": "UTC"}) == (
        {"rrule": rule, "timezone": "UTC", "active": True}, [])


@pytest.mark.parametrize(
    "raw",
    [{}, {"cron": "0 2 * * *", "interval": 60}, {"cron": "", "interval": None},
     {"cron": "0 2 * * *", "rrule": "FREQ=DAILY"}],
)
def test_a_schedule_takes_exactly_one_of_cron_interval_rrule(raw: dict[str, Any]) -> None:
    assert flows.schedule_of(raw) == (
        None, [f"a schedule takes exactly one of cron, interval, rrule; got {sorted(raw)}"])


def test_a_schedule_that_is_not_a_mapping_is_refused() -> None:
    assert flows.schedule_of("0 2 * * *") == (
        None, ["a schedule must be a mapping with cron, interval or rrule, got '0 2 * * *'"])


def test_unknown_schedule_keys_are_named() -> None:
    schedule, problems = flows.schedule_of({"cron": "0 2 * * *", "every": 1, "max_runs": 3})
    assert problems == ["a schedule does not take every, max_runs"]
    assert schedule is not None and "every" not in schedule


def test_a_bad_cron_and_a_bad_timezone_are_both_said() -> None:
    _, problems = flows.schedule_of({"cron": "0 25 * * *", "timezone": "Nowhere"})
    assert len(problems) == 2
    assert "'25' is not a valid hour" in problems[0]
    assert "timezone 'Nowhere'" in problems[1]


def test_an_anchor_date_is_kept_when_it_is_an_iso_date() -> None:
    schedule, problems = flows.schedule_of({"interval": 60, "anchor_date": "2024-01-01T00:00:00Z"})
    assert problems == []
    assert schedule == {"interval": 60.0, "active": True, "anchor_date": "2024-01-01T00:00:00Z"}


def test_an_anchor_date_that_is_not_a_date_is_refused() -> None:
    _, problems = flows.schedule_of({"interval": 60, "anchor_date": "tomorrow"})
    assert problems == ["anchor_date 'tomorrow' is not an ISO date and time"]


# --- entrypoints --------------------------------------------------------------------------

FLOWS_PY = """\
import prefect
from prefect import flow
raise RuntimeError("importing this file is an error: the preset must never run it")


@flow
def plain(table, limit=10):
    pass


@flow(name="Custom Name", retries=2)
def named(a, /, b, *, c, d=1, **extra):
    pass


@prefect.flow(log_prints=True)
async def asynchronous(when: str = "now"):
    pass


def helper(x):
    pass


@prefect.task
def a_task():
    pass
"""


@pytest.fixture
def source(tmp_path: Path) -> Path:
    write(tmp_path, "flows/jobs.py", FLOWS_PY)
    return tmp_path


def test_a_flow_is_found_with_its_default_name_and_parameters(source: Path) -> None:
    assert flows.inspect_entrypoint(source, "flows/jobs.py:plain") == {
        "problems": [], "flow_name": "plain", "accepts": ["table", "limit"],
        "required": ["table"], "var_kwargs": False}
    assert "jobs" not in sys.modules  # parsed, not imported (it raises on import)


def test_the_flow_name_is_the_function_name_with_dashes(tmp_path: Path) -> None:
    write(tmp_path, "f.py", "from prefect import flow\n@flow\ndef nightly_sync_job():\n    pass\n")
    assert flows.inspect_entrypoint(tmp_path, "f.py:nightly_sync_job")["flow_name"] == (
        "nightly-sync-job")


def test_flow_with_a_name_keyword_positional_only_keyword_only_and_var_kwargs(source: Path) -> None:
    got = flows.inspect_entrypoint(source, "flows/jobs.py:named")
    assert got["problems"] == []
    assert got["flow_name"] == "Custom Name"
    assert got["accepts"] == ["a", "b", "c", "d"]
    assert got["required"] == ["a", "b", "c"]
    assert got["var_kwargs"] is True


def test_an_async_flow_decorated_as_prefect_flow_is_found(source: Path) -> None:
    got = flows.inspect_entrypoint(source, "flows/jobs.py:asynchronous")
    assert got["problems"] == [] and got["flow_name"] == "asynchronous"
    assert got["accepts"] == ["when"] and got["required"] == []


@pytest.mark.parametrize(
    ("entrypoint", "said"),
    [
        ("flows/missing.py:plain", "flows/missing.py is not a file of the source"),
        ("../outside.py:plain", "../outside.py is not a file of the source"),
        ("flows/../../outside.py:plain", "is not a file of the source"),
        ("flows:plain", "flows is not a file of the source"),
        ("flows/jobs.py:nowhere", "flows/jobs.py defines no function nowhere"),
        ("flows/jobs.py:helper", "helper is not decorated with @flow"),
        ("flows/jobs.py:a_task", "a_task is not decorated with @flow"),
        ("flows/jobs.py", "is not PATH:FUNCTION"),
        ("flows/jobs.py:", "is not PATH:FUNCTION"),
    ],
)
def test_entrypoints_that_name_no_flow_of_the_source_say_why(
        source: Path, entrypoint: str, said: str) -> None:
    (source.parent / "outside.py").write_text(FLOWS_PY, encoding="utf-8")
    got = flows.inspect_entrypoint(source, entrypoint)
    assert len(got["problems"]) == 1 and said in got["problems"][0]
    assert got["problems"][0].startswith(f"entrypoint {entrypoint!r}")
    assert got["flow_name"] == ""


def test_a_file_that_does_not_parse_is_said_with_the_parsers_message(tmp_path: Path) -> None:
    write(tmp_path, "broken.py", "from prefect import flow\n@flow\ndef f(:\n    pass\n")
    got = flows.inspect_entrypoint(tmp_path, "broken.py:f")
    assert len(got["problems"]) == 1
    assert "broken.py does not parse: " in got["problems"][0]
    assert "line 3" in got["problems"][0]


def test_a_symlink_out_of_the_source_is_refused(tmp_path: Path) -> None:
    outside = write(tmp_path, "outside/real.py", FLOWS_PY)
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.py").symlink_to(outside)
    assert "is not a file of the source" in flows.inspect_entrypoint(
        root, "link.py:plain")["problems"][0]


# --- deployments --------------------------------------------------------------------------


def test_a_deployment_with_a_work_pool_mapping_is_normalized() -> None:
    deployment, problems = flows.deployment_of({
        "name": "nightly", "entrypoint": "flows/jobs.py:plain",
        "work_pool": {"name": "etl", "work_queue_name": "high",
                      "job_variables": {"env": {"A": "1"}}},
        "schedules": [{"cron": "0 2 * * *", "timezone": "Europe/Berlin"}],
        "parameters": {"table": "orders"}, "tags": ["prod"], "description": "Nightly copy",
        "concurrency_limit": 2, "paused": True,
    }, "flows pipelines")
    assert problems == []
    assert deployment == {
        "name": "nightly", "entrypoint": "flows/jobs.py:plain", "work_pool": "etl",
        "work_queue": "high",
        "schedules": [{"cron": "0 2 * * *", "timezone": "Europe/Berlin", "active": True,
                       "day_or": True}],
        "parameters": {"table": "orders"}, "tags": ["prod"], "description": "Nightly copy",
        "concurrency_limit": 2, "job_variables": {"env": {"A": "1"}}, "paused": True,
    }


def test_a_deployment_with_a_work_pool_name_takes_queue_and_job_variables_beside_it() -> None:
    deployment, problems = flows.deployment_of({
        "name": "d", "entrypoint": "f.py:f", "work_pool": "etl", "work_queue": "low",
        "job_variables": {"x": 1}}, "flows s")
    assert problems == []
    assert deployment is not None
    assert (deployment["work_pool"], deployment["work_queue"], deployment["job_variables"]) == (
        "etl", "low", {"x": 1})


def test_defaults_of_a_minimal_deployment() -> None:
    deployment, problems = flows.deployment_of({"name": "d", "entrypoint": "f.py:f"}, "flows s")
    assert problems == []
    assert deployment == {
        "name": "d", "entrypoint": "f.py:f", "work_pool": "", "work_queue": "", "schedules": [],
        "parameters": {}, "tags": [], "description": "", "concurrency_limit": None,
        "job_variables": {}, "paused": False}


@pytest.mark.parametrize("limit", [3, {"limit": 3, "collision_strategy": "ENQUEUE"}])
def test_concurrency_limit_as_a_number_or_a_mapping(limit: Any) -> None:
    deployment, problems = flows.deployment_of(
        {"name": "d", "entrypoint": "f.py:f", "concurrency_limit": limit}, "flows s")
    assert problems == [] and deployment is not None and deployment["concurrency_limit"] == 3


@pytest.mark.parametrize("limit", [0, -1, "2", True, 1.5, {"limit": 0}])
def test_a_concurrency_limit_must_be_a_positive_whole_number(limit: Any) -> None:
    _, problems = flows.deployment_of(
        {"name": "d", "entrypoint": "f.py:f", "concurrency_limit": limit}, "flows s")
    assert len(problems) == 1
    assert problems[0].startswith("flows s deployment d: concurrency_limit ")
    assert problems[0].endswith("is not a positive whole number")


def test_the_legacy_single_schedule_is_read_as_a_list_of_one() -> None:
    deployment, problems = flows.deployment_of(
        {"name": "d", "entrypoint": "f.py:f", "schedule": {"interval": 600}}, "flows s")
    assert problems == [] and deployment is not None
    assert deployment["schedules"] == [{"interval": 600.0, "active": True}]


def test_schedule_problems_name_the_deployment_and_the_index() -> None:
    deployment, problems = flows.deployment_of({
        "name": "d", "entrypoint": "f.py:f",
        "schedules": [{"cron": "0 2 * * *"}, {"cron": "0 99 * * *"}, {"interval": 0}]}, "flows s")
    assert problems[0].startswith("flows s deployment d schedules[1]: cron '0 99 * * *'")
    assert problems[1] == (
        "flows s deployment d schedules[2]: interval 0 is not a positive number of seconds")
    assert deployment is not None and len(deployment["schedules"]) == 3


@pytest.mark.parametrize(
    "raw",
    [
        {"name": "d", "entrypoint": "f.py:f", "parameters": {"table": "{{ $TABLE }}"}},
        {"name": "d", "entrypoint": "f.py:f", "work_pool": {"name": "{{ prefect.variables.p }}"}},
        {"name": "d", "entrypoint": "f.py:f", "tags": ["{{ get-tag }}"]},
    ],
)
def test_templated_values_are_refused(raw: dict[str, Any]) -> None:
    _, problems = flows.deployment_of(raw, "flows s")
    assert problems == ["flows s deployment d: uses {{ }} templating (prefect.yaml variables, "
                        "environment), which the preset does not evaluate; write the values out"]


def test_templating_in_steps_the_preset_ignores_is_not_refused() -> None:
    _, problems = flows.deployment_of({"name": "d", "entrypoint": "f.py:f",
                                       "pull": [{"step": "{{ build.image }}"}]}, "flows s")
    assert problems == []


@pytest.mark.parametrize("tags", ["prod", [1, 2], ["ok", None]])
def test_tags_must_be_a_list_of_strings(tags: Any) -> None:
    deployment, problems = flows.deployment_of(
        {"name": "d", "entrypoint": "f.py:f", "tags": tags}, "flows s")
    assert problems == ["flows s deployment d: tags must be a list of strings"]
    assert deployment is not None and deployment["tags"] == []


@pytest.mark.parametrize("parameters", [["table"], "table=orders"])
def test_parameters_must_be_a_mapping(parameters: Any) -> None:
    deployment, problems = flows.deployment_of(
        {"name": "d", "entrypoint": "f.py:f", "parameters": parameters}, "flows s")
    assert problems == ["flows s deployment d: parameters must be a mapping"]
    assert deployment is not None and deployment["parameters"] == {}


@pytest.mark.parametrize("raw", [{"name": "d"}, {"entrypoint": "f.py:f"}, "d", None])
def test_a_deployment_needs_name_and_entrypoint(raw: Any) -> None:
    assert flows.deployment_of(raw, "flows s") == (
        None, ["flows s: a deployment needs name and entrypoint"])


# --- prefect.yaml -------------------------------------------------------------------------


def test_prefect_yaml_deployments_and_notes_for_steps_that_are_not_run(tmp_path: Path) -> None:
    write(tmp_path, "prefect.yaml", """\
        name: demo
        build:
          - prefect_docker.deployments.steps.build_docker_image: {}
        push: null
        pull:
          - prefect.deployments.steps.git_clone: {repository: x}
        definitions:
          schedules:
            nightly: &nightly {cron: "0 2 * * *"}
        deployments:
          - name: one
            entrypoint: f.py:f
            schedules: [*nightly]
            triggers: [{}]
            version: "1.0"
          - name: two
            entrypoint: f.py:g
        """)
    deployments, notes, problems = flows.read_prefect_yaml(tmp_path, yaml.safe_load)
    assert problems == []
    assert [d["name"] for d in deployments] == ["one", "two"]
    assert deployments[0]["schedules"] == [{"cron": "0 2 * * *"}]  # YAML aliases resolved
    assert notes == [
        "prefect.yaml: build is not run (the preset ships the code to the hosts itself)",
        "prefect.yaml: pull is not run (the preset ships the code to the hosts itself)",
        "prefect.yaml deployment one: triggers not applied by the preset",
    ]


def test_no_prefect_yaml_is_none(tmp_path: Path) -> None:
    assert flows.read_prefect_yaml(tmp_path, yaml.safe_load) == (None, [], [])


@pytest.mark.parametrize(
    ("text", "said"),
    [("- a\n- b\n", "prefect.yaml is not a mapping"),
     ("deployments: {name: x}\n", "prefect.yaml: deployments is not a list"),
     ("deployments: [\n", "prefect.yaml does not parse: ")],
)
def test_a_prefect_yaml_of_the_wrong_shape_is_a_problem(
        tmp_path: Path, text: str, said: str) -> None:
    (tmp_path / "prefect.yaml").write_text(text, encoding="utf-8")
    deployments, _, problems = flows.read_prefect_yaml(tmp_path, yaml.safe_load)
    assert deployments == []
    assert len(problems) == 1 and problems[0].startswith(said)


def test_an_empty_prefect_yaml_has_no_deployments(tmp_path: Path) -> None:
    (tmp_path / "prefect.yaml").write_text("", encoding="utf-8")
    assert flows.read_prefect_yaml(tmp_path, yaml.safe_load) == ([], [], [])


def test_the_example_projects_prefect_yaml_reads_without_problems() -> None:
    root = Path(__file__).resolve().parents[3] / "examples" / "flows-as-code"
    raw, notes, problems = flows.read_prefect_yaml(root, yaml.safe_load)
    assert problems == []
    assert notes == [
        "prefect.yaml: pull is not run (the preset ships the code to the hosts itself)"]
    for item in raw:
        deployment, trouble = flows.deployment_of(item, "flows example")
        assert trouble == [] and deployment is not None
        assert flows.inspect_entrypoint(root, deployment["entrypoint"])["problems"] == []
