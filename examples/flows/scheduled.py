"""10. A deployment with a cron schedule.

`nightly_report` is deployed as `nightly_report/nightly` with a cron
schedule (03:00 UTC every day). The server stores the schedule and its
scheduler creates the runs; the worker of the pool picks them up. The
deployment is registered paused, so that a fresh host does not start running
example flows on its own: `prefect deployment resume nightly_report/nightly`
turns the schedule on.

    python examples/flows/scheduled.py --pool default
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prefect import flow
from prefect.schedules import Cron

CRON = "0 3 * * *"


@flow(log_prints=True)
def nightly_report(day: str | None = None) -> str:
    message = f"nightly report for {day or 'today'}"
    print(message)
    return message


def deploy(pool: str, source: Path = Path(__file__).parent) -> str:
    deployable = flow.from_source(source=str(source), entrypoint="scheduled.py:nightly_report")
    return str(
        deployable.deploy(
            name="nightly",
            work_pool_name=pool,
            schedule=Cron(CRON, timezone="UTC"),
            paused=True,
            build=False,
            push=False,
            print_next_steps=False,
            ignore_warnings=True,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Register the nightly deployment.")
    parser.add_argument("--pool", default="default")
    print(deploy(parser.parse_args().pool))
