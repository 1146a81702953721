"""plugins/modules/database_backup.py through AnsibleModule.

main() runs with its arguments (module_harness.patch_module_args) on real
SQLite files in tmp_path; for PostgreSQL, AnsibleModule.run_command and
get_bin_path are patched with fake pg tools. The backup logic itself is
tested in tests/unit/module_utils/test_backup.py; here: what the module adds
(labels, restore by path or label, legacy backups, check mode, ownership,
failures as failed=True) and its documentation.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from ansible_collections.prefect_preset.prefect.plugins.module_utils import backup

from backup_fixtures import PASSWORD, REVISION, ROWS, Runs, listing, make_db, old_backup, read_rows
from module_harness import load_plugin, patch_module_args

bk = load_plugin("plugins/modules/database_backup.py", "prefect_database_backup")

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
LABEL = "3.9.1"
NAME_RE = re.compile(r"^prefect-(?P<label>.+)-(?P<stamp>\d{8}T\d{6}Z)\.(?P<ext>db|dump)$")


# --- helpers

def sqlite_params(tmp_path: Path, **kw: Any) -> dict[str, Any]:
    db = tmp_path / "data" / "prefect.db"
    if not db.exists():
        make_db(db)
    return {"database": "sqlite", "sqlite_path": str(db), "dest_dir": str(tmp_path / "backups"),
            "label": LABEL, **kw}


def pg_params(tmp_path: Path, **kw: Any) -> dict[str, Any]:
    return {"database": "postgresql", "host": "db.example", "port": 5433, "name": "prefect",
            "user": "prefect", "password": PASSWORD, "sslmode": "verify-full",
            "ca_file": "/etc/ssl/certs/ca.pem", "dest_dir": str(tmp_path / "backups"),
            "label": LABEL, **kw}


def run_main(args: dict[str, Any], capsys: pytest.CaptureFixture[str],
             check_mode: bool = False) -> dict[str, Any]:
    if check_mode:
        args = {**args, "_ansible_check_mode": True}
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        bk.main()
    res: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert exc.value.code == (1 if res.get("failed") else 0), res
    return res


@pytest.fixture
def ownership(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str | None]]:
    """What the module hands to the server's user and group."""
    calls: list[tuple[str, str, str | None]] = []

    def recorder(kind: str) -> Any:
        def record(self: Any, path: str, name: str | None, changed: bool, *a: Any, **k: Any) -> bool:
            calls.append((kind, path, name))
            return changed
        return record

    monkeypatch.setattr(bk.AnsibleModule, "set_owner_if_different", recorder("owner"))
    monkeypatch.setattr(bk.AnsibleModule, "set_group_if_different", recorder("group"))
    return calls


class PgTools:
    """Fake run_command: psql answers the revision, pg_dump writes its --file,
    pg_restore succeeds (or everything fails with `fail`); argv and environment recorded."""

    def __init__(self, fail: tuple[int, str, str] | None = None) -> None:
        self.fail = fail
        self.runs: Runs = []

    def __call__(self, args: list[str], environ_update: dict[str, str] | None = None,
                 **kw: Any) -> tuple[int, str, str]:
        self.runs.append((list(args), dict(environ_update or {})))
        if self.fail:
            return self.fail
        tool = Path(args[0]).name
        if tool == "psql":
            return 0, f"{REVISION}\n", ""
        if tool == "pg_dump":
            (target,) = [a.split("=", 1)[1] for a in args if a.startswith("--file=")]
            Path(target).write_bytes(b"PGDMP custom dump")
        return 0, "", ""


@pytest.fixture
def pg_tools() -> Iterator[PgTools]:
    tools = PgTools()
    with (mock.patch.object(bk.AnsibleModule, "get_bin_path",
                            lambda self, tool, *a, **k: f"/usr/bin/{tool}"),
          mock.patch.object(bk.AnsibleModule, "run_command",
                            lambda self, args, *a, **k: tools(args, *a, **k))):
        yield tools


# --- SQLite: backup, then restore by label

