"""What latency.py and throughput.py share, inside a host with its Prefect:
the example flow basic.py:hello deployed from a directory to a work pool, with
Prefect's own chatter kept off stdout (which carries the scripts' JSON)."""

from __future__ import annotations

import contextlib
import sys


def deploy_hello(source: str, name: str, pool: str) -> None:
    from prefect import flow

    with contextlib.redirect_stdout(sys.stderr):
        flow.from_source(source=source, entrypoint="basic.py:hello").deploy(
            name=name,
            work_pool_name=pool,
            build=False,
            push=False,
            print_next_steps=False,
            ignore_warnings=True,
        )
