"""9. Trigger a deployment by name through the REST API and wait for it.

Looks the deployment up with `GET /api/deployments/name/{flow}/{deployment}`,
creates a run with `POST /api/deployments/{id}/create_flow_run`, then polls
`GET /api/flow_runs/{id}` until the run reaches a final state. It talks plain
HTTP (httpx) to the API that the Prefect settings name (PREFECT_API_URL, with
PREFECT_API_AUTH_STRING or PREFECT_API_KEY when set, and over HTTPS trusting
what Prefect's client trusts: PREFECT_API_SSL_CERT_FILE, else certifi's
bundle), so the same calls work from any language. A server that enforces
CSRF protection (one exposed beyond loopback) wants a token with every POST:
`GET /api/csrf-token?client=ID`, then the headers Prefect-Csrf-Token and
Prefect-Csrf-Client, as Prefect's own client does. A worker must serve the deployment's work pool.

    python examples/flows/trigger_deployment.py hello/smoke --param name=ops
"""

from __future__ import annotations

import argparse
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import certifi
import httpx
from prefect.settings import get_current_settings

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
RETRY_STATUS = {429, 502, 503, 504}
RETRY_DELAYS = (2.0, 4.0, 8.0, 16.0, 32.0)


class RetryingClient(httpx.Client):
    """Retries what a busy server answers with 429/502/503/504 (SQLite under
    a burst of writes does), with backoff, as Prefect's own client does; and
    a request that got no answer in time, when repeating it is harmless: a
    read (GET, or a POST to a `/filter` endpoint through `post_idempotent`),
    a create the server deduplicates (an idempotency key, also through
    `post_idempotent`), or any request that never reached the server (connect
    errors). A plain POST that timed out is not repeated: it may have
    created something.

    `retry_for`: seconds a request keeps being retried after Prefect's own
    five waits (2 to 32 s), every 32 s, for a caller that has a deadline of
    its own (the smoke test waits as long as its timeout: a SQLite server
    beside heavy work can answer 503 for more than a minute)."""

    def __init__(self, *args: Any, retry_for: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_for = retry_for

    def request(self, method: str, *args: Any, **kwargs: Any) -> httpx.Response:
        return self._send_with_retries(method, method.upper() == "GET", *args, **kwargs)

    def post_idempotent(self, url: str, **kwargs: Any) -> httpx.Response:
        """A POST that reads, or that the server deduplicates: repeated on timeouts too."""
        return self._send_with_retries("POST", True, url, **kwargs)

    def _delay(self, attempt: int, started: float) -> float | None:
        """The wait before the next attempt, or None when none is left."""
        if attempt < len(RETRY_DELAYS):
            return RETRY_DELAYS[attempt]
        if self.retry_for is not None and time.monotonic() - started < self.retry_for:
            return RETRY_DELAYS[-1]
        return None

    def _send_with_retries(
        self, method: str, repeat_timeouts: bool, *args: Any, **kwargs: Any
    ) -> httpx.Response:
        # Prefect's own client waits 2, 4, 8, 16, 32 s (or what Retry-After
        # says): a SQLite server under a burst of writes can answer 503 for
        # several seconds in a row.
        started = time.monotonic()
        attempt = 0
        while True:
            response: httpx.Response | None = None
            unanswered: httpx.TransportError | None = None
            try:
                response = super().request(method, *args, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                unanswered = error
            except (httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError) as error:
                if not repeat_timeouts:
                    raise
                unanswered = error
            else:
                if response.status_code not in RETRY_STATUS:
                    return response
            delay = self._delay(attempt, started)
            if delay is None:  # no attempt left: the last answer, or the last error
                if unanswered is not None:
                    raise unanswered
                assert response is not None
                return response
            time.sleep((_retry_after(response) if response is not None else None) or delay)
            attempt += 1


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header in seconds (the form Prefect sends), capped at 60."""
    try:
        return min(float(response.headers["Retry-After"]), 60.0)
    except (KeyError, ValueError):
        return None


def api_client(timeout: float = 30.0, retry_for: float | None = None) -> RetryingClient:
    """An HTTP client for the configured Prefect API, with its credentials
    (`retry_for`: see RetryingClient)."""
    settings = get_current_settings()
    if not settings.api.url:
        raise SystemExit("PREFECT_API_URL is not set: this example needs a Prefect server")
    headers: dict[str, str] = {}
    auth = None
    if settings.api.auth_string:
        user, _colon, password = settings.api.auth_string.get_secret_value().partition(":")
        auth = httpx.BasicAuth(user, password)
    elif settings.api.key:
        headers["Authorization"] = f"Bearer {settings.api.key.get_secret_value()}"
    # The certificates Prefect's own client trusts (PREFECT_API_SSL_CERT_FILE).
    verify: ssl.SSLContext | bool = (
        False
        if settings.api.tls_insecure_skip_verify
        else ssl.create_default_context(cafile=settings.api.ssl_cert_file or certifi.where())
    )
    base_url = settings.api.url.rstrip("/") + "/"
    csrf_client = f"example-{uuid.uuid4()}"
    options: dict[str, Any] = {"base_url": base_url, "auth": auth, "timeout": timeout}
    with RetryingClient(headers=headers, verify=verify, **options) as probe:
        token = probe.get("csrf-token", params={"client": csrf_client})
    if token.status_code == 200:  # 422: the server does not enforce CSRF protection
        headers.update(
            {"Prefect-Csrf-Token": token.json()["token"], "Prefect-Csrf-Client": csrf_client}
        )
    return RetryingClient(headers=headers, verify=verify, retry_for=retry_for, **options)


def find_deployment(client: httpx.Client, flow_name: str, deployment_name: str) -> dict[str, Any]:
    response = client.get(f"deployments/name/{flow_name}/{deployment_name}")
    if response.status_code == 404:
        raise LookupError(f"no deployment {flow_name}/{deployment_name} on {client.base_url}")
    response.raise_for_status()
    return response.json()


def create_flow_run(
    client: RetryingClient,
    deployment_id: str,
    parameters: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """One run of the deployment. The idempotency key makes the create safe
    to repeat when its answer is lost: the server returns the run it already
    created with that key instead of a second one."""
    response = client.post_idempotent(
        f"deployments/{deployment_id}/create_flow_run",
        json={
            "parameters": parameters or {},
            "idempotency_key": idempotency_key or f"trigger-{uuid.uuid4()}",
        },
    )
    response.raise_for_status()
    return response.json()


@dataclass
class Finished:
    run: dict[str, Any]
    to_running: float | None  # seconds from creation to Running (server clock)
    to_final: float  # seconds from creation to the final state (server clock)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def wait_for_final_state(
    client: httpx.Client, flow_run_id: str, timeout: float, poll: float = 0.5
) -> Finished:
    deadline = time.monotonic() + timeout
    while True:
        # An answer other than 200 (a 500 from a server under load, after the
        # client's own retries of 503s) is polled past until the deadline.
        response = client.get(f"flow_runs/{flow_run_id}")
        run = response.json() if response.status_code == 200 else None
        if run is not None and run["state_type"] in FINAL:
            break
        if time.monotonic() > deadline:
            now = (
                f"still {run['state_name']}"
                if run is not None
                else f"unreadable (HTTP {response.status_code}: {response.text[:200]})"
            )
            raise TimeoutError(f"flow run {flow_run_id} {now} after {timeout:.0f} s")
        time.sleep(poll)
    answer = client.get("flow_run_states/", params={"flow_run_id": flow_run_id})
    answer.raise_for_status()
    states = answer.json()
    created = _ts(run["created"])
    running = [_ts(s["timestamp"]) for s in states if s["type"] == "RUNNING"]
    return Finished(
        run=run,
        to_running=(min(running) - created).total_seconds() if running else None,
        to_final=(_ts(run["state"]["timestamp"]) - created).total_seconds(),
    )


def trigger(
    name: str, parameters: dict[str, Any] | None = None, timeout: float = 120.0
) -> Finished:
    flow_name, _slash, deployment_name = name.partition("/")
    with api_client() as client:
        deployment = find_deployment(client, flow_name, deployment_name)
        run = create_flow_run(client, deployment["id"], parameters)
        return wait_for_final_state(client, run["id"], timeout)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a deployment and wait for its final state.")
    parser.add_argument("deployment", help="FLOW/DEPLOYMENT, e.g. hello/smoke")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    parameters = dict(p.split("=", 1) for p in args.param)
    done = trigger(args.deployment, parameters, args.timeout)
    print(
        f"{args.deployment}: {done.run['state_name']} in {done.to_final:.1f} s "
        f"(Running after {done.to_running} s)"
    )
    raise SystemExit(0 if done.run["state_type"] == "COMPLETED" else 1)


if __name__ == "__main__":
    main()
