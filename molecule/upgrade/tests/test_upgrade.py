"""Upgrades sized for real databases, backups that run on their own, and restores, on one
host (upgrade-prefect: SQLite, converged at Prefect 3.8.8, its data directory a 400 MB
file system of its own).

In order, one history: 20,000 flow runs of history through Prefect's own database layer;
an upgrade refused before anything stops because the backup would not fit (the numbers
said, 3.8.8 still serving); a failed upgrade that says where the backup is; the run
after it completing the upgrade to the default release, keeping every row, at the
release's Alembic head, saying how long the migration took; scheduled backups (the
timer, keep, a copy, the command after, metrics, a full disk failing the unit visibly); a restore drill (runs added and a
deployment deleted after a backup, the backup restored, exactly what it held is back,
the workers run new flows, a second converge changes nothing, a tampered backup is
refused); a downgrade refused; allow_downgrade restoring the 3.8.8 backup.

The tests run in order and build on each other."""

from __future__ import annotations

import json
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from converge import converge
from history_run import history
from prefect_api import Api, journal
from release import DEFAULT_VERSION, HEADS

HOST = "upgrade-prefect"
testinfra_hosts = [f"podman://{HOST}"]
OLD = "3.8.8"
BACKUPS = "/var/lib/prefect/backups"
COPIES = "/srv/backup-copies"
METRICS = "/srv/node-exporter"
STATE: dict[str, Any] = {}
# The scheduled backups' parameters, kept in every converge from the test that
# turns them on (a converge without them removes the timer, a change of state).
SCHEDULE = {
    "prefect_backup_schedule": "*-*-* 03:00",
    "prefect_backup_keep": 2,
    "prefect_backup_copy_dir": COPIES,
    "prefect_backup_textfile_dir": METRICS,
    "prefect_backup_command": 'echo "shipped $1" >> /var/lib/prefect/shipped.log',
}
# What the upgrade must keep, row for row (the converge's smoke test adds runs).
KEPT = ("flow", "flow_run", "task_run", "flow_run_state", "task_run_state", "deployment",
        "work_pool", "variable", "block_document", "automation", "log")


@pytest.fixture
def api(host) -> Api:
    return Api(host)


def _version(host) -> str:
    return host.run("/opt/prefect/venv/bin/python -c 'import prefect; print(prefect.__version__)'").stdout.strip()


def _said(result) -> str:
    return " ".join(result.stdout.split())


def _backups(host, directory: str = BACKUPS, version: str = DEFAULT_VERSION) -> list[str]:
    names = host.run(f"ls {directory}").stdout.split()
    return sorted(n for n in names if re.fullmatch(rf"prefect-{re.escape(version)}-\d{{8}}T\d{{6}}Z\.db", n))


def _kept(before: dict[str, Any], after: dict[str, Any]) -> None:
    lost = {k: (before[k], after[k]) for k in KEPT if after[k] < before[k]}
    assert not lost, f"rows lost (before, after): {lost}"


def test_starts_at_3_8_8_with_a_year_of_history(host, api):
    assert _version(host) == OLD
    filled = history(host, HOST, "fill", "--flow-runs", "20000", "--task-runs-per-flow-run", "1")
    print(f"[upgrade] history: {filled['created']['flow_run']} flow runs in {filled['seconds']} s")
    STATE["before"] = history(host, HOST, "count")
    assert STATE["before"]["flow_run"] >= 20000 and STATE["before"]["task_run"] >= 20000
    STATE["samples"] = {i: api.get(f"/flow_runs/{i}")["state_type"] for i in filled["sample_flow_run_ids"]}
    size = int(host.run("stat -c %s /var/lib/prefect/prefect.db").stdout)
    print(f"[upgrade] database: {size / 2**20:.0f} MiB")
    STATE["size"] = size
    assert size > 150 * 2**20


def test_an_upgrade_that_would_fill_the_disk_is_refused_before_anything_stops(host):
    refused = converge(HOST, prefect_version=DEFAULT_VERSION)
    said = _said(refused)
    assert refused.returncode != 0
    refusal = re.search(rf"Upgrading from Prefect {OLD} to {DEFAULT_VERSION} needs [\d,]+ MiB free on the file "
                     r"system of /var/lib/prefect/backups \(the backup, a copy of the database: [\d,]+ MiB; the "
                     r"migration, room for new indexes and the write-ahead log: [\d,]+ MiB; and 64 MiB to spare\), "
                     r"and it has [\d,]+ MiB free\. The database is [\d,]+ MiB\.", said)
    assert refusal, said[-3000:]
    print(f"[upgrade] refused: {refusal.group(0)}")
    assert f"Nothing was changed; Prefect {OLD} keeps running." in said
    assert "changed=0" in refused.stdout
    assert not host.file(f"/opt/prefect/venvs/{DEFAULT_VERSION}").exists
    assert host.service("prefect-server.service").is_running
    assert _version(host) == OLD
    # Room is made: the next upgrade fits.
    assert host.run("mount -o remount,size=1200m /var/lib/prefect").rc == 0


