"""What the backup tests share (tests/unit/module_utils/test_backup.py, the core, and
tests/unit/modules/test_database_backup.py, the module): Prefect-like SQLite databases
with an Alembic revision, backups taken earlier with their manifests, and readers."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from ansible_collections.prefect_preset.prefect.plugins.module_utils import backup

REVISION = "3c2ba1d7e1f9"
ROWS = [("a", 1), ("b", 2), ("c", 3)]
PASSWORD = "pa:ss@w/rd%SECRET"
Rows = Sequence[tuple[str, int]]
Runs = list[tuple[list[str], dict[str, str]]]


def make_db(path: Path, rows: Rows = ROWS, revision: str | None = REVISION, wal: bool = False,
            padding: int = 0) -> Path:
    """A Prefect-like SQLite database: flow_run rows and, unless None, an Alembic revision."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        if wal:
            con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE IF NOT EXISTS flow_run (name TEXT PRIMARY KEY, n INTEGER)")
        con.execute("DELETE FROM flow_run")
        con.executemany("INSERT INTO flow_run VALUES (?, ?)", rows)
        if padding:  # a database bigger than a page or two
            con.execute("CREATE TABLE IF NOT EXISTS log (line TEXT)")
            con.executemany("INSERT INTO log VALUES (?)", [("x" * 1000,)] * padding)
        if revision is not None:
            con.execute("CREATE TABLE IF NOT EXISTS alembic_version "
                        "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
            con.execute("DELETE FROM alembic_version")
            con.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
        con.commit()
    finally:
        con.close()
    return path


def _read_only(path: str | Path) -> sqlite3.Connection:
    return sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True)


def read_rows(path: str | Path) -> list[tuple[str, int]]:
    con = _read_only(path)
    try:
        return con.execute("SELECT name, n FROM flow_run ORDER BY name").fetchall()
    finally:
        con.close()


def integrity(path: str | Path) -> str:
    con = _read_only(path)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def listing(directory: str | Path) -> list[str]:
    d = Path(directory)
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def old_backup(dest_dir: Path, label: str, stamp: str, ext: str = "db", rows: Rows = (("old", 0),),
               manifest: bool = True) -> Path:
    """A backup taken earlier; manifest=False: one of release 0.2.0, which wrote none."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / f"prefect-{label}-{stamp}.{ext}"
    if ext == "db":
        make_db(path, rows)
    else:
        path.write_bytes(b"PGDMP old dump")
    if manifest:
        backup.write_manifest(str(path), "sqlite" if ext == "db" else "postgresql", label,
                              REVISION, "scheduled", "earlier")
    return path
