"""The fleet scenario's pipeline: prints the version of the code it runs from (the
scenario's prepare step commits it twice, as v1 and v2, into a git repository)."""

from __future__ import annotations

import time

from prefect import flow

VERSION = "@VERSION@"


@flow(log_prints=True)
def versioned(seconds: float = 0, source: str = "warehouse") -> str:
    time.sleep(seconds)
    print(f"pipelines {VERSION} synced {source}")
    return VERSION
