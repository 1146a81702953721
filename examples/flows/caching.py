"""5. Caching: a task whose result is reused until its key expires.

`slow_square` caches on its input (`cache_key_fn`) for ten minutes
(`cache_expiration`). The second call with the same input in the same run is
served from the cache (state name "Cached") and so is the call in a second
run of the flow; a new input computes again. Cached results are persisted in
the result storage (PREFECT_HOME/storage by default).

    python examples/flows/caching.py
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prefect import flow, task
from prefect.context import TaskRunContext


def by_input(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    return f"smoke-square-{parameters['n']}"


@task(cache_key_fn=by_input, cache_expiration=timedelta(minutes=10), persist_result=True)
def slow_square(n: int) -> int:
    return n * n


@flow
def cached(n: int = 12) -> dict[str, object]:
    first = slow_square(n, return_state=True)
    second = slow_square(n, return_state=True)
    return {
        "value": second.result(),
        "first": first.name,
        "second": second.name,
    }


if __name__ == "__main__":
    print(cached())
    print(cached())  # the first call is now served from the cache as well
