# Loaded by ansible-playbook when `preset run` starts it (ANSIBLE_CALLBACK_PLUGINS);
# not part of the Python package's import graph.
"""Write each host's outcome and elapsed time to $PRESET_SUMMARY_FILE as JSON."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: preset_summary
type: aggregate
short_description: per-host outcome and elapsed time for `preset run`
description:
  - Writes, at the end of the playbook, a JSON object with one entry per host (the
    recap's counters and the seconds from the start of the run to the host's last
    task result) to the file named by the PRESET_SUMMARY_FILE environment variable.
  - Does nothing when that variable is not set.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "preset_summary"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self) -> None:
        super().__init__()
        self._start = time.monotonic()
        self._last: dict[str, float] = {}

    def _seen(self, result) -> None:  # type: ignore[no-untyped-def]
        self._last[result._host.get_name()] = time.monotonic()

    def v2_runner_on_ok(self, result) -> None:  # type: ignore[no-untyped-def]
        self._seen(result)

    def v2_runner_on_failed(self, result, ignore_errors=False) -> None:  # type: ignore[no-untyped-def]
        self._seen(result)

    def v2_runner_on_skipped(self, result) -> None:  # type: ignore[no-untyped-def]
        self._seen(result)

    def v2_runner_on_unreachable(self, result) -> None:  # type: ignore[no-untyped-def]
        self._seen(result)

    def v2_playbook_on_stats(self, stats) -> None:  # type: ignore[no-untyped-def]
        path = os.environ.get("PRESET_SUMMARY_FILE")
        if not path:
            return
        hosts = {}
        for host in sorted(stats.processed):
            summary = stats.summarize(host)
            seconds = self._last.get(host, time.monotonic()) - self._start
            hosts[host] = {**summary, "seconds": round(seconds, 1)}
        Path(path).write_text(json.dumps({"hosts": hosts}), encoding="utf-8")
