"""Run the example flows against a throwaway Prefect server (the test
harness: a temporary database and API for the session)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FLOWS = Path(__file__).resolve().parents[2] / "examples" / "flows"
sys.path.insert(0, str(FLOWS))


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
