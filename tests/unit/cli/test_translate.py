"""Translation of both playbook forms into plain Ansible plays."""

from __future__ import annotations

import copy
import shutil
from typing import Any

import pytest

from preset.errors import PlaybookError, PresetNotFoundError, ValidationError
from preset.manifest import Manifest
from preset.translate import playbook_form, translate

DEBUG = {"name": "Say hi", "ansible.builtin.debug": {"msg": "hi"}, "when": "x is defined"}


class Resolver:
    """Resolves `demo` only and counts lookups."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.calls: list[str] = []

    def __call__(self, name: str) -> Manifest:
        self.calls.append(name)
        if name != self.manifest.name:
            raise PresetNotFoundError(f"unknown preset {name!r}; presets found: demo")
        return self.manifest


def run(data: Any, manifest: Manifest) -> list[dict[str, Any]]:
    return translate(data, "site.yml", Resolver(manifest)).plays


def test_only_preset_steps_gather_minimal_facts(demo_manifest: Manifest) -> None:
    [play] = run([{"preset": "demo"}], demo_manifest)
    assert play["gather_subset"] == ["min"]


def test_steps_form_becomes_one_play(demo_manifest: Manifest) -> None:
    [play] = run([{"preset": "demo"}, copy.deepcopy(DEBUG)], demo_manifest)
    assert play == {
        "name": "preset: site.yml",
        "hosts": "all",
        "become": True,
        "gather_facts": True,
        "tasks": [
            {
                "name": "preset demo",
                "ansible.builtin.include_role": {"name": str(demo_manifest.role)},
            },
            DEBUG,
        ],
    }


def test_role_path_is_absolute_and_only_given_params_are_passed(demo_manifest: Manifest) -> None:
    [play] = run(
        [{"preset": "demo", "with": {"port": 8080, "pools": [{"name": "a"}]}}], demo_manifest
    )
    task = play["tasks"][0]
    assert task["ansible.builtin.include_role"]["name"] == str(demo_manifest.role)
    assert demo_manifest.role.is_absolute()
    assert task["vars"] == {"demo_port": 8080, "demo_pools": [{"name": "a"}]}


def test_task_keywords_are_copied_and_tags_applied_inside(demo_manifest: Manifest) -> None:
    step = {
        "name": "Install demo",
        "preset": "demo",
        "with": {"state": "absent"},
        "when": "ok",
        "tags": ["demo"],
        "become": False,
        "ignore_errors": True,
    }
    [play] = run([step], demo_manifest)
    assert play["tasks"][0] == {
        "name": "Install demo",
        "ansible.builtin.include_role": {
            "name": str(demo_manifest.role),
            "apply": {"tags": ["demo"]},
        },
        "vars": {"demo_state": "absent"},
        "when": "ok",
        "tags": ["demo"],
        "become": False,
        "ignore_errors": True,
    }


def test_play_form_translates_nested_blocks_and_keeps_the_rest(demo_manifest: Manifest) -> None:
    step = {"preset": "demo", "with": {"port": 81}}
    plays = [
        {"import_playbook": "other.yml"},
        {
            "name": "P",
            "hosts": "web",
            "roles": ["common"],
            "vars": {"a": 1},
            "pre_tasks": [step],
            "tasks": [
                DEBUG,
                {
                    "block": [DEBUG, {"block": [step]}],
                    "rescue": [step],
                    "always": [step],
                    "when": "y",
                },
            ],
            "post_tasks": [step],
            "handlers": [dict(step, name="restart demo", listen="restart")],
        },
    ]
    original = copy.deepcopy(plays)
    out = run(plays, demo_manifest)
    assert plays == original, "the input must not be modified"
    assert out[0] == {"import_playbook": "other.yml"}
    play = out[1]
    assert {k: play[k] for k in ("name", "hosts", "roles", "vars")} == {
        "name": "P",
        "hosts": "web",
        "roles": ["common"],
        "vars": {"a": 1},
    }
    block = play["tasks"][1]
    translated = [
        play["pre_tasks"][0],
        block["block"][1]["block"][0],
        block["rescue"][0],
        block["always"][0],
        play["post_tasks"][0],
        play["handlers"][0],
    ]
    for task in translated:
        assert task["ansible.builtin.include_role"]["name"] == str(demo_manifest.role)
        assert task["vars"] == {"demo_port": 81}
    assert play["handlers"][0]["name"] == "restart demo"
    assert play["handlers"][0]["listen"] == "restart"
    assert play["tasks"][0] == DEBUG and block["block"][0] == DEBUG and block["when"] == "y"


def test_each_preset_is_resolved_once(demo_manifest: Manifest) -> None:
    resolver = Resolver(demo_manifest)
    translation = translate([{"preset": "demo"}, {"preset": "demo"}], "site.yml", resolver)
    assert resolver.calls == ["demo"]
    assert translation.manifests == (demo_manifest,)


@pytest.mark.parametrize(
    ("data", "form"),
    [
        ([{"preset": "x"}, {"debug": None}], "steps"),
        ([{"hosts": "all"}, {"ansible.builtin.import_playbook": "x.yml"}], "plays"),
    ],
)
def test_playbook_form(data: Any, form: str) -> None:
    assert playbook_form(data, "site.yml") == form


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            [{"hosts": "all"}, {"preset": "demo"}, {"import_playbook": "x"}],
            "site.yml: mixes plays (items 1, 3 have hosts or import_playbook) with steps (items 2)",
        ),
        ([], "site.yml: expected a non-empty list of steps or plays"),
        (None, "site.yml: expected a non-empty list of steps or plays"),
        ({"preset": "demo"}, "site.yml: expected a non-empty list of steps or plays"),
        ([{"preset": "demo"}, "oops"], "site.yml: item 2: expected a mapping, got str"),
    ],
)
def test_bad_playbook_shapes(data: Any, message: str) -> None:
    with pytest.raises(PlaybookError) as info:
        playbook_form(data, "site.yml")
    assert str(info.value).startswith(message)


def test_step_errors_name_file_step_and_parameter(demo_manifest: Manifest) -> None:
    data = [
        {"preset": "demo", "with": {"port": 70000}},
        {"name": "second", "preset": "demo", "vars": {"a": 1}, "with": ["port"]},
        {"preset": "nginx"},
        {"preset": None},
    ]
    with pytest.raises(ValidationError) as info:
        run(data, demo_manifest)
    assert list(info.value.messages) == [
        "site.yml: step 1 (preset demo): port: expected int from 1 to 65535, got 70000",
        "site.yml: step 2 (second): vars: not allowed on a preset step; give parameters under 'with:'",
        "site.yml: step 2 (second): with: expected a mapping of parameters, got list",
        "site.yml: step 3 (preset nginx): unknown preset 'nginx'; presets found: demo",
        "site.yml: step 4 (preset None): preset: expected a preset name, got null",
    ]


def test_play_form_error_locations(demo_manifest: Manifest) -> None:
    data = [{"hosts": "all", "tasks": [DEBUG, {"block": [{"preset": "demo", "with": {"x": 1}}]}]}]
    with pytest.raises(ValidationError) as info:
        run(data, demo_manifest)
    [message] = info.value.messages
    assert message.startswith("site.yml: play 1, tasks step 2, block step 1 (preset demo): x: ")


def test_missing_role_directory_is_reported(demo_manifest: Manifest) -> None:
    shutil.rmtree(demo_manifest.role)
    with pytest.raises(ValidationError, match=r"role directory .* not found"):
        run([{"preset": "demo"}], demo_manifest)
