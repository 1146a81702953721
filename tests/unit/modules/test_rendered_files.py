"""plugins/action/rendered_files.py: templates rendered on the controller exactly as
ansible.builtin.template writes them, and the files that differ from the host."""

from __future__ import annotations

import hashlib
import json
import tempfile
import textwrap
from pathlib import Path

import pytest

from local_play import run_local_playbook
from module_harness import ROOT, load_plugin
from preset.ansible_env import link_collections
from preset.manifest import load_manifest

action = load_plugin("plugins/action/rendered_files.py", "prefect_action_rendered_files")

FILES = [
    {"src": "a.j2", "dest": "/etc/a", "mode": "0644"},
    {"src": "b.j2", "dest": "/etc/b", "mode": "0640", "group": "redis", "secret": True},
]
CHECKSUMS = {"/etc/a": "1" * 40, "/etc/b": "2" * 40}
AS_WANTED = {
    "/etc/a": {"checksum": "1" * 40, "mode": "0644", "owner": "root", "group": "root"},
    "/etc/b": {"checksum": "2" * 40, "mode": "0640", "owner": "root", "group": "redis"},
}


def test_files_as_wanted_are_not_stale() -> None:
    assert action.stale_files(FILES, CHECKSUMS, AS_WANTED) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [("checksum", "3" * 40), ("mode", "0600"), ("owner", "prefect"), ("group", "root")],
)
def test_a_file_differing_in_content_mode_owner_or_group_is_stale(key: str, value: str) -> None:
    host = {**AS_WANTED, "/etc/b": {**AS_WANTED["/etc/b"], key: value}}
    assert action.stale_files(FILES, CHECKSUMS, host) == ["/etc/b"]


def test_files_the_host_lacks_are_stale_in_the_order_given() -> None:
    assert action.stale_files(FILES, CHECKSUMS, {}) == ["/etc/a", "/etc/b"]
    assert action.stale_files(FILES, CHECKSUMS, {"/etc/a": {"exists": False}}) == [
        "/etc/a",
        "/etc/b",
    ]


def test_the_owner_is_the_one_asked_for() -> None:
    host = {dest: {**have, "owner": "prefect"} for dest, have in AS_WANTED.items()}
    assert action.stale_files(FILES, CHECKSUMS, host, owner="prefect") == []


def test_entries_without_src_dest_or_mode_are_named() -> None:
    bad = [{"src": "a.j2", "dest": "/etc/a"}, "x", {"dest": "/etc/c", "src": "", "mode": "0644"}]
    assert action.missing_keys(bad) == [
        "files[0] (/etc/a) lacks mode",
        "files[1] is a str, not a dict",
        "files[2] (/etc/c) lacks src",
    ]
    assert action.missing_keys(FILES) == []


@pytest.mark.ansible
def test_checksums_are_those_of_the_files_the_template_module_writes(tmp_path: Path) -> None:
    """The comparison is only right if both render alike: ansible_managed, the
    play's variables, a file's own template_vars, trailing newlines."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "conf.j2").write_text(
        textwrap.dedent("""\
        {{ ansible_managed | comment }}
        name = "{{ service_name }}"
        {% for key, value in env_vars | dictsort %}
        {{ key }}={{ value }}
        {% endfor %}

        """)
    )
    out = tmp_path / "out"
    play = tmp_path / "play.yml"
    play.write_text(
        json.dumps(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {"service_name": "prefect-server", "out": str(out)},
                    "tasks": [
                        {
                            "name": "make the directory",
                            "ansible.builtin.file": {"path": str(out), "state": "directory"},
                        },
                    ]
                    + [
                        {
                            "name": f"write {name}",
                            "ansible.builtin.template": {"src": "conf.j2", "dest": f"{out}/{name}"},
                            "vars": {"env_vars": env},
                        }
                        for name, env in (("one", {"A": "1"}), ("two", {"B": "x y", "C": "'q'"}))
                    ]
                    + [
                        {
                            "name": "render",
                            "register": "rendered",
                            "prefect_preset.prefect.rendered_files": {
                                "files": [
                                    {
                                        "src": "conf.j2",
                                        "dest": f"{out}/one",
                                        "mode": "0644",
                                        "template_vars": {"env_vars": {"A": "1"}},
                                    },
                                    {
                                        "src": "conf.j2",
                                        "dest": f"{out}/two",
                                        "mode": "0644",
                                        "template_vars": {"env_vars": {"B": "x y", "C": "'q'"}},
                                    },
                                ]
                            },
                        },
                        {
                            "name": "show",
                            "ansible.builtin.copy": {
                                "content": "{{ rendered | to_json }}",
                                "dest": f"{tmp_path}/result.json",
                            },
                        },
                    ],
                }
            ]
        )
    )
    with tempfile.TemporaryDirectory(prefix="collections-") as scratch:
        collections = link_collections([load_manifest(ROOT / "preset.yaml")], Path(scratch))
        run = run_local_playbook(
            play, env={"ANSIBLE_COLLECTIONS_PATH": str(collections)}, cwd=tmp_path
        )
    assert run.returncode == 0, run.stdout + run.stderr
    rendered = json.loads((tmp_path / "result.json").read_text())
    written = {
        str(path): hashlib.sha1(path.read_bytes()).hexdigest()
        for path in (out / "one", out / "two")
    }
    assert rendered["checksums"] == written
    assert rendered["stale"] == [str(out / "one"), str(out / "two")]  # no host_files given
    assert rendered["changed"] is False
