"""Static validation of `with:` values: one test per error kind, exact messages."""

from __future__ import annotations

from typing import Any

import pytest

from preset.manifest import Manifest
from preset.validate import validate_with
from preset.yamlio import TaggedScalar


def messages(manifest: Manifest, given: dict[str, Any]) -> list[str]:
    return [str(p) for p in validate_with(manifest.parameters, given)]


def test_valid_values_and_boundaries_pass(demo_manifest: Manifest) -> None:
    given = {
        "state": "absent",
        "port": 65535,
        "enabled": False,
        "home": "/srv/x",
        "label": "abc",
        "tags": ["a", "b"],
        "extra": {"k": 1},
        "pools": [{"name": "p-1", "size": 0}, {"name": "q"}],
    }
    assert messages(demo_manifest, given) == []
    assert messages(demo_manifest, {"port": 1}) == []


def test_nothing_given_is_valid(demo_manifest: Manifest) -> None:
    assert messages(demo_manifest, {}) == []


def test_unknown_parameter_suggests_and_lists_accepted(demo_manifest: Manifest) -> None:
    [message] = messages(demo_manifest, {"prot": 1})
    assert message == (
        "prot: unknown parameter; did you mean 'port'? accepted: state, port, enabled, home, "
        "label, token, tags, extra, pools"
    )


def test_unknown_parameter_without_close_match(demo_manifest: Manifest) -> None:
    [message] = messages(demo_manifest, {"zzzzzz": 1})
    assert message.startswith("zzzzzz: unknown parameter; accepted: state,")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"port": 70000}, "port: expected int from 1 to 65535, got 70000"),
        ({"port": 0}, "port: expected int from 1 to 65535, got 0"),
        ({"port": "80"}, "port: expected int from 1 to 65535, got str '80'"),
        ({"port": True}, "port: expected int from 1 to 65535, got bool true"),
        ({"enabled": "yes"}, "enabled: expected bool, got str 'yes'"),
        ({"enabled": 1}, "enabled: expected bool, got int 1"),
        ({"state": "gone"}, "state: expected one of 'present', 'absent', got 'gone'"),
        ({"label": "ABC"}, "label: expected str matching '[a-z]+', got 'ABC'"),
        ({"label": "abc1"}, "label: expected str matching '[a-z]+', got 'abc1'"),
        (
            {"label": 12},
            "label: expected str matching '[a-z]+', got int 12 (quote it to pass a string)",
        ),
        ({"home": None}, "home: expected path, got null"),
        ({"tags": "a,b"}, "tags: expected list of str, got str 'a,b'"),
        ({"tags": ["a", 5]}, "tags[1]: expected str, got int 5 (quote it to pass a string)"),
        ({"extra": ["x"]}, "extra: expected dict, got list [x]"),
    ],
)
def test_each_error_kind(demo_manifest: Manifest, given: dict[str, Any], expected: str) -> None:
    assert messages(demo_manifest, given) == [expected]


def test_pattern_must_match_in_full(demo_manifest: Manifest) -> None:
    assert messages(demo_manifest, {"label": "abc-"}) != []


def test_list_of_dict_options(demo_manifest: Manifest) -> None:
    given = {"pools": [{"name": "Bad Name", "sise": 2}, {"size": -1}, "pool"]}
    assert messages(demo_manifest, given) == [
        "pools[0].name: expected str matching '[a-z][a-z0-9-]*', got 'Bad Name'",
        "pools[0].sise: unknown option; did you mean 'size'? accepted: name, size",
        "pools[1].size: expected int >= 0, got -1",
        "pools[1].name: required option missing",
        "pools[2]: expected dict with options name, size, got str 'pool'",
    ]


def test_all_errors_are_reported(demo_manifest: Manifest) -> None:
    given = {"port": 0, "state": "x", "enabled": "no", "nope": 1}
    assert len(messages(demo_manifest, given)) == 4


def test_secret_values_are_never_echoed(demo_manifest: Manifest) -> None:
    [message] = messages(demo_manifest, {"token": "hunter2-lower"})
    assert "hunter2" not in message
    assert message == "token: expected str matching '[A-Z0-9]*', got str (value hidden: secret)"


@pytest.mark.parametrize(
    "value",
    ["{{ my_port }}", "{% if x %}1{% endif %}", TaggedScalar("!vault", "$ANSIBLE_VAULT;1.1")],
)
def test_templated_values_are_left_to_the_role(demo_manifest: Manifest, value: Any) -> None:
    given = {"port": value, "enabled": value, "pools": [{"name": value, "size": value}]}
    assert messages(demo_manifest, given) == []


def test_real_manifest_example_message(prefect_manifest: Manifest) -> None:
    problems = validate_with(prefect_manifest.parameters, {"server_port": 70000})
    assert [str(p) for p in problems] == ["server_port: expected int from 1 to 65535, got 70000"]


def test_null_is_accepted_where_the_default_is_null() -> None:
    from preset.manifest import Parameter

    days = Parameter(name="days", type="int", default=None, has_default=True, min=1)
    assert validate_with([days], {"days": None}) == []
    assert [str(p) for p in validate_with([days], {"days": 0})] == ["days: expected int >= 1, got 0"]
