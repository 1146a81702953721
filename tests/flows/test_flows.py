"""Each example flow runs to Completed and returns what its docstring says."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import async_flow
import basic
import caching
import concurrency
import fan_in
import httpx
import mapping
import parameters
import pytest
import retries
import scheduled
import smoke
import trigger_deployment
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ParameterTypeError


def test_hello_and_etl() -> None:
    state = basic.hello(return_state=True)
    assert state.is_completed() and state.result() == "Hello, world!"
    assert basic.etl() == {"count": 8, "total": 310}


def test_submitted_tasks_take_the_time_of_one() -> None:
    timings = concurrency.sequential_vs_concurrent()
    assert timings["sequential"] >= concurrency.TASKS * concurrency.NAP
    assert timings["concurrent"] < concurrency.NAP * 2


def test_dependent_task_waits_for_submitted_ones() -> None:
    assert fan_in.shopping() == {"total": 12, "audit": "audited"}


def test_flaky_task_succeeds_on_its_third_attempt() -> None:
    state = retries.retrying(return_state=True)
    assert state.is_completed()
    assert state.result() == retries.FAILURES_BEFORE_SUCCESS + 1


def test_second_call_and_second_run_come_from_the_cache() -> None:
    n = uuid.uuid4().int % 10_000 + 100  # a key no earlier run has cached
    first = caching.cached(n)
    assert first == {"value": n * n, "first": "Completed", "second": "Cached"}
    assert caching.cached(n) == {"value": n * n, "first": "Cached", "second": "Cached"}


def test_map_and_subflow() -> None:
    stats = mapping.sentence_stats()
    assert stats["words"] == 9 and stats["letters"] == 35
    assert stats["lengths"] == [3, 5, 5, 3, 5, 4, 3, 4, 3]


def test_async_tasks_are_gathered() -> None:
    result = asyncio.run(async_flow.gather_sources())
    assert result["rows"] == 1500
    assert result["seconds"] < async_flow.WAIT * 2


def test_parameters_are_validated_and_the_result_is_structured() -> None:
    report = parameters.make_report(title="Monthly", copies="2", paper="letter")  # type: ignore[arg-type]
    assert report.copies == 2 and report.pages[1] == "Monthly - copy 2 (letter)"
    with pytest.raises(ParameterTypeError):
        parameters.make_report(copies="many")  # type: ignore[arg-type]


def _ensure_pool(name: str) -> None:
    async def create() -> None:
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name=name, type="process"), overwrite=True)

    asyncio.run(create())


def test_cron_deployment_is_registered_paused() -> None:
    _ensure_pool("examples")
    scheduled.deploy("examples")
    with trigger_deployment.api_client() as client:
        deployment = trigger_deployment.find_deployment(client, "nightly-report", "nightly")
    assert [s["schedule"]["cron"] for s in deployment["schedules"]] == [scheduled.CRON]
    assert deployment["paused"] is True


def _deploy_hello(name: str) -> str:
    """basic.py's hello deployed as hello/NAME to the examples pool; its id."""
    _ensure_pool("examples")
    return str(
        flow.from_source(source=str(smoke.HERE), entrypoint="basic.py:hello").deploy(
            name=name,
            work_pool_name="examples",
            build=False,
            push=False,
            print_next_steps=False,
            ignore_warnings=True,
        )
    )


def test_trigger_by_name_creates_a_run_of_that_deployment() -> None:
    deployment_id = _deploy_hello("trigger-test")
    with trigger_deployment.api_client() as client:
        found = trigger_deployment.find_deployment(client, "hello", "trigger-test")
        assert found["id"] == deployment_id
        run = trigger_deployment.create_flow_run(client, found["id"], {"name": "ops"})
        assert run["deployment_id"] == found["id"] and run["parameters"] == {"name": "ops"}
        assert run["state_type"] == "SCHEDULED"
        # No worker serves the pool here: waiting must end in a clear timeout.
        with pytest.raises(TimeoutError, match="still Scheduled"):
            trigger_deployment.wait_for_final_state(client, run["id"], timeout=1)
        with pytest.raises(LookupError, match="no deployment hello/absent"):
            trigger_deployment.find_deployment(client, "hello", "absent")


def test_smoke_deploys_once_and_creates_no_duplicates() -> None:
    _ensure_pool("smoke-pool")
    first = smoke.deploy_all("smoke-pool", force=False)
    assert len([name for name in first if name.endswith("/smoke")]) == len(smoke.SMOKE_FLOWS)
    assert smoke.deploy_all("smoke-pool", force=False) == []
    with trigger_deployment.api_client() as client:
        deployments = client.post(
            "deployments/filter", json={"deployments": {"name": {"any_": ["smoke"]}}}
        ).json()
    assert len(deployments) == len(smoke.SMOKE_FLOWS)


def test_smoke_local_mode_runs_every_flow() -> None:
    report = smoke.run_local()
    assert [r["ok"] for r in report["runs"]] == [True] * len(smoke.SMOKE_FLOWS), report


def test_slow_flow_runs_every_tick() -> None:
    import slow

    assert slow.slow(3) == 3


def _client(
    handler: Callable[[httpx.Request], httpx.Response], monkeypatch: pytest.MonkeyPatch
) -> trigger_deployment.RetryingClient:
    monkeypatch.setattr(trigger_deployment.time, "sleep", lambda _seconds: None)
    return trigger_deployment.RetryingClient(
        base_url="http://server.invalid/api/", transport=httpx.MockTransport(handler)
    )


