"""Run molecule/common/history.py on a test host, the way the role runs migrations: as the
server's user, with the server's environment file, through systemd-run (the database
password never leaves root-only files). Returns its JSON."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent / "history.py"


def history(host: Any, name: str, *args: str) -> dict[str, Any]:
    subprocess.run(["podman", "cp", str(SCRIPT), f"{name}:/root/history.py"], check=True)
    command = [
        "systemd-run", "--wait", "--pipe", "--collect", "--quiet", "--uid=prefect", "--gid=prefect",
        "--working-directory=/var/lib/prefect", "--property=EnvironmentFile=/etc/prefect/server.env",
        "--setenv=PREFECT_HOME=/var/lib/prefect", "--setenv=PREFECT_PROFILES_PATH=/etc/prefect/config.toml",
        "--property=BindReadOnlyPaths=/root/history.py:/run/history.py",
        "/opt/prefect/venv/bin/python", "/run/history.py", *args,
    ]
    out = host.run(" ".join(shlex.quote(c) for c in command))
    assert out.rc == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])
