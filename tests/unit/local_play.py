"""What the tests that drive a real ansible-playbook share: one playbook run on
localhost over the local connection, with this test run's Python as the
managed host's interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from preset.runner import find_ansible_playbook


def run_local_playbook(
    playbook: Path, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """ansible-playbook ARGS PLAYBOOK against localhost; env is added to this process's."""
    return subprocess.run(
        [
            find_ansible_playbook(),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            *args,
            str(playbook),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