def test_a_read_that_times_out_is_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy SQLite server can leave a request unanswered past the timeout:
    the smoke test must ride that out rather than fail the converge."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) < 3:
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(200, json={"state_type": "COMPLETED"})

    assert _client(handler, monkeypatch).get("flow_runs/1").json() == {"state_type": "COMPLETED"}
    assert calls == ["GET", "GET", "GET"]


def test_a_post_that_times_out_is_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    """It may have created a flow run: repeating it could create a second one."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ReadTimeout("no answer", request=request)

    with pytest.raises(httpx.ReadTimeout):
        _client(handler, monkeypatch).post("deployments/1/create_flow_run", json={})
    assert calls == ["POST"]


def test_a_filter_that_times_out_is_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) < 2:
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(200, json=[])

    assert _client(handler, monkeypatch).post_idempotent("logs/filter", json={}).json() == []
    assert calls == ["POST", "POST"]


def test_a_create_whose_answer_is_lost_makes_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real server creates the run, the answer never arrives, the client
    asks again: the idempotency key makes the server return the same run."""
    deployment_id = _deploy_hello("lost-answer")
    monkeypatch.setattr(trigger_deployment.time, "sleep", lambda _seconds: None)
    real = httpx.HTTPTransport()
    creates = []

    class LosesFirstAnswer(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = real.handle_request(request)
            if request.url.path.endswith("/create_flow_run"):
                creates.append(response.status_code)
                if len(creates) == 1:
                    response.read()
                    raise httpx.ReadTimeout("answer lost", request=request)
            return response

    with trigger_deployment.api_client() as configured:
        client = trigger_deployment.RetryingClient(
            base_url=configured.base_url, headers=configured.headers, transport=LosesFirstAnswer()
        )
        with client:
            run = trigger_deployment.create_flow_run(client, deployment_id)
            runs = client.post_idempotent(
                "flow_runs/filter", json={"deployments": {"id": {"any_": [deployment_id]}}}
            ).json()
    # Created once, then found by its key; a server busy beside other work may
    # answer 503 (SQLite locked) in between, which the client waits out.
    assert creates[0] == 201 and creates[-1] == 200, creates
    assert set(creates[1:-1]) <= {503}, creates
    assert [r["id"] for r in runs] == [run["id"]]


def test_a_busy_server_is_given_the_time_prefects_client_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """503 (SQLite locked) can last several seconds: waits grow like Prefect's
    own client's, and a Retry-After from the server is honoured."""
    waits: list[float] = []
    answers = [503, 503, 503, 201]

    def handler(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0)
        headers = {"Retry-After": "1"} if len(answers) == 2 else {}
        return httpx.Response(status, headers=headers, json={"id": "run"})

    client = _client(handler, monkeypatch)
    monkeypatch.setattr(trigger_deployment.time, "sleep", waits.append)
    assert client.post("deployments/1/create_flow_run", json={}).status_code == 201
    assert waits == [2.0, 1.0, 8.0]


def test_a_server_that_cannot_be_reached_is_tried_again_then_the_error_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A connect error never reached the server: any request is tried again, with
    Prefect's waits, and the error itself is what the caller gets at the end."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ConnectError("refused", request=request)

    client = _client(handler, monkeypatch)
    waits: list[float] = []
    monkeypatch.setattr(trigger_deployment.time, "sleep", waits.append)
    with pytest.raises(httpx.ConnectError, match="refused"):
        client.post("deployments/1/create_flow_run", json={})
    assert calls == ["POST"] * 6 and waits == [2.0, 4.0, 8.0, 16.0, 32.0]


def test_a_caller_with_a_deadline_waits_out_a_longer_busy_spell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Beside heavy work a SQLite server can answer 503 for more than Prefect's
    five waits (62 s): the smoke test's client keeps asking every 32 s until
    its own timeout, then gives the 503 back."""
    clock = [0.0]
    monkeypatch.setattr(trigger_deployment.time, "monotonic", lambda: clock[0])
    answers = [503] * 8 + [201]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(answers.pop(0), json={"id": "run"})

    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    client = trigger_deployment.RetryingClient(
        base_url="http://server.invalid/api/", transport=httpx.MockTransport(handler), retry_for=300
    )
    monkeypatch.setattr(trigger_deployment.time, "sleep", sleep)
    assert client.post("deployments/1/create_flow_run", json={}).status_code == 201
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0, 32.0, 32.0, 32.0]

    # Past the deadline the busy answer is what the caller gets.
    answers[:] = [503] * 20
    waits.clear()
    assert client.post("deployments/1/create_flow_run", json={}).status_code == 503
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0] + [32.0] * 8  # 318 s: the last wait passed 300


def test_a_poll_answered_with_a_server_error_is_polled_past(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 500 from a loaded server while a run is watched (seen on PostgreSQL with two
    scenarios side by side) is polled past; only at the deadline is it an error."""
    done = {"state_type": "COMPLETED", "state_name": "Completed",
            "created": "2026-12-06T10:00:00Z", "state": {"timestamp": "2026-12-06T10:00:03Z"}}
    answers = [httpx.Response(500, json={"exception_message": "Internal Server Error"}),
               httpx.Response(200, json=done)]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("flow_run_states/"):
            return httpx.Response(200, json=[{"type": "RUNNING", "timestamp": "2026-12-06T10:00:01Z"}])
        return answers.pop(0)

    finished = trigger_deployment.wait_for_final_state(_client(handler, monkeypatch), "r1", timeout=60)
    assert finished.run["state_type"] == "COMPLETED" and finished.to_running == 1.0

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"exception_message": "Internal Server Error"})

    with pytest.raises(TimeoutError, match=r"r1 unreadable \(HTTP 500: .*Internal Server Error"):
        trigger_deployment.wait_for_final_state(_client(broken, monkeypatch), "r1", timeout=0)