def test_a_failed_upgrade_says_where_the_backup_is_and_how_to_go_back(host):
    # A migration that cannot open its database: the upgrade stops after the backup.
    broken = converge(
        HOST,
        prefect_version=DEFAULT_VERSION,
        prefect_settings={"PREFECT_SERVER_DATABASE_CONNECTION_URL": "sqlite+aiosqlite:////nonexistent/prefect.db"},
    )
    assert broken.returncode != 0
    assert f"Upgrading from Prefect {OLD} to {DEFAULT_VERSION}" in broken.stdout
    message = re.search(rf"The change from Prefect {re.escape(OLD)} to\s+{re.escape(DEFAULT_VERSION)} did not complete\..*?virtualenv",
                        broken.stdout, re.S)
    assert message, broken.stdout[-4000:]
    text = " ".join(message.group(0).split())
    backup = re.search(rf"{BACKUPS}/prefect-{re.escape(OLD)}-\d{{8}}T\d{{6}}Z\.db", text)
    assert backup and host.file(backup.group(0)).exists, text
    assert f"version: {OLD} and allow_downgrade: true" in text


def test_the_upgrade_completes_on_the_next_run_keeps_every_row_and_reaches_the_head(host, api):
    # The run after the failed one (its cause gone): the new version is switched in
    # already, so this run migrates and starts the server, and says how long the
    # migration took and that the server serves again.
    upgraded = converge(HOST, prefect_version=DEFAULT_VERSION)
    assert upgraded.returncode == 0, upgraded.stdout[-5000:]
    said = _said(upgraded)
    migrated = re.search(rf"The database of the Prefect server on upgrade-prefect was migrated to Prefect "
                         rf"{re.escape(DEFAULT_VERSION)} in ([\d:.]+); the server, down since an earlier run stopped "
                         r"it, serves again\.", said)
    assert migrated, said[-3000:]
    print(f"[upgrade] {OLD} -> {DEFAULT_VERSION} on SQLite, {STATE['size'] / 2**20:.0f} MiB: "
          f"migration {migrated.group(1)}")
    assert _version(host) == DEFAULT_VERSION
    after = history(host, HOST, "count")
    assert after["alembic_revision"] == HEADS[DEFAULT_VERSION]["sqlite"]
    _kept(STATE["before"], after)
    for run_id, state in STATE["samples"].items():
        assert api.get(f"/flow_runs/{run_id}")["state_type"] == state
    [backup] = _backups(host, version=OLD)
    manifest = json.loads(host.file(f"{BACKUPS}/{backup}.json").content_string)
    assert manifest["prefect_version"] == OLD and manifest["trigger"] == "upgrade"
    assert manifest["alembic_revision"] == HEADS[OLD]["sqlite"]
    assert host.file(f"{BACKUPS}/{backup}").mode == 0o600


def test_scheduled_backups_keep_copy_ship_and_report(host):
    host.run(f"install -d -o prefect -g prefect -m 0700 {COPIES} {METRICS}")
    scheduled = converge(HOST, prefect_version=DEFAULT_VERSION, **SCHEDULE)
    assert scheduled.returncode == 0, scheduled.stdout[-4000:]
    timer = host.service("prefect-backup.timer")
    assert timer.is_enabled and timer.is_running
    assert "03:00:00" in host.run("systemctl show prefect-backup.timer --property NextElapseUSecRealtime --value").stdout
    for _ in range(3):
        started = host.run("systemctl start prefect-backup.service")
        assert started.rc == 0, journal(host, "prefect-backup.service")
        time.sleep(1.1)  # backups are named by the second
    kept = _backups(host)
    assert len(kept) == 2, kept
    assert _backups(host, COPIES) == kept
    assert _backups(host, version=OLD), "the upgrade's backup of 3.8.8 is not the schedule's to prune"
    for name in kept:
        manifest = json.loads(host.file(f"{BACKUPS}/{name}.json").content_string)
        assert manifest["trigger"] == "scheduled" and manifest["alembic_revision"] == HEADS[DEFAULT_VERSION]["sqlite"]
        check = host.run(f"python3 -c \"import sqlite3; print(sqlite3.connect('file:{BACKUPS}/{name}?mode=ro', uri=True)"
                         ".execute('PRAGMA quick_check').fetchone()[0])\"")
        assert check.stdout.strip() == "ok"
    shipped = host.file("/var/lib/prefect/shipped.log").content_string.splitlines()
    assert len(shipped) == 3 and shipped[-1] == f"shipped {BACKUPS}/{kept[-1]}"
    metrics = host.file(f"{METRICS}/prefect_backup.prom").content_string
    assert "prefect_backup_last_run_success 1" in metrics and "prefect_backup_last_size_bytes" in metrics
    STATE["scheduled"] = f"{BACKUPS}/{kept[-1]}"