def test_backup_then_restore_by_label(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      ownership: list[tuple[str, str, str | None]]) -> None:
    p = sqlite_params(tmp_path, owner=USER, group=GROUP, keep=1, trigger="upgrade")
    old = old_backup(tmp_path / "backups", LABEL, "20200101T000000Z")
    res = run_main(p, capsys)
    path = Path(res["path"])
    assert {k: res[k] for k in ("changed", "path", "size", "removed", "revision")} == {
        "changed": True, "path": str(path), "size": path.stat().st_size, "removed": [str(old)],
        "revision": REVISION}
    match = NAME_RE.match(path.name)
    assert match and match["label"] == LABEL and match["ext"] == "db"
    assert read_rows(path) == ROWS
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert listing(path.parent) == [path.name, path.name + ".json"]
    manifest = backup.read_manifest(str(path), "sqlite")
    assert manifest["trigger"] == "upgrade" and manifest["prefect_version"] == LABEL
    for owned in (str(path), str(path) + ".json"):
        assert ("owner", owned, USER) in ownership and ("group", owned, GROUP) in ownership

    make_db(Path(p["sqlite_path"]), rows=[("changed", 42)])
    ownership.clear()
    res = run_main({**p, "state": "restored"}, capsys)
    assert res["changed"] is True and res["path"] == str(path) and res["removed"] == []
    assert res["manifest"] == manifest and res["revision"] == REVISION
    assert read_rows(p["sqlite_path"]) == ROWS
    assert ("owner", p["sqlite_path"], USER) in ownership
    assert ("group", p["sqlite_path"], GROUP) in ownership


def test_a_dest_dir_the_module_creates_is_private_and_owned(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        ownership: list[tuple[str, str, str | None]]) -> None:
    p = sqlite_params(tmp_path, dest_dir=str(tmp_path / "deep" / "backups"), owner=USER)
    run_main(p, capsys)
    assert stat.S_IMODE((tmp_path / "deep" / "backups").stat().st_mode) == 0o700
    assert ("owner", p["dest_dir"], USER) in ownership


