"""The role itself, driven by ansible-playbook on localhost with no facts:
the example playbooks translate into valid Ansible, and bad values given
straight to the role (no preset tool in between) fail in argument
validation or preflight, before any task that changes something."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from local_play import run_local_playbook
from preset.ansible_env import link_collections
from preset.cli import main
from preset.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[3]
# The benchmark's playbooks are preset playbooks too.
EXAMPLES = sorted((ROOT / "examples").glob("*.yml")) + sorted((ROOT / "bench").glob("*.yml"))

pytestmark = pytest.mark.ansible


def _ansible_playbook(playbook: Path, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="collections-") as scratch:
        collections = link_collections([load_manifest(ROOT / "preset.yaml")], Path(scratch))
        return run_local_playbook(
            playbook,
            *args,
            env={
                "ANSIBLE_COLLECTIONS_PATH": str(collections),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
            },
        )


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{p.parent.name}/{p.name}" for p in EXAMPLES])
def test_example_translates_to_valid_ansible(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--print", str(example)]) == 0
    translated = tmp_path / example.name
    translated.write_text(capsys.readouterr().out)
    result = _ansible_playbook(translated, "--syntax-check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_collection_example_is_valid_ansible() -> None:
    """examples/collection/site.yml, the plain-Ansible way in, names the role by FQCN."""
    result = _ansible_playbook(ROOT / "examples" / "collection" / "site.yml", "--syntax-check")
    assert result.returncode == 0, result.stdout + result.stderr


def _role_play(tmp_path: Path, **role_vars: object) -> Path:
    play = [
        {
            "hosts": "all",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Apply the role",
                    "ansible.builtin.include_role": {"name": "prefect_preset.prefect.prefect"},
                    "vars": role_vars,
                }
            ],
        }
    ]
    path = tmp_path / "play.yml"
    path.write_text(json.dumps(play))
    return path


def _failed_task(result: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    """The name and message of the task that failed, from the json callback."""
    report = json.loads(result.stdout)
    for play in report["plays"]:
        for task in play["tasks"]:
            outcome = task["hosts"].get("localhost", {})
            if outcome.get("failed"):
                return task["task"]["name"], outcome.get("msg", "")
    raise AssertionError(f"no task failed:\n{result.stdout}")


@pytest.mark.parametrize(
    ("role_vars", "stage", "message"),
    [
        ({"prefect_server_port": "http"}, "argument spec", "prefect_server_port"),
        ({"prefect_state": "gone"}, "argument spec", "prefect_state"),
        (
            {"prefect_server_port": 70000},
            "Check parameter patterns and ranges",
            "prefect_server_port: 70000 is above the maximum 65535",
        ),
        (
            {"prefect_version": "latest"},
            "Check that the preset can run Prefect latest",
            "version 'latest' is not a Prefect release number",
        ),
        (
            {"prefect_work_pools": [{"name": "bad name"}]},
            "Check parameter patterns and ranges",
            "prefect_work_pools[0].name",
        ),
    ],
)
def test_bad_values_given_to_the_role_fail_before_any_change(
    tmp_path: Path, role_vars: dict[str, object], stage: str, message: str
) -> None:
    result = _ansible_playbook(_role_play(tmp_path, **role_vars), "--check")
    assert result.returncode != 0
    assert json.loads(result.stdout)["stats"]["localhost"]["changed"] == 0
    name, msg = _failed_task(result)
    if stage == "argument spec":
        assert "argument" in name.lower() or "argument" in msg.lower(), (name, msg)
    else:
        assert name.endswith(stage), name
    assert message in msg
