"""scripts/failure_excerpt.py: the end of a failed test run says why, in a few lines."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "failure_excerpt.py"
spec = importlib.util.spec_from_file_location("failure_excerpt", SCRIPT)
assert spec and spec.loader
failure_excerpt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(failure_excerpt)

# What molecule prints when a converge task fails: colours, its frame, Ansible's lines.
MOLECULE = [
    "\x1b[36mINFO    \x1b[0m \x1b[32mupgrade\x1b[0m ➜ \x1b[33mconverge\x1b[0m: \x1b[36mExecuting\x1b[0m",
    *[f"  \x1b[2m│\x1b[0m TASK [prefect : step {n}]" for n in range(40)],
    "  \x1b[2m│\x1b[0m TASK [prefect : Run the smoke flows]",
    "  \x1b[2m│\x1b[0m   ****************",
    "  \x1b[2m\x1b[31m│\x1b[0m \x1b[0;31mfatal: [upgrade-release]: FAILED! => {\"changed\": false, \"msg\": \"The\x1b[0m",
    "  \x1b[2m\x1b[31m│\x1b[0m \x1b[0;31m  smoke test failed: 503\"}\x1b[0m",
    "  \x1b[2m│\x1b[0m ",
    *[f"  \x1b[2m│\x1b[0m TASK [prefect : after {n}]" for n in range(40)],
    "  \x1b[2m│\x1b[0m PLAY RECAP",
    "\x1b[31mCRITICAL\x1b[0m Ansible return code was 2",
]


def test_a_failed_task_is_shown_with_its_name_and_without_colours_or_frame():
    out = failure_excerpt.excerpt(MOLECULE, limit=80)
    assert "TASK [prefect : Run the smoke flows]" in out
    # the whole message, to the blank line that ends it
    assert 'fatal: [upgrade-release]: FAILED! => {"changed": false, "msg": "The' in out
    assert '  smoke test failed: 503"}' in out
    assert "TASK [prefect : after 5]" not in out
    assert "CRITICAL Ansible return code was 2" in out
    assert not any("\x1b" in line or "│" in line for line in out)
    # the steps far before the failure are left out, and the gap is marked
    assert "TASK [prefect : step 0]" not in out
    assert "..." in out


def test_a_failed_test_keeps_its_assertion():
    log = ["....F.", "_____ test_restore_drill _____", "", "    def test_restore_drill(host):",
           ">       assert runs == before", "E       assert 3 == 4", "", "tests/test_upgrade.py:12: AssertionError",
           *["filler"] * 50, "FAILED tests/test_upgrade.py::test_restore_drill - assert 3 == 4"]
    out = failure_excerpt.excerpt(log, limit=80)
    assert "E       assert 3 == 4" in out and "_____ test_restore_drill _____" in out
    assert out[-1] == "FAILED tests/test_upgrade.py::test_restore_drill - assert 3 == 4"


def test_the_first_failures_are_kept_when_there_are_too_many():
    log = [f"E   failure {n}" for n in range(500)]
    out = failure_excerpt.excerpt(log, limit=20)
    assert len(out) == 20
    assert out[0] == "E   failure 0" and out[-1].startswith("... (")


def test_long_lines_are_cut():
    [line] = failure_excerpt.excerpt(["E   " + "x" * 5000], limit=10)
    assert len(line) < 500 and line.endswith("[cut]")


def test_without_a_marker_the_end_of_the_log_is_shown():
    out = failure_excerpt.excerpt([f"line {n}" for n in range(100)], limit=5)
    assert out == [f"line {n}" for n in range(95, 100)]


def test_a_missing_log_is_said_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert failure_excerpt.main([str(tmp_path / "none.log")]) == 0
    assert "no log to excerpt" in capsys.readouterr().out
