"""Unit tests for plugins/modules/database_backup.py.

SQLite backups and restores run for real on sqlite3 files in tmp_path; for
PostgreSQL, pg_dump and pg_restore are replaced by a fake run_command that
records argv and environment.
"""

import calendar
import grp
import json
import os
import pwd
import re
import sqlite3
import stat
import time
from pathlib import Path
from unittest import mock

import pytest
import yaml

from module_harness import assert_options_match_spec, load_plugin, module_kwargs, patch_module_args

ROOT = Path(__file__).resolve().parents[2]
bk = load_plugin("plugins/modules/database_backup.py", "prefect_database_backup")

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
NAME_RE = re.compile(r"^prefect-(?P<label>.+)-(?P<stamp>\d{8}T\d{6}Z)\.(?P<ext>db|dump)$")
PASSWORD = "pa:ss@w/rd%SECRET"


# --- helpers

def make_db(path, rows=(("a", 1), ("b", 2), ("c", 3)), wal=False):
    con = sqlite3.connect(path)
    try:
        if wal:
            con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE IF NOT EXISTS flow_run (name TEXT PRIMARY KEY, n INTEGER)")
        con.execute("DELETE FROM flow_run")
        con.executemany("INSERT INTO flow_run VALUES (?, ?)", rows)
        con.commit()
    finally:
        con.close()
    return path


