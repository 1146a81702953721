"""3. Fan out, fan in: independent tasks submitted, a dependent task waiting.

Three price look-ups do not depend on each other and are submitted at once.
The total depends on all of them: passing the futures as arguments makes
Prefect wait for them before the dependent task starts. `wait_for` orders a
task after others whose results it does not use.

    python examples/flows/fan_in.py
"""

from __future__ import annotations

import time

from prefect import flow, task

PRICES = {"apples": 3, "bread": 2, "cheese": 7}


@task
def price(item: str) -> int:
    time.sleep(0.2)
    return PRICES[item]


@task
def total(*amounts: int) -> int:
    return sum(amounts)


@task
def audit() -> str:
    return "audited"


@flow
def shopping() -> dict[str, object]:
    futures = [price.submit(item) for item in PRICES]
    checked = audit.submit()
    grand_total = total.submit(*futures, wait_for=[checked])
    return {"total": grand_total.result(), "audit": checked.result()}


if __name__ == "__main__":
    print(shopping())
