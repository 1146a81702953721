"""bench/run's profile of a converge: each task's wall time, written as JSON to
the file named by $BENCH_PROFILE_FILE when the playbook ends."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ansible.plugins.callback import CallbackBase  # type: ignore[import-untyped]

DOCUMENTATION = """
name: bench_profile
type: aggregate
short_description: each task's wall time, for bench/run
description:
  - Writes a JSON list of {"task", "seconds"} in the order the tasks ran to the
    file named by the environment variable BENCH_PROFILE_FILE.
"""


class CallbackModule(CallbackBase):  # type: ignore[misc]
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_profile"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._tasks: list[dict[str, Any]] = []
        self._current: str | None = None
        self._started = 0.0

    def _close(self) -> None:
        if self._current is not None:
            seconds = round(time.monotonic() - self._started, 2)
            self._tasks.append({"task": self._current, "seconds": seconds})
        self._current = None

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._close()
        # "ROLE : Name" -> "Name": the step as the play names it.
        self._current = task.get_name().split(" : ", 1)[-1]
        self._started = time.monotonic()

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._close()
        path = os.environ.get("BENCH_PROFILE_FILE")
        if path:
            Path(path).write_text(json.dumps(self._tasks), encoding="utf-8")