def read_rows(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT name, n FROM flow_run ORDER BY name").fetchall()
    finally:
        con.close()


def integrity(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def old_backup(dest_dir, label, stamp, ext="db", rows=(("old", 0),)):
    """A backup taken earlier: a real database whose name carries an older timestamp."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / f"prefect-{label}-{stamp}.{ext}"
    if ext == "db":
        make_db(str(path), rows)
    else:
        path.write_bytes(b"PGDMP fake")
    return path


class FakeModule:
    """The parts of AnsibleModule that take() and restore() use."""

    def __init__(self, check_mode=False, commands=None, bins=("pg_dump", "pg_restore"), **params):
        self.params = dict(
            database="sqlite", sqlite_path=None, host=None, port=5432, name=None, user=None,
            password=None, sslmode="prefer", ca_file=None, dest_dir=None, label="3.7.8",
            keep=3, owner=None, group=None, state="present")
        self.params.update(params)
        self.check_mode = check_mode
        self.commands = commands  # callable(argv, env) -> (rc, out, err)
        self.bins = bins
        self.runs = []
        self.ownership = []

    def get_bin_path(self, tool, required=False):
        return f"/usr/bin/{tool}" if tool in self.bins else None

    def run_command(self, args, environ_update=None, **kw):
        self.runs.append((list(args), dict(environ_update or {})))
        return self.commands(list(args), dict(environ_update or {}))

    def set_owner_if_different(self, path, owner, changed):
        self.ownership.append(("owner", path, owner))
        return changed

    def set_group_if_different(self, path, group, changed):
        self.ownership.append(("group", path, group))
        return changed


def sqlite_params(tmp_path, **kw):
    db = tmp_path / "data" / "prefect.db"
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        make_db(str(db))
    params = dict(database="sqlite", sqlite_path=str(db), dest_dir=str(tmp_path / "backups"),
                  label="3.7.8")
    params.update(kw)
    return params


def listing(directory):
    return sorted(p.name for p in Path(directory).iterdir()) if Path(directory).exists() else []


# --- naming

def test_backup_name_format():
    now = calendar.timegm((2026, 11, 21, 10, 15, 0, 0, 0, 0))
    assert bk.backup_name("3.7.8", "sqlite", now) == "prefect-3.7.8-20261121T101500Z.db"
    assert bk.backup_name("3.7.8", "postgresql", now) == "prefect-3.7.8-20261121T101500Z.dump"


def test_backups_lists_one_label_oldest_first(tmp_path):
    d = tmp_path / "b"
    newer = old_backup(d, "3.7.8", "20250101T000000Z")
    older = old_backup(d, "3.7.8", "20240101T000000Z")
    old_backup(d, "3.8.8", "20230101T000000Z")
    old_backup(d, "3.7.8", "20230101T000000Z", ext="dump")
    assert bk.backups(str(d), "3.7.8", "sqlite") == [str(older), str(newer)]


# --- SQLite backup

def test_sqlite_backup_is_a_consistent_private_copy(tmp_path):
    p = sqlite_params(tmp_path)
    module = FakeModule(**p, owner=USER, group=GROUP)
    before = time.gmtime()
    res = bk.take(module)
    assert res["changed"] is True and res["removed"] == []
    path = Path(res["path"])
    assert path.parent == tmp_path / "backups"
    match = NAME_RE.match(path.name)
    assert match and match["label"] == "3.7.8" and match["ext"] == "db"
    stamp = time.strptime(match["stamp"], "%Y%m%dT%H%M%SZ")
    assert abs(time.mktime(stamp) - time.mktime(before)) < 5
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert res["size"] == path.stat().st_size > 0
    assert read_rows(path) == read_rows(p["sqlite_path"]) == [("a", 1), ("b", 2), ("c", 3)]
    assert integrity(path) == "ok"
    assert listing(path.parent) == [path.name]  # no .partial left over
    assert ("owner", str(path), USER) in module.ownership
    assert ("group", str(path), GROUP) in module.ownership


def test_dest_dir_is_created_private(tmp_path):
    p = sqlite_params(tmp_path, dest_dir=str(tmp_path / "deep" / "backups"))
    bk.take(FakeModule(**p))
    assert stat.S_IMODE((tmp_path / "deep" / "backups").stat().st_mode) == 0o700


def test_sqlite_backup_of_a_wal_database_has_the_committed_rows(tmp_path):
    db = tmp_path / "data" / "prefect.db"
    db.parent.mkdir()
    make_db(str(db), rows=[("w", 9)], wal=True)
    # a reader holds the database open: the WAL is not checkpointed away
    reader = sqlite3.connect(str(db))
    try:
        reader.execute("SELECT count(*) FROM flow_run").fetchone()
        res = bk.take(FakeModule(**sqlite_params(tmp_path)))
    finally:
        reader.close()
    assert read_rows(res["path"]) == [("w", 9)]


def test_keep_removes_the_oldest_with_the_same_label_only(tmp_path):
    d = tmp_path / "backups"
    oldest = old_backup(d, "3.7.8", "20200101T000000Z")
    older = old_backup(d, "3.7.8", "20210101T000000Z")
    newest_old = old_backup(d, "3.7.8", "20220101T000000Z")
    other = old_backup(d, "3.8.8", "20190101T000000Z")
    dump = old_backup(d, "3.7.8", "20190101T000000Z", ext="dump")
    unrelated = d / "notes.txt"
    unrelated.write_text("keep me")
    res = bk.take(FakeModule(**sqlite_params(tmp_path, keep=2)))
    assert res["removed"] == [str(oldest), str(older)]
    assert listing(d) == sorted([newest_old.name, Path(res["path"]).name, other.name,
                                 dump.name, "notes.txt"])


def test_keep_counts_the_new_backup(tmp_path):
    d = tmp_path / "backups"
    first = old_backup(d, "3.7.8", "20200101T000000Z")
    res = bk.take(FakeModule(**sqlite_params(tmp_path, keep=1)))
    assert res["removed"] == [str(first)]
    assert listing(d) == [Path(res["path"]).name]
    res = bk.take(FakeModule(**sqlite_params(tmp_path, keep=5)))
    assert res["removed"] == []


def test_keep_does_not_touch_a_label_that_extends_this_one(tmp_path):
    d = tmp_path / "backups"
    other = old_backup(d, "pre-upgrade", "20200101T000000Z")
    res = bk.take(FakeModule(**sqlite_params(tmp_path, label="pre", keep=1)))
    assert res["removed"] == []
    assert other.exists()


def test_restore_does_not_pick_a_label_that_extends_this_one(tmp_path):
    d = tmp_path / "backups"
    mine = old_backup(d, "pre", "20250101T000000Z", rows=[("mine", 1)])
    old_backup(d, "pre-upgrade", "20200101T000000Z", rows=[("other", 2)])
    p = sqlite_params(tmp_path, label="pre", state="restored")
    res = bk.restore(FakeModule(**p))
    assert res["path"] == str(mine)
    assert read_rows(p["sqlite_path"]) == [("mine", 1)]


def test_two_backups_in_the_same_second_with_keep_1(tmp_path):
    fixed = time.struct_time((2026, 11, 21, 10, 15, 0, 5, 325, 0))
    with mock.patch.object(bk.time, "gmtime", return_value=fixed):
        first = bk.take(FakeModule(**sqlite_params(tmp_path, keep=1)))
        second = bk.take(FakeModule(**sqlite_params(tmp_path, keep=1)))
    assert second["path"] == first["path"]
    assert Path(second["path"]).exists()
    assert integrity(second["path"]) == "ok"


def test_check_mode_backup_writes_nothing(tmp_path):
    d = tmp_path / "backups"
    oldest = old_backup(d, "3.7.8", "20200101T000000Z")
    old_backup(d, "3.7.8", "20210101T000000Z")
    before = listing(d)
    res = bk.take(FakeModule(check_mode=True, **sqlite_params(tmp_path, keep=2)))
    assert res["changed"] is True and res["size"] == 0
    assert NAME_RE.match(Path(res["path"]).name)
    assert res["removed"] == [str(oldest)]
    assert listing(d) == before


def test_check_mode_does_not_create_dest_dir(tmp_path):
    p = sqlite_params(tmp_path)
    res = bk.take(FakeModule(check_mode=True, **p))
    assert res["removed"] == []
    assert not Path(p["dest_dir"]).exists()


def test_missing_source_fails_clearly(tmp_path):
    p = sqlite_params(tmp_path, sqlite_path=str(tmp_path / "nope.db"))
    with pytest.raises(bk.BackupError) as exc:
        bk.take(FakeModule(**p))
    assert str(exc.value) == f"no SQLite database at {tmp_path / 'nope.db'}"
    assert listing(p["dest_dir"]) == []
    assert not (tmp_path / "nope.db").exists()  # not created by a connect


def test_sqlite_path_with_a_hash(tmp_path):
    db = tmp_path / "data#1" / "prefect.db"
    db.parent.mkdir()
    make_db(str(db))
    p = sqlite_params(tmp_path, sqlite_path=str(db))
    res = bk.take(FakeModule(**p))
    assert read_rows(res["path"]) == [("a", 1), ("b", 2), ("c", 3)]


def test_sqlite_needs_sqlite_path(tmp_path):
    p = sqlite_params(tmp_path, sqlite_path=None)
    with pytest.raises(bk.BackupError, match="needs sqlite_path"):
        bk.take(FakeModule(**p))


def test_failed_sqlite_backup_leaves_no_partial_file(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text("this is not a database " * 100)
    p = sqlite_params(tmp_path, sqlite_path=str(bad))
    with pytest.raises((bk.BackupError, sqlite3.Error)):
        bk.take(FakeModule(**p))
    assert listing(p["dest_dir"]) == []


# --- SQLite restore

def test_restore_copies_the_newest_backup_over_the_database(tmp_path):
    d = tmp_path / "backups"
    old_backup(d, "3.7.8", "20200101T000000Z", rows=[("oldest", 1)])
    newest = old_backup(d, "3.7.8", "20210101T000000Z", rows=[("newest", 2), ("x", 3)])
    old_backup(d, "3.8.8", "20250101T000000Z", rows=[("other label", 4)])
    p = sqlite_params(tmp_path, state="restored")
    wal, shm = Path(p["sqlite_path"] + "-wal"), Path(p["sqlite_path"] + "-shm")
    wal.write_bytes(b"stale wal")
    shm.write_bytes(b"stale shm")
    module = FakeModule(**p, owner=USER, group=GROUP)
    res = bk.restore(module)
    assert res == {"changed": True, "path": str(newest), "size": newest.stat().st_size,
                   "removed": []}
    assert read_rows(p["sqlite_path"]) == [("newest", 2), ("x", 3)]
    assert integrity(p["sqlite_path"]) == "ok"
    assert not wal.exists() and not shm.exists()
    assert ("owner", p["sqlite_path"], USER) in module.ownership
    assert read_rows(newest) == [("newest", 2), ("x", 3)]  # the backup is untouched


def test_restore_without_a_backup_of_the_label_fails(tmp_path):
    d = tmp_path / "backups"
    old_backup(d, "3.8.8", "20250101T000000Z")
    p = sqlite_params(tmp_path, state="restored", label="3.7.8")
    with pytest.raises(bk.BackupError) as exc:
        bk.restore(FakeModule(**p))
    assert str(exc.value) == f"no backup labelled 3.7.8 in {d}: nothing to restore from"
    assert read_rows(p["sqlite_path"]) == [("a", 1), ("b", 2), ("c", 3)]


def test_check_mode_restore_writes_nothing(tmp_path):
    d = tmp_path / "backups"
    newest = old_backup(d, "3.7.8", "20210101T000000Z", rows=[("newest", 2)])
    p = sqlite_params(tmp_path, state="restored")
    wal = Path(p["sqlite_path"] + "-wal")
    wal.write_bytes(b"x")
    before = Path(p["sqlite_path"]).read_bytes()
    res = bk.restore(FakeModule(check_mode=True, **p))
    assert res["path"] == str(newest) and res["changed"] is True
    assert Path(p["sqlite_path"]).read_bytes() == before
    assert wal.exists()


# --- PostgreSQL (fake pg_dump / pg_restore)

def pg_params(tmp_path, **kw):
    params = dict(database="postgresql", host="db.example", port=5433, name="prefect",
                  user="prefect", password=PASSWORD, sslmode="verify-full",
                  ca_file="/etc/ssl/certs/ca-certificates.crt",
                  dest_dir=str(tmp_path / "backups"), label="3.7.8")
    params.update(kw)
    return params


class PgTools:
    """pg_dump writes its --file; pg_restore --list checks it is the partial file."""

    def __init__(self, dump_rc=0, list_rc=0, restore_rc=0):
        self.dump_rc, self.list_rc, self.restore_rc = dump_rc, list_rc, restore_rc
        self.listed = []

    def __call__(self, argv, env):
        tool = Path(argv[0]).name
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
            self.listed.append((path, Path(path).exists(),
                                Path(path[:-len(".partial")]).exists()))
            return (self.list_rc, "; Archive created at ...\n", "") if not self.list_rc else (
                self.list_rc, "", "pg_restore: error: input file does not appear to be a valid archive")
        if tool == "pg_restore":
            return self.restore_rc, "", "" if not self.restore_rc else "pg_restore: error: boom"
        raise AssertionError(argv)


def test_pg_dump_arguments_and_environment(tmp_path):
    tools = PgTools()
    module = FakeModule(commands=tools, **pg_params(tmp_path))
    res = bk.take(module)
    path = Path(res["path"])
    match = NAME_RE.match(path.name)
    assert match and match["ext"] == "dump" and match["label"] == "3.7.8"
    assert path.read_bytes() == b"PGDMP custom dump"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert res["size"] == len(b"PGDMP custom dump")
    (dump_argv, dump_env), (list_argv, list_env) = module.runs
    assert dump_argv == ["/usr/bin/pg_dump", "--no-password", "--format=custom",
                         f"--file={path}.partial"]
    assert list_argv == ["/usr/bin/pg_restore", "--no-password", "--list", f"{path}.partial"]
    # pg_restore --list ran on the partial file, before it was renamed
    assert tools.listed == [(f"{path}.partial", True, False)]
    assert not Path(f"{path}.partial").exists()
    expected_env = {
        "PGHOST": "db.example", "PGPORT": "5433", "PGDATABASE": "prefect", "PGUSER": "prefect",
        "PGSSLMODE": "verify-full", "PGCONNECT_TIMEOUT": "10", "PGPASSWORD": PASSWORD,
        "PGSSLROOTCERT": "/etc/ssl/certs/ca-certificates.crt",
    }
    assert dump_env == expected_env and list_env == expected_env


def test_password_never_in_argv(tmp_path):
    d = tmp_path / "backups"
    old_backup(d, "3.7.8", "20200101T000000Z", ext="dump")
    for state, fn in (("present", bk.take), ("restored", bk.restore)):
        module = FakeModule(commands=PgTools(), **pg_params(tmp_path, state=state))
        fn(module)
        assert module.runs
        for argv, env in module.runs:
            assert "--no-password" in argv
            assert not any("SECRET" in a or "pa:ss" in a for a in argv), argv
            assert env["PGPASSWORD"] == PASSWORD


def test_no_password_means_no_pgpassword(tmp_path):
    module = FakeModule(commands=PgTools(), **pg_params(tmp_path, password=None, ca_file=None))
    bk.take(module)
    for _argv, env in module.runs:
        assert "PGPASSWORD" not in env and "PGSSLROOTCERT" not in env


def test_failing_pg_dump_names_the_connection_not_the_password(tmp_path):
    module = FakeModule(commands=PgTools(dump_rc=1), **pg_params(tmp_path))
    with pytest.raises(bk.BackupError) as exc:
        bk.take(module)
    msg = str(exc.value)
    assert msg.startswith("pg_dump for prefect@db.example:5433/prefect failed (exit 1): ")
    assert "password authentication failed" in msg
    assert PASSWORD not in msg and "SECRET" not in msg
    assert [p for p in listing(tmp_path / "backups") if not p.endswith(".partial")] == []


def test_failing_check_keeps_no_backup_and_removes_nothing(tmp_path):
    d = tmp_path / "backups"
    old = old_backup(d, "3.7.8", "20200101T000000Z", ext="dump")
    module = FakeModule(commands=PgTools(list_rc=1), **pg_params(tmp_path, keep=1))
    with pytest.raises(bk.BackupError) as exc:
        bk.take(module)
    assert "pg_restore for prefect@db.example:5433/prefect failed (exit 1)" in str(exc.value)
    assert old.exists()
    assert [p for p in listing(d) if p.endswith(".dump")] == [old.name]


def test_failing_pg_check_removes_the_partial_dump(tmp_path):
    module = FakeModule(commands=PgTools(list_rc=1), **pg_params(tmp_path))
    with pytest.raises(bk.BackupError):
        bk.take(module)
    assert listing(tmp_path / "backups") == []


def test_missing_pg_dump_says_install_postgresql_client(tmp_path):
    module = FakeModule(commands=PgTools(), bins=(), **pg_params(tmp_path))
    with pytest.raises(bk.BackupError) as exc:
        bk.take(module)
    assert str(exc.value) == "pg_dump not found on this host: install postgresql-client"
    assert module.runs == []


def test_postgresql_needs_host_name_user(tmp_path):
    module = FakeModule(commands=PgTools(), **pg_params(tmp_path, host=None, user=""))
    with pytest.raises(bk.BackupError) as exc:
        bk.take(module)
    assert str(exc.value) == "database=postgresql needs host, user"
    assert module.runs == []


def test_pg_restore_of_the_newest_dump(tmp_path):
    d = tmp_path / "backups"
    old_backup(d, "3.7.8", "20200101T000000Z", ext="dump")
    newest = old_backup(d, "3.7.8", "20210101T000000Z", ext="dump")
    old_backup(d, "3.7.8", "20300101T000000Z", ext="db")  # SQLite, not a candidate
    module = FakeModule(commands=PgTools(), **pg_params(tmp_path, state="restored"))
    res = bk.restore(module)
    assert res["path"] == str(newest)
    ((argv, env),) = module.runs
    assert argv == ["/usr/bin/pg_restore", "--no-password", "--clean", "--if-exists",
                    "--no-owner", "--single-transaction", "--dbname=prefect", str(newest)]
    assert env["PGPASSWORD"] == PASSWORD


def test_pg_check_mode_runs_nothing(tmp_path):
    d = tmp_path / "backups"
    old_backup(d, "3.7.8", "20200101T000000Z", ext="dump")
    for state, fn in (("present", bk.take), ("restored", bk.restore)):
        module = FakeModule(check_mode=True, commands=PgTools(), **pg_params(tmp_path, state=state))
        fn(module)
        assert module.runs == []


# --- main() through AnsibleModule

def run_main(args, capsys, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        bk.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_main_sqlite_backup_then_restore(tmp_path, capsys):
    p = sqlite_params(tmp_path, owner=USER, group=GROUP, keep=1)
    old = old_backup(tmp_path / "backups", "3.7.8", "20200101T000000Z")
    rc, res = run_main(p, capsys)
    assert rc == 0 and res["changed"] is True, res
    assert res["removed"] == [str(old)]
    backup = Path(res["path"])
    assert read_rows(backup) == [("a", 1), ("b", 2), ("c", 3)]
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600

    make_db(p["sqlite_path"], rows=[("changed", 42)])
    rc, res = run_main(dict(p, state="restored"), capsys)
    assert rc == 0 and res["changed"] is True, res
    assert res["path"] == str(backup)
    assert read_rows(p["sqlite_path"]) == [("a", 1), ("b", 2), ("c", 3)]


def test_main_check_mode_writes_nothing(tmp_path, capsys):
    p = sqlite_params(tmp_path)
    rc, res = run_main(p, capsys, check_mode=True)
    assert rc == 0 and res["changed"] is True and res["size"] == 0
    assert not Path(p["dest_dir"]).exists()


def test_main_missing_source_and_missing_backup_fail(tmp_path, capsys):
    p = sqlite_params(tmp_path, sqlite_path=str(tmp_path / "missing.db"))
    rc, res = run_main(p, capsys)
    assert rc == 1 and res["msg"] == f"no SQLite database at {tmp_path / 'missing.db'}"
    rc, res = run_main(dict(sqlite_params(tmp_path), label="9.9.9", state="restored"), capsys)
    assert rc == 1
    assert res["msg"] == f"no backup labelled 9.9.9 in {tmp_path / 'backups'}: nothing to restore from"


def test_main_keep_must_be_positive(tmp_path, capsys):
    rc, res = run_main(sqlite_params(tmp_path, keep=0), capsys)
    assert rc == 1 and res["msg"] == "keep must be 1 or more, got 0"
    assert not (tmp_path / "backups").exists()


def test_main_postgresql_failure_hides_the_password(tmp_path, capsys):
    seen = []

    def run_command(self, args, environ_update=None, **kw):
        seen.append((list(args), dict(environ_update or {})))
        return 2, "", f"pg_dump: error: could not connect (password {PASSWORD} rejected)"

    with (mock.patch.object(bk.AnsibleModule, "get_bin_path", lambda self, t, **kw: f"/x/{t}"),
          mock.patch.object(bk.AnsibleModule, "run_command", run_command)):
        rc, res = run_main(pg_params(tmp_path), capsys)
    assert rc == 1
    assert "prefect@db.example:5433/prefect" in res["msg"]
    assert PASSWORD not in json.dumps(res)  # no_log masks even what the tool echoes
    assert PASSWORD not in " ".join(seen[0][0]) and seen[0][1]["PGPASSWORD"] == PASSWORD


# --- DOCUMENTATION vs the argument spec

def argument_spec():
    """What main() gives AnsibleModule (the spec is inline in main())."""
    return module_kwargs(bk)


DOC = yaml.safe_load(bk.DOCUMENTATION)


def test_documentation_has_required_sections():
    for key in ("module", "short_description", "description", "options", "author"):
        assert DOC.get(key), key
    assert DOC["module"] == "database_backup"
    ret = yaml.safe_load(bk.RETURN)
    assert set(ret) == {"path", "size", "removed"}
    assert NAME_RE.match(Path(ret["path"]["sample"]).name)
    assert isinstance(yaml.safe_load(bk.EXAMPLES), list)


def test_documentation_matches_argument_spec():
    captured = argument_spec()
    assert captured["supports_check_mode"] is True
    spec = captured["argument_spec"]
    options = DOC["options"]
    assert_options_match_spec(options, spec)
    assert spec["password"].get("no_log") is True


def test_examples_use_only_documented_options():
    for task in yaml.safe_load(bk.EXAMPLES):
        args = task["prefect_preset.prefect.database_backup"]
        assert set(args) <= set(DOC["options"]), task["name"]
        assert {n for n, o in DOC["options"].items() if o.get("required")} <= set(args)