def test_a_backup_that_cannot_be_written_fails_the_unit_visibly(host):
    assert host.run(f"mount -t tmpfs -o size=1m,uid=prefect,gid=prefect tmpfs {COPIES}").rc == 0
    try:
        failed = host.run("systemctl start prefect-backup.service")
        assert failed.rc != 0
        assert host.run("systemctl is-failed prefect-backup.service").stdout.strip() == "failed"
        assert "backup failed: copying" in journal(host, "prefect-backup.service")
        assert "prefect_backup_last_run_success 0" in host.file(f"{METRICS}/prefect_backup.prom").content_string
    finally:
        host.run(f"umount {COPIES}")
        host.run("systemctl reset-failed prefect-backup.service")


def _sqlite(host, sql: str) -> str:
    code = f"import sqlite3; print(sqlite3.connect('file:/var/lib/prefect/prefect.db?mode=ro', uri=True).execute({sql!r}).fetchone()[0])"
    return host.run(f"python3 -c {shlex.quote(code)}").stdout.strip()


def test_restore_drill(host, api):
    backup = STATE["scheduled"]
    held = history(host, HOST, "count")
    # A bad day after the backup: more runs, a deployment deleted.
    history(host, HOST, "fill", "--flow-runs", "500", "--days", "1")
    deployment = api.post("/deployments/filter", {"work_pools": {"name": {"any_": ["history-pool"]}}, "limit": 1})[0]
    api.delete(f"/deployments/{deployment['id']}")
    assert history(host, HOST, "count")["flow_run"] == held["flow_run"] + 500

    # A backup whose content changed since it was taken is refused, nothing changed.
    tampered = "/var/lib/prefect/backups/tampered.db"
    host.run(f"cp -p {backup} {tampered} && cp -p {backup}.json {tampered}.json && printf x | dd of={tampered} bs=1 seek=4096 conv=notrunc")
    refused = converge(HOST, prefect_version=DEFAULT_VERSION, prefect_restore=tampered, **SCHEDULE)
    assert refused.returncode != 0
    assert f"Cannot restore: {tampered} does not match its manifest" in _said(refused)
    assert "changed=0" in refused.stdout
    host.run(f"rm -f {tampered} {tampered}.json")

    restored = converge(HOST, prefect_version=DEFAULT_VERSION, prefect_restore=backup, **SCHEDULE)
    assert restored.returncode == 0, restored.stdout[-5000:]
    said = _said(restored)
    assert f"Restoring {backup} (Prefect {DEFAULT_VERSION}" in said
    assert re.search(rf"Restored {re.escape(backup)} \(\d+ bytes\); the Prefect server on upgrade-prefect\s+was down for", said), said[-3000:]
    now = history(host, HOST, "count")
    # Exactly what the backup held (the smoke test of this converge excepted: it runs
    # only when the host's state changed, which a restore does not).
    assert {k: now[k] for k in KEPT} == {k: held[k] for k in KEPT}
    assert api.get(f"/deployments/{deployment['id']}")["name"] == deployment["name"]
    # The workers run new flows on the restored database.
    hello = api.get("/deployments/name/hello/smoke")
    run = api.wait_run(api.run_deployment(hello["id"]), {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}, 120)
    assert run["state_type"] == "COMPLETED", journal(host, "prefect-worker@default-1.service")
    again = converge(HOST, prefect_version=DEFAULT_VERSION, prefect_restore=backup, **SCHEDULE)
    assert again.returncode == 0 and re.search(r"changed=0\s", again.stdout), again.stdout[-3000:]
    assert "was restored already" in _said(again)


def test_going_back_is_refused_and_changes_nothing(host):
    refused = converge(HOST, prefect_version=OLD)
    assert refused.returncode != 0
    assert f"runs Prefect {DEFAULT_VERSION}; version {OLD} is older" in _said(refused), refused.stdout[-3000:]
    assert re.search(r"changed=0\s", refused.stdout), refused.stdout[-1500:]
    assert _version(host) == DEFAULT_VERSION
    assert host.service("prefect-server.service").is_running


def test_allow_downgrade_restores_the_3_8_8_backup(host, api):
    # Going back backs up the database and rewrites every page of it: on the disk
    # the backups filled, that is refused first, with the numbers.
    refused = converge(HOST, prefect_version=OLD, prefect_allow_downgrade=True)
    said = _said(refused)
    assert refused.returncode != 0
    assert re.search(rf"Going back from Prefect {DEFAULT_VERSION} to {OLD} needs [\d,]+ MiB free on the file system "
                     r"of /var/lib/prefect/backups \(the backup, a copy of the database: [\d,]+ MiB; the restore, "
                     r"the write-ahead log of every page: [\d,]+ MiB; and 64 MiB to spare\)", said), said[-3000:]
    assert re.search(r"changed=0\s", refused.stdout) and _version(host) == DEFAULT_VERSION
    assert host.run("mount -o remount,size=2400m /var/lib/prefect").rc == 0
    back = converge(HOST, prefect_version=OLD, prefect_allow_downgrade=True)
    assert back.returncode == 0, back.stdout[-5000:]
    assert _version(host) == OLD
    assert _sqlite(host, "SELECT version_num FROM alembic_version") == HEADS[OLD]["sqlite"]
    _kept(STATE["before"], history(host, HOST, "count"))
    assert host.service("prefect-worker@default-1.service").is_running
