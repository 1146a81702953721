"""plugins/filter/secret_values.py: the generated secrets a host needs, from where they were read."""

from __future__ import annotations

import base64
from typing import Any

from module_harness import load_plugin

plugin = load_plugin("plugins/filter/secret_values.py", "prefect_filter_secret_values")
values = plugin.secret_values

AUTH = {"name": "auth", "file": "/etc/prefect/secrets/auth", "home": "api-1", "prefix": "admin:"}
PG = {"name": "postgresql", "file": "/etc/prefect/secrets/pg", "home": "db-1", "prefix": ""}


def read(*secrets: tuple[str, str]) -> dict[str, Any]:
    """Registered slurp results: one per (name, content); content None: not read."""
    return {"results": [
        {"item": {"name": name}, **({"content": base64.b64encode(content.encode()).decode()} if content else {})}
        for name, content in secrets
    ]}


NONE: dict[str, Any] = {}


def test_the_home_host_uses_what_it_read_itself_without_the_line_break() -> None:
    out = values([AUTH], "api-1", read(("auth", "admin:s3cret\n")), NONE, {}, ["api-1"])
    assert out == {"found": {"auth": "admin:s3cret"}, "missing": []}


def test_another_host_of_the_play_uses_what_the_home_host_read() -> None:
    hostvars = {"api-1": {"__prefect_secrets_kept": read(("auth", "admin:x"))}, "w-1": {}}
    out = values([AUTH], "w-1", NONE, NONE, hostvars, ["api-1", "w-1"])
    assert out["found"] == {"auth": "admin:x"}


def test_a_home_outside_the_play_is_read_over_its_connection() -> None:
    out = values([AUTH, PG], "w-1", NONE, read(("auth", "admin:y"), ("postgresql", "pw")), {"w-1": {}}, ["w-1"])
    assert out == {"found": {"auth": "admin:y", "postgresql": "pw"}, "missing": []}


def test_a_secret_not_read_is_empty_and_named_with_its_home() -> None:
    out = values([AUTH, PG], "w-1", NONE, read(("auth", "admin:y"), ("postgresql", None)), {}, ["w-1"])
    assert out == {"found": {"auth": "admin:y", "postgresql": ""}, "missing": ["postgresql (kept on db-1)"]}


def test_a_home_in_the_play_that_read_nothing_leaves_the_secret_missing() -> None:
    out = values([PG], "api-1", NONE, NONE, {"db-1": {}}, ["api-1", "db-1"])
    assert out["missing"] == ["postgresql (kept on db-1)"]


def test_check_mode_predicts_a_secret_the_first_run_will_generate() -> None:
    out = values([AUTH], "api-1", {"results": [{"item": {"name": "auth"}, "skipped": True}]}, NONE, {}, ["api-1"],
                 check_mode=True)
    assert out == {"found": {"auth": plugin.PREDICTED}, "missing": []}


def test_another_secrets_read_is_not_taken_for_this_one() -> None:
    out = values([PG], "db-1", read(("auth", "admin:z")), NONE, {}, ["db-1"])
    assert out["found"] == {"postgresql": ""}


def test_no_shared_secrets_no_values() -> None:
    assert values([], "h", NONE, NONE, {}, ["h"]) == {"found": {}, "missing": []}
