"""plugins/filter/upgrade_space.py: room for an upgrade's backup and migration, in numbers."""

from __future__ import annotations

from module_harness import load_plugin

us = load_plugin("plugins/filter/upgrade_space.py", "prefect_filter_upgrade_space")
MIB = 1 << 20
NEEDS = [
    {"path": "/var/lib/prefect/backups", "what": "the backup", "factor": 1.0},
    {"path": "/var/lib/prefect", "what": "the migration", "factor": 1.0},
]


def same_disk(free: int) -> dict:
    one = {"free": free, "device": 7, "measured": "/var/lib/prefect"}
    return {"/var/lib/prefect": one, "/var/lib/prefect/backups": one}


def test_needs_on_one_file_system_add_up() -> None:
    got = us.upgrade_space(NEEDS, 200 * MIB, same_disk(1000 * MIB), "Upgrading")
    assert got["ok"] and got["error"] == ""
    assert got["devices"] == [{"path": "/var/lib/prefect/backups", "needed": 464 * MIB, "free": 1000 * MIB}]


def test_too_little_room_is_refused_with_the_numbers() -> None:
    got = us.upgrade_space(NEEDS, 200 * MIB, same_disk(300 * MIB),
                           "Upgrading from Prefect 3.8.8 to 3.9.1")
    assert not got["ok"]
    assert got["error"] == (
        "Upgrading from Prefect 3.8.8 to 3.9.1 needs 464 MiB free on the file system of "
        "/var/lib/prefect/backups (the backup: 200 MiB; the migration: 200 MiB; and 64 MiB to "
        "spare), and it has 300 MiB free. The database is 200 MiB."
    )


def test_separate_file_systems_are_checked_each() -> None:
    space = {
        "/var/lib/prefect": {"free": 1000 * MIB, "device": 1, "measured": "/var/lib/prefect"},
        "/var/lib/prefect/backups": {"free": 100 * MIB, "device": 2, "measured": "/var/lib/prefect/backups"},
    }
    got = us.upgrade_space(NEEDS, 200 * MIB, space)
    assert not got["ok"]
    assert "file system of /var/lib/prefect/backups (the backup: 200 MiB;" in got["error"]
    assert "the migration" not in got["error"]


def test_no_backup_needs_only_the_migrations_room() -> None:
    got = us.upgrade_space(NEEDS[1:], 200 * MIB, same_disk(300 * MIB))
    assert got["ok"]


def test_small_databases_are_said_in_kib() -> None:
    got = us.upgrade_space(NEEDS, 300 * 1024, same_disk(10 * 1024))
    assert "(the backup: 300 KiB; the migration: 300 KiB;" in got["error"]
