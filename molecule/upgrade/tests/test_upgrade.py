"""Prefect upgrades that keep history (host upgrade-prefect, converged at
3.7.8): 3.7.8 -> 3.8.8 backs up, migrates and keeps every run, deployment and
pool; going back is refused unless allow_downgrade, which restores the 3.7.8
backup.

The tests run in order and build on each other (one host, one history)."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from converge import converge
from prefect_api import Api

HOST = "upgrade-prefect"
testinfra_hosts = [f"podman://{HOST}"]
# Alembic heads of the two releases (SQLite).
HEAD = {"3.7.8": "79e7a60e43d8", "3.8.8": "a3b9c7d2e5f1"}
BEFORE: dict[str, set[str]] = {}


@pytest.fixture
def api(host) -> Api:
    return Api(host)


def _sqlite(host, sql: str) -> str:
    code = f"import sqlite3; print(sqlite3.connect('file:/var/lib/prefect/prefect.db?mode=ro', uri=True).execute({sql!r}).fetchone()[0])"
    out = host.run(f"python3 -c {shlex.quote(code)}")
    assert out.rc == 0, out.stderr
    return out.stdout.strip()


def _inventory(api: Api) -> dict[str, set[str]]:
    return {
        "flow_runs": {r["id"] for r in api.post("/flow_runs/filter", {"limit": 200})},
        "deployments": {d["id"] for d in api.post("/deployments/filter", {})},
        "work_pools": {p["name"] for p in api.post("/work_pools/filter", {})},
    }


def _prefect_version(host) -> str:
    return host.run("/opt/prefect/venv/bin/python -c 'import prefect; print(prefect.__version__)'").stdout.strip()


def test_starts_at_378_with_history(host, api):
    assert _prefect_version(host) == "3.7.8"
    assert host.file("/opt/prefect/venv").linked_to == "/opt/prefect/venvs/3.7.8"
    runs = api.post("/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}, "limit": 200})
    assert len(runs) >= 9  # the smoke runs at 3.7.8
    BEFORE.update(_inventory(api))


def test_a_failed_upgrade_says_where_the_backup_is_and_how_to_go_back(host):
    # A migration that cannot open its database: the upgrade stops after the backup.
    broken = converge(
        HOST,
        prefect_version="3.8.8",
        prefect_settings={"PREFECT_SERVER_DATABASE_CONNECTION_URL": "sqlite+aiosqlite:////nonexistent/prefect.db"},
    )
    assert broken.returncode != 0
    assert "Upgrading from Prefect 3.7.8 to 3.8.8" in broken.stdout
    message = re.search(r"The change from Prefect 3\.7\.8 to\s+3\.8\.8 did not complete\..*?virtualenv", broken.stdout, re.S)
    assert message, broken.stdout[-4000:]
    text = " ".join(message.group(0).split())
    backup = re.search(r"/var/lib/prefect/backups/prefect-3\.7\.8-\d{8}T\d{6}Z\.db", text)
    assert backup and host.file(backup.group(0)).exists, text
    assert "version: 3.7.8 and allow_downgrade: true" in text


def test_converging_again_completes_the_upgrade_and_keeps_everything(host, api):
    upgraded = converge(HOST, prefect_version="3.8.8")
    assert upgraded.returncode == 0, upgraded.stdout[-5000:]
    assert _prefect_version(host) == "3.8.8"
    assert host.file("/opt/prefect/venv").linked_to == "/opt/prefect/venvs/3.8.8"
    assert _sqlite(host, "SELECT version_num FROM alembic_version") == HEAD["3.8.8"]
    after = _inventory(api)
    for kind, ids in BEFORE.items():
        assert ids <= after[kind], f"{kind} lost in the upgrade: {ids - after[kind]}"
    backups = host.run("ls /var/lib/prefect/backups").stdout.split()
    [backup] = [b for b in backups if re.fullmatch(r"prefect-3\.7\.8-\d{8}T\d{6}Z\.db", b)]
    code = (f"import sqlite3; db = sqlite3.connect('file:/var/lib/prefect/backups/{backup}?mode=ro', uri=True);"
            "print(db.execute('PRAGMA integrity_check').fetchone()[0], db.execute('SELECT version_num FROM alembic_version').fetchone()[0],"
            " db.execute('SELECT count(*) FROM flow_run').fetchone()[0])")
    check, head, runs = host.run(f"python3 -c {shlex.quote(code)}").stdout.split()
    assert (check, head) == ("ok", HEAD["3.7.8"]) and int(runs) == len(BEFORE["flow_runs"])
    assert host.file(f"/var/lib/prefect/backups/{backup}").mode == 0o600


def test_going_back_is_refused_and_changes_nothing(host):
    refused = converge(HOST, prefect_version="3.7.8")
    assert refused.returncode != 0
    assert "runs Prefect 3.8.8; version 3.7.8 is older" in refused.stdout, refused.stdout[-3000:]
    assert re.search(r"changed=0\s", refused.stdout), refused.stdout[-1500:]
    assert _prefect_version(host) == "3.8.8"
    assert host.service("prefect-server.service").is_running


def test_allow_downgrade_restores_the_378_backup(host, api):
    back = converge(HOST, prefect_version="3.7.8", prefect_allow_downgrade=True)
    assert back.returncode == 0, back.stdout[-5000:]
    assert _prefect_version(host) == "3.7.8"
    assert _sqlite(host, "SELECT version_num FROM alembic_version") == HEAD["3.7.8"]
    restored = _inventory(api)
    assert restored["flow_runs"] >= BEFORE["flow_runs"]
    assert host.service("prefect-worker@default-1.service").is_running
