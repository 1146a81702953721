"""The command line: run (--print and argv), show, exit codes, error format."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from preset import runner
from preset.cli import main
from preset.errors import AnsibleNotFoundError
from preset.manifest import Manifest
from preset.runner import RunOptions, build_argv, find_ansible_playbook


class FakeCall:
    """Stands in for runner.call: records argv and the staged playbook's content."""

    def __init__(self, code: int = 0) -> None:
        self.code = code
        self.argv: list[str] = []
        self.env: dict[str, str] = {}
        self.staged: dict[str, Any] = {}

    def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> int:
        self.argv = list(argv)
        self.env = dict(env)
        staged = Path(argv[-1])
        self.staged = {"path": staged, "plays": yaml.safe_load(staged.read_text())}
        return self.code


@pytest.fixture
def fake_call(monkeypatch: pytest.MonkeyPatch) -> FakeCall:
    fake = FakeCall()
    monkeypatch.setattr(runner, "call", fake)
    monkeypatch.setattr(runner, "find_ansible_playbook", lambda: "/x/ansible-playbook")
    return fake


@pytest.fixture
def book(tmp_path: Path, demo_preset_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PRESET_PATH", str(demo_preset_dir))
    path = tmp_path / "site.yml"
    path.write_text("- preset: demo\n  with:\n    port: 8080\n- ansible.builtin.ping:\n")
    return path


def test_print_dumps_translated_yaml(
    book: Path, demo_manifest: Manifest, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--print", str(book)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("---\n")
    [play] = yaml.safe_load(out)
    assert play["tasks"][0]["ansible.builtin.include_role"] == {"name": str(demo_manifest.role)}
    assert play["tasks"][0]["vars"] == {"demo_port": 8080}
    assert play["tasks"][1] == {"ansible.builtin.ping": None}


def test_bad_parameter_exits_2_and_never_runs_ansible(
    book: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(argv: Sequence[str], env: Mapping[str, str]) -> int:
        raise AssertionError("ansible-playbook must not run")

    monkeypatch.setattr(runner, "call", explode)
    book.write_text("- preset: demo\n  with:\n    port: 70000\n    enabled: 'yes'\n")
    assert main(["run", str(book)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"preset: error: {book}: step 1 (preset demo): port: expected int from 1 to 65535, "
        "got 70000",
        f"preset: error: {book}: step 1 (preset demo): enabled: expected bool, got str 'yes'",
    ]
    assert list(book.parent.glob(".site.preset-*")) == []


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "cannot read"),
        ("- [unclosed\n", "invalid YAML"),
        ("- preset: nginx\n", "unknown preset 'nginx'; presets found: demo"),
    ],
)
def test_playbook_problems_exit_2(
    book: Path,
    fake_call: FakeCall,
    content: str | None,
    error: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if content is None:
        book.unlink()
    else:
        book.write_text(content)
    assert main(["run", str(book)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("preset: error: ") and error in err
    assert fake_call.argv == []


def test_run_stages_hidden_playbook_next_to_source_and_removes_it(
    book: Path, fake_call: FakeCall
) -> None:
    assert main(["run", str(book)]) == 0
    staged = fake_call.staged["path"]
    assert staged.parent == book.parent
    assert staged.name.startswith(".site.preset-") and staged.suffix == ".yml"
    assert fake_call.staged["plays"][0]["tasks"][0]["vars"] == {"demo_port": 8080}
    assert not staged.exists()


def test_run_falls_back_to_temp_dir_when_playbook_dir_is_not_writable(
    book: Path,
    fake_call: FakeCall,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real = tempfile.mkstemp

    def mkstemp(prefix: str, suffix: str, dir: str | None = None) -> tuple[int, str]:
        if dir is not None:
            raise PermissionError("read-only")
        return real(prefix=prefix, suffix=suffix)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    assert main(["run", str(book)]) == 0
    assert fake_call.staged["path"].parent == Path(tempfile.gettempdir())
    assert not fake_call.staged["path"].exists()
    assert "is not writable" in capsys.readouterr().err


def test_default_argv_targets_localhost(book: Path, fake_call: FakeCall) -> None:
    main(["run", str(book)])
    assert fake_call.argv[:5] == ["/x/ansible-playbook", "-i", "localhost,", "-c", "local"]
    assert len(fake_call.argv) == 6
    # The controller's Python as a configuration default, not an extra var, so
    # that a task's own ansible_python_interpreter still wins.
    assert runner.INTERPRETER_ENV in fake_call.env
    assert not any("ansible_python_interpreter" in arg for arg in fake_call.argv)


def test_local_python_reads_the_shebang(tmp_path: Path) -> None:
    direct = tmp_path / "direct"
    direct.write_text(f"#!{sys.executable}\nprint()\n")
    assert runner.local_python(str(direct)) == sys.executable
    via_env = tmp_path / "via-env"
    via_env.write_text("#!/usr/bin/env python3\n")
    assert runner.local_python(str(via_env)) == shutil.which("python3")
    assert runner.local_python(str(tmp_path / "missing"), executable="/fallback") == "/fallback"


def test_flags_pass_through(
    book: Path, fake_call: FakeCall, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "run",
            str(book),
            "-i",
            "hosts.ini",
            "--check",
            "--diff",
            "--limit",
            "web",
            "-t",
            "demo",
            "--skip-tags",
            "slow",
            "-e",
            "a=1",
            "-e",
            "@vars.yml",
            "-vv",
        ]
    )
    assert code == 0
    assert fake_call.argv[:-1] == [
        "/x/ansible-playbook",
        "-i",
        "hosts.ini",
        "--check",
        "--diff",
        "--limit",
        "web",
        "--tags",
        "demo",
        "--skip-tags",
        "slow",
        "-e",
        "a=1",
        "-e",
        "@vars.yml",
        "-vv",
    ]
    err = capsys.readouterr().err
    assert "/x/ansible-playbook -i hosts.ini --check" in err
    assert "ANSIBLE_COLLECTIONS_PATH=" in err


def test_ansible_exit_code_is_returned(book: Path, fake_call: FakeCall) -> None:
    fake_call.code = 4
    assert main(["run", str(book)]) == 4


def test_build_argv_without_options() -> None:
    argv = build_argv("ap", Path("/p.yml"), RunOptions(inventory="inv"))
    assert argv == ["ap", "-i", "inv", "/p.yml"]


def test_find_ansible_playbook_prefers_the_interpreters_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sibling = tmp_path / "ansible-playbook"
    sibling.write_text("#!/bin/sh\n")
    sibling.chmod(sibling.stat().st_mode | stat.S_IXUSR)
    assert find_ansible_playbook(str(tmp_path / "python")) == str(sibling)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_ansible_playbook(str(tmp_path / "elsewhere" / "python")) == str(sibling)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(AnsibleNotFoundError, match="ansible-playbook not found"):
        find_ansible_playbook(str(tmp_path / "elsewhere" / "python"))


def test_show_lists_every_parameter(
    prefect_manifest: Manifest, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", "prefect"]) == 0
    out = capsys.readouterr().out
    names = [line.split()[0] for line in out.splitlines()[1:]]
    expected = [p.name for p in prefect_manifest.parameters]
    assert [n for n in names if "[]" not in n and "." not in n] == expected
    assert "groups.server" in names
    assert "work_pools[].name (required)" in out
    assert "secret_settings (secret)" in out
    assert "1..65535" in out and "present, absent" in out


def test_show_markdown(prefect_manifest: Manifest, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "prefect", "--format", "markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| Parameter | Type | Default | Choices | Description |"
    for param in prefect_manifest.parameters:
        assert any(line.startswith(f"| `{param.name}`") for line in lines), param.name
    assert all(line.count(" | ") == 4 for line in lines[2:])


def test_show_unknown_preset_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "nginx"]) == 2
    assert capsys.readouterr().err.startswith("preset: error: unknown preset 'nginx'")


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["run"])
    assert info.value.code == 2


@pytest.mark.ansible
def test_translated_playbook_passes_ansible_syntax_check(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = shutil.which("ansible-playbook") or find_ansible_playbook()
    book.write_text(
        "- hosts: all\n  tasks:\n    - block:\n        - preset: demo\n"
        "          tags: [demo]\n          with: {port: 81}\n"
    )
    assert main(["run", "--print", str(book)]) == 0
    staged = book.with_name("translated.yml")
    staged.write_text(capsys.readouterr().out)
    result = subprocess.run(
        [program, "--syntax-check", "-i", "localhost,", str(staged)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_print_keeps_vault_and_unsafe_tags_unchecked(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book.write_text(
        "- preset: demo\n  with:\n    token: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n"
        "      3131\n    port: !unsafe '{{ x }}'\n"
    )
    assert main(["run", "--print", str(book)]) == 0
    out = capsys.readouterr().out
    assert "demo_token: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n          3131\n" in out
    assert "demo_port: !unsafe '{{ x }}'" in out
