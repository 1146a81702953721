"""plugins/filter/env_value.py: values that sh and prefect-launch read back exactly (systemd
reads the same syntax; molecule's postgresql scenario proves it with such a password)."""

from __future__ import annotations

import subprocess

import pytest

from module_harness import load_plugin

_filter = load_plugin("plugins/filter/env_value.py", "prefect_filter_env_value")
env_value = _filter.env_value
launcher = load_plugin("roles/prefect/files/prefect-launch.py", "prefect_launch_for_env")

NASTY = [
    "plain",
    "it's",
    'say "hi"',
    "back\\slash\\",
    "$HOME and ${PATH} and $(id)",
    "`id`",
    "100% #not-a-comment",
    "  spaces around  ",
    "ünïcödé ✓",
    "'\"\\$`%#  ",
    "",
]


@pytest.mark.parametrize("value", NASTY)
def test_sh_reads_the_value_back_exactly(tmp_path, value: str) -> None:
    env = tmp_path / "x.env"
    env.write_text(f"SECRET={env_value(value, 'SECRET')}\n", encoding="utf-8")
    out = subprocess.run(["/bin/sh", "-c", 'set -a; . "$0"; printf %s "$SECRET"', str(env)],
                         capture_output=True, text=True, check=True).stdout
    assert out == value


@pytest.mark.parametrize("value", NASTY)
def test_the_launcher_reads_the_value_back_exactly(value: str) -> None:
    assert launcher.parse_env(f"SECRET={env_value(value)}\n") == {"SECRET": value}


@pytest.mark.parametrize("bad", ["two\nlines", "carriage\rreturn", "nul\0byte"])
def test_line_breaks_and_nul_are_refused_naming_the_variable_not_the_value(bad: str) -> None:
    with pytest.raises(_filter.EnvValueError, match="PREFECT_API_AUTH_STRING holds a line break or NUL") as error:
        env_value(bad, "PREFECT_API_AUTH_STRING")
    assert bad not in str(error.value)


def test_numbers_and_booleans_are_written_as_text() -> None:
    assert env_value(5) == '"5"'
    assert env_value(True) == '"true"'


def test_the_launcher_refuses_broken_quoting() -> None:
    with pytest.raises(launcher.EnvFileError, match="not closed"):
        launcher.parse_env('A="open\n')
    with pytest.raises(launcher.EnvFileError, match="text after"):
        launcher.parse_env('A="closed" trailing\n')
