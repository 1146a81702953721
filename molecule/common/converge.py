"""Converge a scenario's hosts again from inside its verify step (what a
platform team's hourly converge does while flows run), with extra variables.
The result's stdout holds stdout and stderr, in order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def converge(limit: str, playbook: str = "converge.yml", *, check: bool = False,
             **extra_vars: object) -> subprocess.CompletedProcess[str]:
    """ansible-playbook PLAYBOOK --limit LIMIT -e EXTRA_VARS [--check --diff]."""
    scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    ansible_playbook = shutil.which("ansible-playbook") or str(Path(sys.executable).parent / "ansible-playbook")
    return subprocess.run(
        [ansible_playbook, "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", limit,
         "-e", json.dumps(extra_vars), *(["--check", "--diff"] if check else []), str(scenario / playbook)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # ansible-core 2.19 prints failures on stderr
        text=True,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1",
             "ANSIBLE_COLLECTIONS_PATH": os.environ.get("PREFECT_COLLECTIONS_PATH", "")},
    )
