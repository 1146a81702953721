"""2. Sequential tasks against concurrent `.submit()`.

Four tasks each sleep one second. Called directly they run one after the
other (about four seconds); submitted, they run at once on the task runner
and the flow waits for their futures (about one second). The flow asserts
that the concurrent batch took about the time of one task, not the sum.

    python examples/flows/concurrency.py
"""

from __future__ import annotations

import time

from prefect import flow, task

NAP = 1.0
TASKS = 4


@task
def nap(index: int) -> int:
    time.sleep(NAP)
    return index


@flow(log_prints=True)
def sequential_vs_concurrent() -> dict[str, float]:
    start = time.monotonic()
    for i in range(TASKS):
        nap(i)
    sequential = time.monotonic() - start

    start = time.monotonic()
    futures = [nap.submit(i) for i in range(TASKS)]
    results = [f.result() for f in futures]
    concurrent = time.monotonic() - start

    assert results == list(range(TASKS))
    assert sequential >= TASKS * NAP, sequential
    # Closer to one nap than to the sum of them, with room for a busy host.
    assert concurrent < NAP * (1 + TASKS) / 2, concurrent
    print(f"sequential {sequential:.1f} s, concurrent {concurrent:.1f} s")
    return {"sequential": round(sequential, 2), "concurrent": round(concurrent, 2)}


if __name__ == "__main__":
    print(sequential_vs_concurrent())
