"""What `preset run` says before and after Ansible: the plan, and a line per host."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT
from local_play import run_local_playbook
from preset import ansible_env
from preset.manifest import Manifest
from preset.report import announcement, host_lines
from preset.runner import RunOptions


def test_announcement_local(demo_manifest: Manifest) -> None:
    line = announcement([demo_manifest], Path("/x/site.yml"), RunOptions())
    assert line == "preset: running demo 1.0.0 from site.yml on localhost (local connection)"


def test_announcement_inventory_limit_check(demo_manifest: Manifest) -> None:
    options = RunOptions(inventory="inv.ini", limit="web1", check=True, diff=True)
    line = announcement([demo_manifest], Path("site.yml"), options)
    assert line == (
        "preset: running demo 1.0.0 from site.yml on the hosts of inv.ini, limited to web1; "
        "check mode, nothing is changed; showing differences"
    )


def test_host_lines_from_the_callback(tmp_path: Path) -> None:
    summary = tmp_path / "s.json"
    summary.write_text(
        json.dumps(
            {
                "hosts": {
                    "web2": {
                        "ok": 3,
                        "changed": 0,
                        "failures": 1,
                        "unreachable": 0,
                        "seconds": 4.04,
                    },
                    "web1": {
                        "ok": 9,
                        "changed": 2,
                        "failures": 0,
                        "unreachable": 0,
                        "seconds": 12.3,
                    },
                    "db": {"ok": 0, "changed": 0, "failures": 0, "unreachable": 1, "seconds": 1},
                    "lb": {"ok": 5, "changed": 0, "failures": 0, "unreachable": 0, "seconds": 2},
                }
            }
        )
    )
    assert host_lines(summary) == [
        "preset: db: unreachable (ok=0 changed=0 failed=0 unreachable=1) in 1.0 s",
        "preset: lb: ok (ok=5 changed=0 failed=0 unreachable=0) in 2.0 s",
        "preset: web1: changed (ok=9 changed=2 failed=0 unreachable=0) in 12.3 s",
        "preset: web2: failed (ok=3 changed=0 failed=1 unreachable=0) in 4.0 s",
    ]


def test_no_summary_file_no_lines(tmp_path: Path) -> None:
    assert host_lines(tmp_path / "missing.json") == []


def test_callback_writes_the_summary_during_a_real_run(tmp_path: Path) -> None:
    """ansible-playbook loads the callback from the staged path with no other setting."""
    play = tmp_path / "p.yml"
    play.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.debug: {msg: hi}\n"
        "    - ansible.builtin.command: 'true'\n"
    )
    with ansible_env.staged([], {}) as staged:
        result = run_local_playbook(play, env=staged.env, cwd=ROOT)
        assert result.returncode == 0, result.stdout + result.stderr
        [line] = host_lines(staged.summary_file)
    assert line.startswith("preset: localhost: changed (ok=2 changed=1 failed=0 unreachable=0) in ")
