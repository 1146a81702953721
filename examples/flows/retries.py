"""4. Retries: a task that fails twice, then succeeds.

`flaky` raises until its third attempt (`prefect.runtime.task_run.run_count`
says which attempt this is); `retries=2` and `retry_delay_seconds=1` let
Prefect try again. Every attempt logs through `get_run_logger()`, so the
server shows the failures and the final success in the run's logs.

    python examples/flows/retries.py
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.runtime import task_run

FAILURES_BEFORE_SUCCESS = 2


@task(retries=FAILURES_BEFORE_SUCCESS, retry_delay_seconds=1)
def flaky() -> int:
    logger = get_run_logger()
    attempt = task_run.run_count
    if attempt <= FAILURES_BEFORE_SUCCESS:
        logger.warning("attempt %d fails on purpose", attempt)
        raise RuntimeError(f"attempt {attempt} failed")
    logger.info("attempt %d succeeds", attempt)
    return attempt


@flow
def retrying() -> int:
    attempts = flaky()
    get_run_logger().info("succeeded after %d attempts", attempts)
    return attempts


if __name__ == "__main__":
    print(retrying())
