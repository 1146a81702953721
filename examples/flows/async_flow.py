"""7. An async flow gathering async tasks.

Async tasks are awaited like coroutines; `asyncio.gather` runs them
concurrently on the event loop, so five one-second waits take about one
second in all, not five. The flow asserts only that they beat running one
after another: on a busy host Prefect's per-task bookkeeping adds seconds.

    python examples/flows/async_flow.py
"""

from __future__ import annotations

import asyncio
import time

from prefect import flow, task

WAIT = 1.0


@task
async def fetch(source: int) -> dict[str, int]:
    await asyncio.sleep(WAIT)
    return {"source": source, "rows": source * 100}


@flow
async def gather_sources(sources: int = 5) -> dict[str, object]:
    start = time.monotonic()
    results = await asyncio.gather(*(fetch(i) for i in range(1, sources + 1)))
    elapsed = time.monotonic() - start
    assert elapsed < WAIT * sources, elapsed
    return {"rows": sum(r["rows"] for r in results), "seconds": round(elapsed, 2)}


if __name__ == "__main__":
    print(asyncio.run(gather_sources()))