def test_restore_by_label_takes_the_newest_backup_of_the_label(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "backups"
    old_backup(d, LABEL, "20200101T000000Z", rows=[("oldest", 1)])
    newest = old_backup(d, LABEL, "20210101T000000Z", rows=[("newest", 2)])
    old_backup(d, "3.8.8", "20250101T000000Z", rows=[("other label", 3)])
    old_backup(d, "3.9.10", "20250101T000000Z", rows=[("longer label", 4)])
    old_backup(d, LABEL, "20250101T000000Z", ext="dump")  # PostgreSQL, not a candidate
    p = sqlite_params(tmp_path, state="restored")
    res = run_main(p, capsys)
    assert res["path"] == str(newest) and res["size"] == newest.stat().st_size
    assert read_rows(p["sqlite_path"]) == [("newest", 2)]
    assert read_rows(newest) == [("newest", 2)]  # the backup is untouched


def test_restore_by_label_does_not_pick_a_label_that_extends_this_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "backups"
    mine = old_backup(d, "pre", "20200101T000000Z", rows=[("mine", 1)])
    old_backup(d, "pre-upgrade", "20250101T000000Z", rows=[("other", 2)])
    p = sqlite_params(tmp_path, label="pre", state="restored")
    assert run_main(p, capsys)["path"] == str(mine)
    assert read_rows(p["sqlite_path"]) == [("mine", 1)]


def test_a_legacy_backup_without_manifest_is_restored_by_label(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    legacy = old_backup(tmp_path / "backups", LABEL, "20200101T000000Z", rows=[("legacy", 1)],
                        manifest=False)
    p = sqlite_params(tmp_path, state="restored")
    res = run_main(p, capsys)
    assert res["changed"] is True and res["path"] == str(legacy)
    assert res["manifest"] == {} and res["revision"] == ""
    assert read_rows(p["sqlite_path"]) == [("legacy", 1)]


def test_restore_by_label_refuses_a_newest_backup_that_does_not_match_its_manifest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    newest = old_backup(tmp_path / "backups", LABEL, "20200101T000000Z", rows=[("x", 1)])
    with newest.open("ab") as handle:
        handle.write(b"appended")
    p = sqlite_params(tmp_path, state="restored")
    res = run_main(p, capsys)
    assert res["failed"] is True and res["msg"].startswith(f"{newest} does not match its manifest")
    assert read_rows(p["sqlite_path"]) == ROWS


# --- restore by path

def test_restore_by_path_restores_that_backup(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "backups"
    chosen = old_backup(d, LABEL, "20200101T000000Z", rows=[("chosen", 1)])
    old_backup(d, LABEL, "20210101T000000Z", rows=[("newer", 2)])
    p = sqlite_params(tmp_path, state="restored", path=str(chosen))
    res = run_main(p, capsys)
    assert res["path"] == str(chosen)
    assert res["manifest"] == backup.read_manifest(str(chosen), "sqlite")
    assert res["manifest"]["preset"] == "prefect_preset.prefect"
    assert read_rows(p["sqlite_path"]) == [("chosen", 1)]


def _no_manifest(path: Path) -> None:
    Path(backup.manifest_path(str(path))).unlink()


def _wrong_checksum(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _other_database(path: Path) -> None:
    manifest_file = Path(backup.manifest_path(str(path)))
    manifest_file.write_text(json.dumps({**json.loads(manifest_file.read_text()),
                                         "database": "postgresql"}))


REFUSALS = {
    "no manifest": (_no_manifest, "is not a backup of this preset: it has no manifest"),
    "wrong checksum": (_wrong_checksum, "does not match its manifest"),
    "other database": (_other_database, "is a backup of postgresql; the server uses sqlite"),
    "missing file": (lambda path: path.unlink(), "does not exist"),
}


@pytest.mark.parametrize("check_mode", [False, True], ids=["apply", "check mode"])
@pytest.mark.parametrize("refusal", REFUSALS)
def test_restore_by_path_refuses_a_file_that_does_not_match(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], refusal: str, check_mode: bool) -> None:
    chosen = old_backup(tmp_path / "backups", LABEL, "20200101T000000Z", rows=[("chosen", 1)])
    damage, message = REFUSALS[refusal]
    damage(chosen)
    p = sqlite_params(tmp_path, state="restored", path=str(chosen))
    before = Path(p["sqlite_path"]).read_bytes()
    res = run_main(p, capsys, check_mode=check_mode)
    assert res["failed"] is True
    assert res["msg"].startswith(str(chosen)) and message in res["msg"]
    assert Path(p["sqlite_path"]).read_bytes() == before


# --- check mode

def test_check_mode_backup_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "backups"
    oldest = old_backup(d, LABEL, "20200101T000000Z")
    old_backup(d, LABEL, "20210101T000000Z")
    before = listing(d)
    res = run_main(sqlite_params(tmp_path, keep=2), capsys, check_mode=True)
    assert res["changed"] is True and res["size"] == 0 and res["revision"] == ""
    assert Path(res["path"]).parent == d and NAME_RE.match(Path(res["path"]).name)
    assert res["removed"] == [str(oldest)]  # what keep would delete
    assert listing(d) == before


def test_check_mode_backup_does_not_create_dest_dir(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    p = sqlite_params(tmp_path)
    res = run_main(p, capsys, check_mode=True)
    assert res["changed"] is True and res["removed"] == []
    assert not Path(p["dest_dir"]).exists()


@pytest.mark.parametrize("by", ["label", "path"])
def test_check_mode_restore_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           by: str) -> None:
    newest = old_backup(tmp_path / "backups", LABEL, "20210101T000000Z", rows=[("newest", 2)])
    p = sqlite_params(tmp_path, state="restored", **({"path": str(newest)} if by == "path" else {}))
    wal = Path(p["sqlite_path"] + "-wal")
    wal.write_bytes(b"x")
    before = Path(p["sqlite_path"]).read_bytes()
    res = run_main(p, capsys, check_mode=True)
    assert res["changed"] is True and res["path"] == str(newest)
    assert res["manifest"]["sha256"] == backup.sha256(str(newest))
    assert Path(p["sqlite_path"]).read_bytes() == before and wal.exists()


# --- failures

def test_missing_source_and_missing_backup_fail(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    res = run_main(sqlite_params(tmp_path, sqlite_path=str(tmp_path / "missing.db")), capsys)
    assert res["failed"] is True and res["msg"] == f"no SQLite database at {tmp_path / 'missing.db'}"
    assert not (tmp_path / "backups").exists() and not (tmp_path / "missing.db").exists()
    res = run_main(sqlite_params(tmp_path, sqlite_path=None), capsys)
    assert res["msg"] == "database=sqlite needs sqlite_path"
    old_backup(tmp_path / "backups", "3.8.8", "20250101T000000Z")
    res = run_main(sqlite_params(tmp_path, label="9.9.9", state="restored"), capsys)
    assert res["failed"] is True
    assert res["msg"] == f"no backup labelled 9.9.9 in {tmp_path / 'backups'}: nothing to restore from"
    assert read_rows(tmp_path / "data" / "prefect.db") == ROWS


@pytest.mark.parametrize("check_mode", [False, True], ids=["apply", "check mode"])
@pytest.mark.parametrize("keep", [0, -2])
def test_keep_must_be_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str], keep: int,
                               check_mode: bool) -> None:
    res = run_main(sqlite_params(tmp_path, keep=keep), capsys, check_mode=check_mode)
    assert res["failed"] is True and res["msg"] == f"keep must be 1 or more, got {keep}"
    assert not (tmp_path / "backups").exists()


# --- PostgreSQL, with fake pg tools behind run_command

def test_postgresql_backup_and_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       pg_tools: PgTools,
                                       ownership: list[tuple[str, str, str | None]]) -> None:
    res = run_main(pg_params(tmp_path, owner=USER), capsys)
    path = Path(res["path"])
    match = NAME_RE.match(path.name)
    assert match and match["ext"] == "dump" and res["revision"] == REVISION
    assert path.read_bytes() == b"PGDMP custom dump"
    assert backup.read_manifest(str(path), "postgresql")["source"] == "prefect@db.example:5433/prefect"
    assert ("owner", str(path), USER) in ownership
    assert [Path(argv[0]).name for argv, _env in pg_tools.runs] == ["psql", "pg_dump", "pg_restore"]
    pg_tools.runs.clear()
    res = run_main(pg_params(tmp_path, state="restored", path=str(path)), capsys)
    assert res["changed"] is True and res["manifest"]["database"] == "postgresql"
    ((argv, env),) = pg_tools.runs
    assert argv == ["/usr/bin/pg_restore", "--no-password", "--clean", "--if-exists", "--no-owner",
                    "--single-transaction", "--dbname=prefect", str(path)]
    assert env["PGPASSWORD"] == PASSWORD and env["PGSSLROOTCERT"] == "/etc/ssl/certs/ca.pem"


def test_postgresql_restore_of_the_newest_legacy_dump_by_label(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_tools: PgTools) -> None:
    d = tmp_path / "backups"
    old_backup(d, LABEL, "20200101T000000Z", ext="dump", manifest=False)
    newest = old_backup(d, LABEL, "20210101T000000Z", ext="dump", manifest=False)
    old_backup(d, LABEL, "20300101T000000Z")  # SQLite, not a candidate
    res = run_main(pg_params(tmp_path, state="restored"), capsys)
    assert res["path"] == str(newest) and res["manifest"] == {}
    ((argv, env),) = pg_tools.runs
    assert argv[-1] == str(newest) and "--clean" in argv
    assert not any(PASSWORD in a for a in argv) and env["PGPASSWORD"] == PASSWORD


def test_postgresql_check_mode_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            pg_tools: PgTools) -> None:
    dump = old_backup(tmp_path / "backups", LABEL, "20200101T000000Z", ext="dump")
    for state in ("present", "restored"):
        run_main(pg_params(tmp_path, state=state), capsys, check_mode=True)
    # preflight checks a chosen backup with no connection at all
    res = run_main({"database": "postgresql", "dest_dir": str(tmp_path / "backups"), "label": LABEL,
                    "path": str(dump), "state": "restored"}, capsys, check_mode=True)
    assert res["manifest"]["sha256"] == backup.sha256(str(dump))
    assert pg_tools.runs == []
    assert listing(tmp_path / "backups") == [dump.name, dump.name + ".json"]


def test_postgresql_needs_host_name_user(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         pg_tools: PgTools) -> None:
    res = run_main(pg_params(tmp_path, host=None, user=""), capsys)
    assert res["failed"] is True and res["msg"] == "database=postgresql needs host, user"
    assert pg_tools.runs == []


def test_postgresql_failure_hides_the_password(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               pg_tools: PgTools) -> None:
    pg_tools.fail = (2, "", f"psql: error: could not connect (password {PASSWORD} rejected)")
    res = run_main(pg_params(tmp_path), capsys)
    assert res["failed"] is True
    assert res["msg"].startswith("psql for prefect@db.example:5433/prefect failed (exit 2): ")
    assert PASSWORD not in json.dumps(res)  # no_log masks even what a tool echoes
    (argv, env), = pg_tools.runs
    assert PASSWORD not in " ".join(argv) and env["PGPASSWORD"] == PASSWORD
    assert listing(tmp_path / "backups") == []


# --- RETURN's sample (test_documentation.py checks the rest)

def test_the_documented_path_is_named_as_backups_are() -> None:
    ret = yaml.safe_load(bk.RETURN)
    assert NAME_RE.match(Path(ret["path"]["sample"]).name)

