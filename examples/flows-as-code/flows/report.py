"""A weekly report of what the nightly syncs copied."""

from __future__ import annotations

from prefect import flow


@flow(log_prints=True)
def weekly_report(weeks: int = 1) -> str:
    summary = f"report over {weeks} week(s)"
    print(summary)
    return summary
