"""plugins/module_utils/backup.py, the backup core, called directly.

SQLite backups, manifests, restores and copies run for real on sqlite3 files
in tmp_path. PostgreSQL runs with a fake runner (pg_dump writes its --file,
psql answers the revision) and a fake which. main(), the program the backup
timer runs, runs in-process with its argv, with fake pg tools on PATH for
PostgreSQL, and once as the installed program under RLIMIT_FSIZE, a disk that
is full after 4 KiB.
"""

from __future__ import annotations

import calendar
import errno
import hashlib
import json
import os
import re
import resource
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from ansible_collections.prefect_preset.prefect.plugins.module_utils import backup

from backup_fixtures import (
    PASSWORD,
    REVISION,
    ROWS,
    Runs,
    integrity,
    listing,
    make_db,
    old_backup,
    read_rows,
)
from module_harness import ROOT, load_plugin

BackupError = backup.BackupError
PROGRAM = ROOT / "plugins" / "module_utils" / "backup.py"
VERSION = "3.9.1"
NAME_RE = re.compile(r"^prefect-(?P<version>.+)-(?P<stamp>\d{8}T\d{6}Z)\.(?P<ext>db|dump)$")
WHERE = "prefect@db.example:5433/prefect"


# --- helpers

def mode(path: str | Path) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


def digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sqlite_take(tmp_path: Path, keep: int = 3, trigger: str = "on-demand",
                version: str = VERSION) -> dict[str, Any]:
    db = tmp_path / "data" / "prefect.db"
    if not db.exists():
        make_db(db)
    return backup.take("sqlite", str(tmp_path / "backups"), version, keep, trigger, str(db))


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def set_manifest(path: Path, **fields: Any) -> None:
    manifest_file = Path(backup.manifest_path(str(path)))
    manifest_file.write_text(json.dumps({**json.loads(manifest_file.read_text()), **fields}))


def limited_fsize(limit: int) -> Callable[[], None]:
    """For preexec_fn: no file of the child grows beyond limit bytes (EFBIG, as on a full disk)."""
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply  # Python ignores SIGXFSZ itself: writes fail with EFBIG, nothing is killed


def metrics(textfile_dir: Path) -> dict[str, float]:
    text = (textfile_dir / "prefect_backup.prom").read_text()
    return {name: float(value) for name, value in
            (line.split() for line in text.splitlines() if not line.startswith("#"))}


# --- naming

def test_backup_name_is_version_utc_stamp_and_the_database_extension() -> None:
    now = calendar.timegm((2026, 11, 21, 10, 15, 0, 0, 0, 0))
    assert backup.backup_name("3.9.1", "sqlite", now) == "prefect-3.9.1-20261121T101500Z.db"
    assert backup.backup_name("3.9.1", "postgresql", now) == "prefect-3.9.1-20261121T101500Z.dump"


def test_backups_lists_one_version_of_one_database_oldest_first(tmp_path: Path) -> None:
    d = tmp_path / "b"
    newer = old_backup(d, "3.9.1", "20250101T000000Z")
    older = old_backup(d, "3.9.1", "20240101T000000Z")
    old_backup(d, "3.9.10", "20230101T000000Z")  # extends the version's name
    old_backup(d, "3.9", "20230101T000000Z")
    old_backup(d, "3.9.1", "20230101T000000Z", ext="dump")
    (d / "notes.txt").write_text("not a backup")
    assert backup.backups(str(d), "3.9.1", "sqlite") == [str(older), str(newer)]
    assert backup.backups(str(tmp_path / "missing"), "3.9.1", "sqlite") == []


# --- SQLite backups

