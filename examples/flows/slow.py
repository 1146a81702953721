"""11. A long-running flow: sixty 1-second tasks, one after another.

What a converge does to runs in flight: a worker that must restart first
drains (takes no new runs, lets this one finish); with a small drain_timeout
the run is cancelled with a message saying why. Not part of the smoke test.

    python examples/flows/slow.py --seconds 60
"""

from __future__ import annotations

import argparse
import time

from prefect import flow, get_run_logger, task


@task
def tick(i: int) -> int:
    time.sleep(1)
    return i


@flow(name="slow")
def slow(seconds: int = 60) -> int:
    """Runs `seconds` one-second tasks in sequence and returns how many ran."""
    logger = get_run_logger()
    done = 0
    for i in range(seconds):
        done += tick(i) >= 0
        if i % 10 == 0:
            logger.info("tick %d of %d", i, seconds)
    return done


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    print(slow(parser.parse_args().seconds))
