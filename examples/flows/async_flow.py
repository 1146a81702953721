"""7. An async flow gathering async tasks.

Async tasks are awaited like coroutines; `asyncio.gather` runs them
concurrently on the event loop, so five half-second waits take about half a
second in all.

    python examples/flows/async_flow.py
"""

from __future__ import annotations

import asyncio
import time

from prefect import flow, task


@task
async def fetch(source: int) -> dict[str, int]:
    await asyncio.sleep(0.5)
    return {"source": source, "rows": source * 100}


@flow
async def gather_sources(sources: int = 5) -> dict[str, object]:
    start = time.monotonic()
    results = await asyncio.gather(*(fetch(i) for i in range(1, sources + 1)))
    elapsed = time.monotonic() - start
    assert elapsed < 0.5 * sources / 2, elapsed
    return {"rows": sum(r["rows"] for r in results), "seconds": round(elapsed, 2)}


if __name__ == "__main__":
    print(asyncio.run(gather_sources()))