def test_sqlite_backup_is_a_consistent_private_copy_with_its_manifest(tmp_path: Path) -> None:
    before = time.time()
    res = sqlite_take(tmp_path, trigger="upgrade")
    path = Path(res["path"])
    assert path.parent == tmp_path / "backups"
    match = NAME_RE.match(path.name)
    assert match and match["version"] == VERSION and match["ext"] == "db"
    assert abs(calendar.timegm(time.strptime(match["stamp"], "%Y%m%dT%H%M%SZ")) - before) < 5
    assert mode(path) == 0o600
    assert read_rows(path) == read_rows(tmp_path / "data" / "prefect.db") == ROWS
    assert integrity(path) == "ok"
    assert listing(path.parent) == [path.name, path.name + ".json"]  # no .partial left
    assert res == {"path": str(path), "size": path.stat().st_size, "sha256": digest(path),
                   "revision": REVISION, "removed": []}

    manifest_file = Path(backup.manifest_path(str(path)))
    assert manifest_file == path.with_name(path.name + ".json")
    assert mode(manifest_file) == 0o600
    manifest = json.loads(manifest_file.read_text())
    created = calendar.timegm(time.strptime(manifest.pop("created"), "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(created - before) < 5
    assert manifest == {
        "preset": "prefect_preset.prefect", "format": 1, "database": "sqlite",
        "prefect_version": VERSION, "alembic_revision": REVISION, "trigger": "upgrade",
        "source": str(tmp_path / "data" / "prefect.db"),
        "size": path.stat().st_size, "sha256": digest(path),
    }
    assert backup.read_manifest(str(path), "sqlite")["sha256"] == digest(path)


def test_a_database_without_alembic_version_has_an_empty_revision(tmp_path: Path) -> None:
    make_db(tmp_path / "data" / "prefect.db", revision=None)
    res = sqlite_take(tmp_path)
    assert res["revision"] == ""
    assert backup.read_manifest(res["path"])["alembic_revision"] == ""


def test_dest_dir_is_created_private(tmp_path: Path) -> None:
    make_db(tmp_path / "prefect.db")
    backup.take("sqlite", str(tmp_path / "deep" / "backups"), VERSION,
                sqlite_path=str(tmp_path / "prefect.db"))
    assert mode(tmp_path / "deep" / "backups") == 0o700


def test_backup_of_a_wal_database_has_the_committed_rows_still_in_the_wal(tmp_path: Path) -> None:
    db = make_db(tmp_path / "data" / "prefect.db", wal=True)
    writer = sqlite3.connect(db)
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")  # the new rows stay in prefect.db-wal
        writer.execute("INSERT INTO flow_run VALUES ('w', 9)")
        writer.commit()
        assert Path(f"{db}-wal").stat().st_size > 0
        res = sqlite_take(tmp_path)  # while the server (writer) holds the database open
    finally:
        writer.close()
    assert read_rows(res["path"]) == [*ROWS, ("w", 9)]
    assert integrity(res["path"]) == "ok"


def test_a_backup_of_a_wal_database_is_one_file_that_reads_leave_alone(tmp_path: Path) -> None:
    make_db(tmp_path / "data" / "prefect.db", wal=True)
    res = sqlite_take(tmp_path)
    assert backup.read_manifest(res["path"], "sqlite")["sha256"] == res["sha256"]
    assert read_rows(res["path"]) == ROWS and backup.sqlite_revision(res["path"]) == REVISION
    assert listing(tmp_path / "backups") == sorted([Path(res["path"]).name, Path(res["path"]).name + ".json"])
    assert backup.sha256(res["path"]) == res["sha256"]


def test_keep_removes_what_reads_left_beside_backups_of_earlier_releases(tmp_path: Path) -> None:
    d = tmp_path / "backups"
    oldest = old_backup(d, VERSION, "20200101T000000Z")
    for suffix in ("-wal", "-shm"):
        Path(f"{oldest}{suffix}").write_bytes(b"")
    res = sqlite_take(tmp_path, keep=1)
    assert res["removed"] == [str(oldest)]
    assert listing(d) == sorted([Path(res["path"]).name, Path(res["path"]).name + ".json"])


def test_paths_with_a_hash_and_other_uri_characters(tmp_path: Path) -> None:
    db = make_db(tmp_path / "data#1?%" / "prefect.db")
    res = backup.take("sqlite", str(tmp_path / "backups#2"), VERSION, sqlite_path=str(db))
    assert read_rows(res["path"]) == ROWS
    assert res["revision"] == REVISION
    assert backup.read_manifest(res["path"], "sqlite")["source"] == str(db)


def test_missing_source_fails_clearly_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(BackupError) as exc:
        backup.take("sqlite", str(tmp_path / "backups"), VERSION,
                    sqlite_path=str(tmp_path / "nope.db"))
    assert str(exc.value) == f"no SQLite database at {tmp_path / 'nope.db'}"
    assert listing(tmp_path / "backups") == []
    assert not (tmp_path / "nope.db").exists()  # not created by a connect


def test_a_source_that_is_not_a_database_fails_naming_it_and_leaves_no_partial_file(
        tmp_path: Path) -> None:
    d = tmp_path / "backups"
    old = old_backup(d, VERSION, "20200101T000000Z")
    bad = tmp_path / "bad.db"
    bad.write_text("this is not a database " * 100)
    with pytest.raises(BackupError) as exc:
        backup.take("sqlite", str(d), VERSION, keep=1, sqlite_path=str(bad))
    assert str(exc.value).startswith(f"backing up {bad} to {d}/prefect-{VERSION}-")
    assert str(exc.value).endswith("failed: file is not a database")
    assert listing(d) == [old.name, old.name + ".json"]  # nothing new, nothing pruned


def test_a_manifest_that_cannot_be_written_leaves_neither_backup_nor_partial(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "backups"
    old = old_backup(d, VERSION, "20200101T000000Z")

    def disk_full(obj: Any, handle: Any, **kwargs: Any) -> None:
        handle.write('{"preset": ')
        handle.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup.json, "dump", disk_full)
    with pytest.raises(BackupError) as exc:
        sqlite_take(tmp_path, keep=1)
    assert str(exc.value) == f"writing the backup into {d} failed: [Errno 28] No space left on device"
    assert listing(d) == [old.name, old.name + ".json"]


def test_sqlite_needs_sqlite_path_and_postgresql_its_connection(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=r"^database=sqlite needs sqlite_path$"):
        backup.take("sqlite", str(tmp_path / "backups"), VERSION)
    with pytest.raises(BackupError, match=r"^database=postgresql needs the connection$"):
        backup.take("postgresql", str(tmp_path / "backups"), VERSION)
    with pytest.raises(BackupError, match=r"^database=sqlite needs sqlite_path$"):
        backup.restore(str(old_backup(tmp_path / "b", VERSION, "20200101T000000Z")), "sqlite")
    assert not (tmp_path / "backups").exists()


@pytest.mark.parametrize("keep", [0, -1])
def test_keep_below_one_is_refused_before_anything(tmp_path: Path, keep: int) -> None:
    d = tmp_path / "backups"
    old = old_backup(d, VERSION, "20200101T000000Z")
    with pytest.raises(BackupError, match=f"^keep must be 1 or more, got {keep}$"):
        sqlite_take(tmp_path, keep=keep)
    assert listing(d) == [old.name, old.name + ".json"]


# --- keep: per version only

def test_keep_removes_the_oldest_of_the_version_with_their_manifests(tmp_path: Path) -> None:
    d = tmp_path / "backups"
    oldest = old_backup(d, VERSION, "20200101T000000Z")
    older = old_backup(d, VERSION, "20210101T000000Z")
    newest_old = old_backup(d, VERSION, "20220101T000000Z")
    others = [old_backup(d, "3.9.10", "20190101T000000Z"),  # extends 3.9.1's name
              old_backup(d, "3.9", "20190101T000000Z"),
              old_backup(d, "3.8.8", "20190101T000000Z"),
              old_backup(d, VERSION, "20190101T000000Z", ext="dump")]
    (d / "notes.txt").write_text("keep me")
    res = sqlite_take(tmp_path, keep=2)
    assert res["removed"] == [str(oldest), str(older)]
    kept = [newest_old, Path(res["path"]), *others]
    assert listing(d) == sorted(["notes.txt", *(p.name for p in kept),
                                 *(p.name + ".json" for p in kept)])


def test_keep_counts_the_new_backup(tmp_path: Path) -> None:
    d = tmp_path / "backups"
    first = old_backup(d, VERSION, "20200101T000000Z")
    res = sqlite_take(tmp_path, keep=1)
    assert res["removed"] == [str(first)]
    assert listing(d) == [Path(res["path"]).name, Path(res["path"]).name + ".json"]
    assert sqlite_take(tmp_path, keep=5)["removed"] == []


def test_keep_does_not_touch_a_version_that_extends_this_ones_name(tmp_path: Path) -> None:
    d = tmp_path / "backups"
    longer = old_backup(d, "3.9.10", "20200101T000000Z")
    labelled = old_backup(d, "pre-upgrade", "20200101T000000Z")
    assert sqlite_take(tmp_path, keep=1)["removed"] == []
    assert sqlite_take(tmp_path, keep=1, version="pre")["removed"] == []
    assert longer.exists() and labelled.exists()
    assert Path(backup.manifest_path(str(longer))).exists()


def test_two_backups_in_the_same_second_with_keep_1(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = calendar.timegm((2026, 11, 21, 10, 15, 0, 0, 0, 0))
    real = backup.backup_name
    monkeypatch.setattr(backup, "backup_name", lambda version, database, now=None:
                        real(version, database, fixed))
    first = sqlite_take(tmp_path, keep=1)
    make_db(tmp_path / "data" / "prefect.db", rows=[("second", 2)])
    second = sqlite_take(tmp_path, keep=1)
    assert second["path"] == first["path"] and second["removed"] == []
    assert listing(tmp_path / "backups") == [Path(first["path"]).name,
                                             Path(first["path"]).name + ".json"]
    assert integrity(second["path"]) == "ok"
    assert read_rows(second["path"]) == [("second", 2)]
    assert backup.read_manifest(second["path"], "sqlite")["sha256"] == second["sha256"]


# --- read_manifest: only this preset's backups, unchanged

def test_read_manifest_of_a_good_backup(tmp_path: Path) -> None:
    res = sqlite_take(tmp_path)
    manifest = backup.read_manifest(res["path"], "sqlite")
    assert manifest["sha256"] == res["sha256"] and manifest["size"] == res["size"]
    assert backup.read_manifest(res["path"]) == manifest  # any database


DAMAGES: dict[str, tuple[Callable[[Path], object], str]] = {
    "missing file": (lambda p: p.unlink(), "{path} does not exist"),
    "missing manifest": (lambda p: Path(backup.manifest_path(str(p))).unlink(),
                         "{path} is not a backup of this preset: it has no manifest ({path}.json)"),
    "manifest not JSON": (lambda p: Path(backup.manifest_path(str(p))).write_text("{nope"),
                          "the manifest of {path} is not JSON: "),
    "other preset": (lambda p: set_manifest(p, preset="someone.else"),
                     "{path} is not a backup of this preset (its manifest says "
                     "preset='someone.else', format=1)"),
    "other format": (lambda p: set_manifest(p, format=2),
                     "{path} is not a backup of this preset (its manifest says "
                     "preset='prefect_preset.prefect', format=2)"),
    "other database": (lambda p: set_manifest(p, database="postgresql"),
                       "{path} is a backup of postgresql; the server uses sqlite"),
    "flipped byte": (flip_byte, "{path} does not match its manifest (size {size}, expected "
                                "{size}; SHA-256 differs)"),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[:4096]),
                  "{path} does not match its manifest (size 4096, expected {size}"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_read_manifest_refuses(tmp_path: Path, damage: str) -> None:
    make_db(tmp_path / "data" / "prefect.db", padding=10)
    res = sqlite_take(tmp_path)
    change, message = DAMAGES[damage]
    change(Path(res["path"]))
    with pytest.raises(BackupError) as exc:
        backup.read_manifest(res["path"], "sqlite")
    assert str(exc.value).startswith(message.format(path=res["path"], size=res["size"]))


# --- restore

def test_restore_of_a_chosen_backup_over_the_database(tmp_path: Path) -> None:
    res = sqlite_take(tmp_path)
    db = make_db(tmp_path / "data" / "prefect.db", rows=[("changed", 42)], wal=True)
    # what a server that stopped uncleanly may leave beside the database
    wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
    wal.write_bytes(b"stale wal")
    shm.write_bytes(b"stale shm")
    manifest = backup.restore(res["path"], "sqlite", str(db))
    assert not wal.exists() and not shm.exists()  # before anything opens it again
    assert manifest == backup.read_manifest(res["path"], "sqlite")
    assert read_rows(db) == ROWS
    assert integrity(db) == "ok"
    assert digest(res["path"]) == res["sha256"]  # the backup is untouched


@pytest.mark.parametrize("damage", ["missing manifest", "flipped byte", "other database"])
def test_restore_refused_when_the_manifest_does_not_match(tmp_path: Path, damage: str) -> None:
    res = sqlite_take(tmp_path)
    db = make_db(tmp_path / "data" / "prefect.db", rows=[("current", 7)])
    wal = Path(f"{db}-wal")
    wal.write_bytes(b"the server's wal")
    before = db.read_bytes()
    DAMAGES[damage][0](Path(res["path"]))
    with pytest.raises(BackupError, match=re.escape(res["path"])):
        backup.restore(res["path"], "sqlite", str(db))
    assert db.read_bytes() == before and wal.read_bytes() == b"the server's wal"


# --- copy_to

def test_copy_to_copies_the_backup_and_its_manifest(tmp_path: Path) -> None:
    res = sqlite_take(tmp_path)
    copy_dir = tmp_path / "copies"
    copy_dir.mkdir()
    target = backup.copy_to(res["path"], str(copy_dir))
    name = Path(res["path"]).name
    assert target == str(copy_dir / name)
    assert listing(copy_dir) == [name, name + ".json"]  # no .partial left
    assert Path(target).read_bytes() == Path(res["path"]).read_bytes()
    assert mode(target) == mode(backup.manifest_path(target)) == 0o600
    assert backup.read_manifest(target, "sqlite")["sha256"] == res["sha256"]


def _unwritable(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "not-mounted"
    if kind == "a file":
        (tmp_path / "a-file").write_text("")
        return tmp_path / "a-file"
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only directory")
    (tmp_path / "read-only").mkdir(mode=0o500)
    return tmp_path / "read-only"


@pytest.mark.parametrize("kind", ["missing", "a file", "read-only"])
def test_copy_into_a_directory_that_cannot_be_written_fails(tmp_path: Path, kind: str) -> None:
    res = sqlite_take(tmp_path)
    copy_dir = _unwritable(tmp_path, kind)
    with pytest.raises(BackupError, match=f"^copying {re.escape(res['path'])} to "
                                          f"{re.escape(str(copy_dir))} failed: "):
        backup.copy_to(res["path"], str(copy_dir))
    if copy_dir.is_dir():
        assert listing(copy_dir) == []


def test_a_copy_that_fills_the_disk_leaves_no_half_file(tmp_path: Path) -> None:
    make_db(tmp_path / "data" / "prefect.db", padding=20)
    res = sqlite_take(tmp_path)
    assert res["size"] > 4096
    copy_dir = tmp_path / "copies"
    copy_dir.mkdir()
    code = ("import importlib.util, sys\n"
            "spec = importlib.util.spec_from_file_location('backup', sys.argv[1])\n"
            "backup = importlib.util.module_from_spec(spec)\n"
            "spec.loader.exec_module(backup)\n"
            "try:\n"
            "    backup.copy_to(sys.argv[2], sys.argv[3])\n"
            "except backup.BackupError as error:\n"
            "    sys.exit(f'refused: {error}')\n")
    done = subprocess.run([sys.executable, "-B", "-c", code, str(PROGRAM), res["path"], str(copy_dir)],
                          preexec_fn=limited_fsize(4096), capture_output=True, text=True, check=False)
    assert done.returncode == 1, done
    assert done.stderr.startswith(f"refused: copying {res['path']} to {copy_dir} failed: ")
    assert "File too large" in done.stderr
    assert listing(copy_dir) == []


def test_a_manifest_copy_that_fails_takes_the_copied_backup_away(tmp_path: Path) -> None:
    res = sqlite_take(tmp_path)
    copy_dir = tmp_path / "copies"
    name = Path(res["path"]).name
    (copy_dir / f"{name}.json.partial").mkdir(parents=True)  # in the way of the manifest's copy
    with pytest.raises(BackupError, match=r"^copying "):
        backup.copy_to(res["path"], str(copy_dir))
    assert not (copy_dir / name).exists()


# --- PostgreSQL, with a fake runner and which

class PgTools:
    """A fake runner: psql answers the revision, pg_dump writes its --file,
    pg_restore --list checks it; every argv and environment is recorded."""

    def __init__(self, psql_rc: int = 0, dump_rc: int = 0, list_rc: int = 0,
                 restore_rc: int = 0) -> None:
        self.psql_rc, self.dump_rc = psql_rc, dump_rc
        self.list_rc, self.restore_rc = list_rc, restore_rc
        self.runs: Runs = []
        self.listed: list[tuple[str, bool, bool]] = []

    def __call__(self, argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
        self.runs.append((list(argv), dict(env)))
        tool = Path(argv[0]).name
        if tool == "psql":
            if self.psql_rc:
                return self.psql_rc, "", 'psql: error: relation "alembic_version" does not exist'
            return 0, f"{REVISION}\n", ""
        if tool == "pg_dump":
            if self.dump_rc:
                return self.dump_rc, "", (
                    'pg_dump: error: connection to server at "db.example" (10.0.0.5), port 5433 '
                    'failed: FATAL:  password authentication failed for user "prefect"\n')
            (target,) = [a.split("=", 1)[1] for a in argv if a.startswith("--file=")]
            Path(target).write_bytes(b"PGDMP custom dump")
            return 0, "", ""
        if tool == "pg_restore" and "--list" in argv:
            path = argv[-1]
            self.listed.append((path, Path(path).exists(), Path(path.removesuffix(".partial")).exists()))
            if self.list_rc:
                return self.list_rc, "", ("pg_restore: error: input file does not appear to be "
                                          "a valid archive")
            return 0, "; Archive created at ...\n", ""
        if tool == "pg_restore":
            return (self.restore_rc, "", "pg_restore: error: boom") if self.restore_rc else (0, "", "")
        raise AssertionError(argv)

    def tools(self) -> list[str]:
        return [Path(argv[0]).name for argv, _env in self.runs]


def which(present: Iterable[str] = ("psql", "pg_dump", "pg_restore")) -> Callable[[str], str | None]:
    names = set(present)
    return lambda tool: f"/usr/bin/{tool}" if tool in names else None


def pg(tools: PgTools, password: str = PASSWORD, ca_file: str = "/etc/ssl/certs/ca.pem",
       present: Iterable[str] = ("psql", "pg_dump", "pg_restore"), **kw: Any) -> backup.PostgreSQL:
    args: dict[str, Any] = dict(host="db.example", port=5433, name="prefect", user="prefect")
    args.update(kw)
    return backup.PostgreSQL(args["host"], args["port"], args["name"], args["user"], password,
                             "verify-full", ca_file, runner=tools, which=which(present))


ENV = {"PGHOST": "db.example", "PGPORT": "5433", "PGDATABASE": "prefect", "PGUSER": "prefect",
       "PGSSLMODE": "verify-full", "PGCONNECT_TIMEOUT": "10", "PGPASSWORD": PASSWORD,
       "PGSSLROOTCERT": "/etc/ssl/certs/ca.pem"}


def test_pg_dump_arguments_and_environment(tmp_path: Path) -> None:
    tools = PgTools()
    res = backup.take("postgresql", str(tmp_path / "backups"), VERSION, trigger="upgrade",
                      postgresql=pg(tools))
    path = Path(res["path"])
    match = NAME_RE.match(path.name)
    assert match and match["ext"] == "dump" and match["version"] == VERSION
    assert path.read_bytes() == b"PGDMP custom dump"
    assert mode(path) == 0o600
    assert res["size"] == len(b"PGDMP custom dump") and res["revision"] == REVISION
    # the revision is read before the dump, the dump checked before it gets its name
    assert [argv for argv, _env in tools.runs] == [
        ["/usr/bin/psql", "--no-password", "--no-psqlrc", "--tuples-only", "--no-align", "--quiet",
         "--command=SELECT version_num FROM alembic_version"],
        ["/usr/bin/pg_dump", "--no-password", "--format=custom", f"--file={path}.partial"],
        ["/usr/bin/pg_restore", "--no-password", "--list", f"{path}.partial"],
    ]
    assert tools.listed == [(f"{path}.partial", True, False)]
    assert all(env == ENV for _argv, env in tools.runs)
    assert listing(path.parent) == [path.name, path.name + ".json"]
    manifest = backup.read_manifest(str(path), "postgresql")
    assert manifest["source"] == WHERE and manifest["alembic_revision"] == REVISION
    assert manifest["trigger"] == "upgrade" and manifest["database"] == "postgresql"
    assert PASSWORD not in Path(backup.manifest_path(str(path))).read_text()


def test_pg_restore_of_a_chosen_dump(tmp_path: Path) -> None:
    dump = backup.take("postgresql", str(tmp_path / "backups"), VERSION,
                       postgresql=pg(PgTools()))["path"]
    tools = PgTools()
    manifest = backup.restore(dump, "postgresql", postgresql=pg(tools))
    assert manifest["sha256"] == digest(dump)
    assert tools.runs == [(["/usr/bin/pg_restore", "--no-password", "--clean", "--if-exists",
                            "--no-owner", "--single-transaction", "--dbname=prefect", dump], ENV)]


def test_pg_restore_refused_when_the_manifest_does_not_match(tmp_path: Path) -> None:
    dump = Path(backup.take("postgresql", str(tmp_path / "backups"), VERSION,
                            postgresql=pg(PgTools()))["path"])
    flip_byte(dump)
    tools = PgTools()
    with pytest.raises(BackupError, match="does not match its manifest"):
        backup.restore(str(dump), "postgresql", postgresql=pg(tools))
    sqlite_file = old_backup(tmp_path / "b", VERSION, "20200101T000000Z")
    with pytest.raises(BackupError, match="is a backup of sqlite; the server uses postgresql"):
        backup.restore(str(sqlite_file), "postgresql", postgresql=pg(tools))
    assert tools.runs == []


def test_the_password_is_never_in_argv(tmp_path: Path) -> None:
    tools = PgTools()
    dump = backup.take("postgresql", str(tmp_path / "backups"), VERSION, postgresql=pg(tools))["path"]
    backup.restore(dump, "postgresql", postgresql=pg(tools))
    assert len(tools.runs) == 4
    for argv, env in tools.runs:
        assert "--no-password" in argv
        assert not any("SECRET" in a or "pa:ss" in a for a in argv), argv
        assert env["PGPASSWORD"] == PASSWORD


def test_no_password_means_no_pgpassword(tmp_path: Path) -> None:
    tools = PgTools()
    backup.take("postgresql", str(tmp_path / "backups"), VERSION,
                postgresql=pg(tools, password="", ca_file=""))
    assert tools.runs
    for _argv, env in tools.runs:
        assert "PGPASSWORD" not in env and "PGSSLROOTCERT" not in env


def test_a_failing_pg_dump_names_the_connection_not_the_password(tmp_path: Path) -> None:
    with pytest.raises(BackupError) as exc:
        backup.take("postgresql", str(tmp_path / "backups"), VERSION,
                    postgresql=pg(PgTools(dump_rc=1)))
    msg = str(exc.value)
    assert msg.startswith(f"pg_dump for {WHERE} failed (exit 1): ")
    assert "password authentication failed" in msg
    assert PASSWORD not in msg and "SECRET" not in msg
    assert listing(tmp_path / "backups") == []


def test_a_failing_revision_query_stops_before_the_dump(tmp_path: Path) -> None:
    tools = PgTools(psql_rc=1)
    with pytest.raises(BackupError, match=f"^psql for {re.escape(WHERE)} failed \\(exit 1\\): "):
        backup.take("postgresql", str(tmp_path / "backups"), VERSION, postgresql=pg(tools))
    assert tools.tools() == ["psql"]
    assert listing(tmp_path / "backups") == []


def test_a_failing_check_keeps_no_backup_and_removes_nothing(tmp_path: Path) -> None:
    d = tmp_path / "backups"
    old = old_backup(d, VERSION, "20200101T000000Z", ext="dump")
    with pytest.raises(BackupError) as exc:
        backup.take("postgresql", str(d), VERSION, keep=1, postgresql=pg(PgTools(list_rc=1)))
    assert str(exc.value).startswith(f"pg_restore for {WHERE} failed (exit 1): ")
    assert listing(d) == [old.name, old.name + ".json"]  # no partial dump, old one kept


@pytest.mark.parametrize("missing", ["psql", "pg_dump", "pg_restore"])
def test_a_missing_tool_says_install_postgresql_client(tmp_path: Path, missing: str) -> None:
    tools = PgTools()
    present = {"psql", "pg_dump", "pg_restore"} - {missing}
    with pytest.raises(BackupError) as exc:
        backup.take("postgresql", str(tmp_path / "backups"), VERSION,
                    postgresql=pg(tools, present=present))
    assert str(exc.value) == f"{missing} not found on this host: install postgresql-client"
    assert missing not in tools.tools()
    assert listing(tmp_path / "backups") == []


def test_postgresql_needs_host_name_and_user() -> None:
    with pytest.raises(BackupError, match=r"^database=postgresql needs host, user$"):
        pg(PgTools(), host="", user="")
    with pytest.raises(BackupError, match=r"^database=postgresql needs name$"):
        pg(PgTools(), name="")


# --- from_url: Prefect's connection URL

TRICKY = "it's \"quoted\" \\ $HOME 100% #1 @x/y:z"


def test_from_url_reads_a_percent_encoded_password() -> None:
    url = f"postgresql+asyncpg://prefect:{quote(TRICKY, safe='')}@db.example:5433/prefect"
    conn = backup.PostgreSQL.from_url(url, runner=PgTools(), which=which())
    assert conn.env == {"PGHOST": "db.example", "PGPORT": "5433", "PGDATABASE": "prefect",
                        "PGUSER": "prefect", "PGSSLMODE": "prefer", "PGCONNECT_TIMEOUT": "10",
                        "PGPASSWORD": TRICKY}
    assert conn.where == WHERE


def test_from_url_reads_what_the_role_writes() -> None:
    """The URL the database_connection filter composes for Prefect parses back to its parts."""
    compose = load_plugin("plugins/filter/database_connection.py", "prefect_database_connection")
    for sslmode, expected in (("require", "require"), ("disable", "disable"), ("prefer", "prefer")):
        url = compose.database_connection({
            "database": "postgresql", "host": "db.example", "port": 5433, "name": "prefect",
            "user": "prefect", "password": TRICKY, "sslmode": sslmode})["url"]
        conn = backup.PostgreSQL.from_url(url, runner=PgTools(), which=which())
        assert conn.env["PGPASSWORD"] == TRICKY, url
        assert conn.env["PGSSLMODE"] == expected, url
        assert conn.where == WHERE


def test_from_url_ssl_query_explicit_sslmode_and_defaults() -> None:
    base = "postgresql+asyncpg://u:p@db.example/prefect"
    assert backup.PostgreSQL.from_url(base + "?ssl=require").env["PGSSLMODE"] == "require"
    explicit = backup.PostgreSQL.from_url(base + "?ssl=require", "verify-full", "/ca.pem")
    assert explicit.env["PGSSLMODE"] == "verify-full"  # the explicit sslmode wins
    assert explicit.env["PGSSLROOTCERT"] == "/ca.pem"
    plain = backup.PostgreSQL.from_url("postgresql://u@db.example/prefect")
    assert plain.env["PGPORT"] == "5432" and plain.env["PGSSLMODE"] == "prefer"
    assert "PGPASSWORD" not in plain.env


@pytest.mark.parametrize(("url", "message"), [
    ("sqlite+aiosqlite:///var/lib/prefect/prefect.db", "is not a PostgreSQL URL"),
    ("postgresql+asyncpg://u:se#cret@db.example/prefect", "has a port that is not a number"),
    ("postgresql+asyncpg://u:p@/prefect", "needs host"),
])
def test_from_url_refuses_what_it_cannot_use(url: str, message: str) -> None:
    with pytest.raises(BackupError, match=message) as exc:
        backup.PostgreSQL.from_url(url)
    assert "cret" not in str(exc.value)


# --- main(): the scheduled program

def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = backup.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def sqlite_argv(tmp_path: Path, *extra: str, keep: int = 2) -> list[str]:
    db = tmp_path / "data" / "prefect.db"
    if not db.exists():
        make_db(db)
    return ["--database", "sqlite", "--sqlite-path", str(db), "--dest-dir",
            str(tmp_path / "backups"), "--version", VERSION, "--keep", str(keep), *extra]


def names(*paths: Path) -> list[str]:
    return sorted([p.name for p in paths] + [p.name + ".json" for p in paths])


def test_main_backs_up_keeps_copies_runs_the_post_command_and_reports(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d, copies, metrics_dir = tmp_path / "backups", tmp_path / "copies", tmp_path / "metrics"
    metrics_dir.mkdir()
    old = [old_backup(d, VERSION, f"202{i}0101T000000Z") for i in range(3)]
    old_copies = [old_backup(copies, VERSION, f"202{i}0101T000000Z") for i in range(3)]
    other = old_backup(d, "3.9.10", "20200101T000000Z")
    marker = tmp_path / "marker"
    post = f'printf "%s\\n" "$1" "$PREFECT_BACKUP_PATH" "$PREFECT_BACKUP_MANIFEST" > \'{marker}\''
    code, out, err = run_main(sqlite_argv(tmp_path, "--copy-dir", str(copies), "--post-command",
                                          post, "--textfile-dir", str(metrics_dir)), capsys)
    assert (code, err) == (0, "")
    (new,) = [p for p in d.iterdir() if p.suffix == ".db" and p not in (*old, other)]
    assert listing(d) == names(old[2], new, other)  # keep 2 of 3.9.1, with their manifests
    assert listing(copies) == names(old_copies[2], new)  # keep 2 there too
    assert (copies / new.name).read_bytes() == new.read_bytes()
    assert backup.read_manifest(str(copies / new.name), "sqlite")["trigger"] == "scheduled"
    assert marker.read_text().splitlines() == [str(new), str(new), f"{new}.json"]
    assert f"backup: {new} ({new.stat().st_size} bytes, revision {REVISION}, sha256 " in out
    assert f"backup: removed {old[0]} (keep 2)" in out
    assert f"backup: copied to {copies / new.name}" in out
    assert "backup: post command done" in out
    found = metrics(metrics_dir)
    assert found["prefect_backup_last_run_success"] == 1
    assert found["prefect_backup_last_size_bytes"] == new.stat().st_size
    assert abs(found["prefect_backup_last_success_timestamp_seconds"] - time.time()) < 5
    assert mode(metrics_dir / "prefect_backup.prom") == 0o644
    assert listing(metrics_dir) == ["prefect_backup.prom"]


def test_main_takes_the_post_command_from_the_units_environment_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """prefect-backup.service passes no --post-command: the role writes the command into
    backup.env as PREFECT_BACKUP_POST_COMMAND."""
    marker = tmp_path / "marker"
    monkeypatch.setenv("PREFECT_BACKUP_POST_COMMAND", f'echo "$1" > \'{marker}\'')
    code, _out, err = run_main(sqlite_argv(tmp_path), capsys)
    assert (code, err) == (0, "")
    assert marker.read_text().strip().endswith(".db")
    assert Path(marker.read_text().strip()).exists()


def test_main_fails_when_the_post_command_fails(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    code, _out, err = run_main(sqlite_argv(tmp_path, "--post-command", "exit 3",
                                           "--textfile-dir", str(metrics_dir)), capsys)
    assert code == 1
    assert err == "backup failed: the post command exited 3: exit 3\n"
    assert metrics(metrics_dir)["prefect_backup_last_run_success"] == 0
    assert len(backup.backups(str(tmp_path / "backups"), VERSION, "sqlite")) == 1  # still good


def test_main_reports_a_failure_in_the_textfile(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    argv = sqlite_argv(tmp_path, "--textfile-dir", str(metrics_dir))
    assert run_main(argv, capsys)[0] == 0
    (tmp_path / "data" / "prefect.db").unlink()
    code, out, err = run_main(argv, capsys)
    assert (code, out) == (1, "")
    assert err == f"backup failed: no SQLite database at {tmp_path / 'data' / 'prefect.db'}\n"
    found = metrics(metrics_dir)
    assert found["prefect_backup_last_run_success"] == 0
    assert "prefect_backup_last_size_bytes" not in found
    assert "prefect_backup_last_success_timestamp_seconds" not in found


def test_main_fails_when_the_copy_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(sqlite_argv(tmp_path, "--copy-dir", str(tmp_path / "unmounted")),
                               capsys)
    assert code == 1
    assert err.startswith("backup failed: copying ")


def test_main_refuses_keep_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(sqlite_argv(tmp_path, keep=0), capsys)
    assert (code, err) == (1, "backup failed: keep must be 1 or more, got 0\n")
    assert not (tmp_path / "backups").exists()


def test_the_program_fails_cleanly_on_a_full_disk(tmp_path: Path) -> None:
    """Run as installed (python3 prefect-backup ...); no file may grow past 4 KiB."""
    make_db(tmp_path / "data" / "prefect.db", padding=20)
    d, metrics_dir = tmp_path / "backups", tmp_path / "metrics"
    metrics_dir.mkdir()
    old = old_backup(d, VERSION, "20200101T000000Z")
    done = subprocess.run([sys.executable, "-B", str(PROGRAM),
                           *sqlite_argv(tmp_path, "--textfile-dir", str(metrics_dir), keep=1)],
                          preexec_fn=limited_fsize(4096), capture_output=True, text=True,
                          check=False)
    assert done.returncode == 1, done
    assert done.stderr.startswith(f"backup failed: backing up {tmp_path / 'data' / 'prefect.db'} to ")
    assert done.stdout == ""
    assert listing(d) == names(old)  # no backup, no partial file, the old one kept
    assert metrics(metrics_dir)["prefect_backup_last_run_success"] == 0


FAKE_TOOLS = {
    "psql": f'echo "$@" >> "$FAKE_LOG/psql.argv"\necho {REVISION}\n',
    "pg_dump": ('echo "$@" >> "$FAKE_LOG/pg_dump.argv"\n'
                'env | grep ^PG | sort > "$FAKE_LOG/pg_dump.env"\n'
                'for a in "$@"; do case "$a" in --file=*) printf PGDMP > "${a#--file=}";; esac; done\n'),
    "pg_restore": 'echo "$@" >> "$FAKE_LOG/pg_restore.argv"\n',
}


def test_main_postgresql_reads_the_servers_connection_url(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    log.mkdir()
    for tool, body in FAKE_TOOLS.items():
        (bin_dir / tool).write_text("#!/bin/sh\n" + body)
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setenv("PREFECT_SERVER_DATABASE_CONNECTION_URL",
                       f"postgresql+asyncpg://prefect:{quote(TRICKY, safe='')}@db.example:5433/"
                       "prefect?ssl=require")
    code, out, err = run_main(["--database", "postgresql", "--dest-dir", str(tmp_path / "backups"),
                               "--version", VERSION, "--sslmode", "verify-full",
                               "--ca-file", "/etc/ssl/ca.pem"], capsys)
    assert (code, err) == (0, ""), out
    (dump,) = backup.backups(str(tmp_path / "backups"), VERSION, "postgresql")
    assert Path(dump).read_bytes() == b"PGDMP"
    assert backup.read_manifest(dump, "postgresql")["source"] == WHERE
    assert f"revision {REVISION}" in out
    env = dict(line.split("=", 1) for line in (log / "pg_dump.env").read_text().splitlines())
    assert env["PGPASSWORD"] == TRICKY
    assert env["PGSSLMODE"] == "verify-full" and env["PGSSLROOTCERT"] == "/etc/ssl/ca.pem"
    assert env["PGHOST"] == "db.example" and env["PGPORT"] == "5433"
    argv = "".join((log / f"{tool}.argv").read_text() for tool in FAKE_TOOLS)
    assert "quoted" not in argv and "100%" not in argv and "HOME" not in argv


def test_main_postgresql_without_the_connection_url_fails_clearly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_SERVER_DATABASE_CONNECTION_URL", raising=False)
    code, out, err = run_main(["--database", "postgresql", "--dest-dir", str(tmp_path / "backups"),
                               "--version", VERSION], capsys)
    assert (code, out) == (1, "")
    assert err == ("backup failed: PREFECT_SERVER_DATABASE_CONNECTION_URL is not set "
                   "(the server environment file)\n")
    assert not (tmp_path / "backups").exists()
