"""plugins/filter/python_choice.py: the Python that builds the virtualenvs, or why none can."""

from __future__ import annotations

from module_harness import load_plugin

choice = load_plugin("plugins/filter/python_choice.py", "prefect_filter_python_choice").python_choice

DEBIAN_12 = [{"path": "/usr/bin/python3", "version": "3.11", "packages": ["python3", "python3-venv"],
              "origin": "Debian 12's python3"}]
DEBIAN_11 = [{"path": "/usr/bin/python3", "version": "3.9", "packages": ["python3", "python3-venv"],
              "origin": "Debian 11's python3"}]
EL9 = [
    {"path": "/usr/bin/python3.12", "version": "3.12", "packages": ["python3.12", "python3.12-pip"],
     "origin": "EL9's python3.12"},
    {"path": "/usr/bin/python3.11", "version": "3.11", "packages": ["python3.11", "python3.11-pip"],
     "origin": "EL9's python3.11"},
    {"path": "/usr/bin/python3", "version": "3.9", "packages": ["python3"], "origin": "EL9's python3"},
]
UBUNTU_2204 = [
    {"path": "/usr/bin/python3", "version": "3.10", "packages": ["python3", "python3-venv"]},
    {"path": "/usr/bin/python3.11", "version": "3.11", "packages": ["python3.11", "python3.11-venv"]},
]
P391 = "<3.16,>=3.11"
TESTED = {"3.7.8": "<3.15,>=3.10", "3.8.8": "<3.15,>=3.10", "3.9.1": P391}


def test_the_hosts_own_python_when_it_fits() -> None:
    got = choice(DEBIAN_12, {"/usr/bin/python3": "3.11"}, P391, None, "h", "3.9.1", TESTED)
    assert got["ok"] and got["path"] == "/usr/bin/python3" and got["version"] == "3.11"
    # Its packages are still wanted (python3-venv may be missing): the install adds only missing ones.
    assert got["packages"] == ["python3", "python3-venv"]
    assert "already on the host" in got["reason"]


def test_el9_gets_appstreams_python_3_12_when_nothing_on_the_host_fits() -> None:
    found = {"/usr/bin/python3.12": "", "/usr/bin/python3.11": "", "/usr/bin/python3": "3.9"}
    got = choice(EL9, found, P391, None, "el9", "3.9.1", TESTED)
    assert got["ok"] and got["path"] == "/usr/bin/python3.12"
    assert got["packages"] == ["python3.12", "python3.12-pip"]
    assert "installed from the OS packages python3.12, python3.12-pip" in got["reason"]


def test_a_fitting_python_already_there_wins_over_installing_a_newer_one() -> None:
    found = {"/usr/bin/python3.12": "", "/usr/bin/python3.11": "3.11", "/usr/bin/python3": "3.9"}
    assert choice(EL9, found, P391, None, "el9", "3.9.1", TESTED)["path"] == "/usr/bin/python3.11"


def test_ubuntu_22_04_keeps_its_python3_for_3_8_and_adds_3_11_for_3_9() -> None:
    found = {"/usr/bin/python3": "3.10", "/usr/bin/python3.11": ""}
    assert choice(UBUNTU_2204, found, "<3.15,>=3.10", None, "u", "3.8.8", TESTED)["path"] == "/usr/bin/python3"
    got = choice(UBUNTU_2204, found, P391, None, "u", "3.9.1", TESTED)
    assert got["path"] == "/usr/bin/python3.11" and got["packages"] == ["python3.11", "python3.11-venv"]


def test_debian_11_is_refused_naming_what_it_has_what_is_needed_and_how_to_provide_it() -> None:
    got = choice(DEBIAN_11, {"/usr/bin/python3": "3.9"}, P391, None, "bullseye", "3.9.1", TESTED)
    assert not got["ok"] and got["path"] == ""
    message = got["error"]
    assert "Prefect 3.9.1 needs Python <3.16,>=3.11" in message
    assert "/usr/bin/python3 (3.9) on bullseye" in message
    assert "system_python" in message and "Nothing was changed." in message
    assert "Tested releases" not in message  # none of them runs on 3.9


def test_a_refusal_names_the_tested_releases_that_would_run() -> None:
    got = choice(UBUNTU_2204[:1], {"/usr/bin/python3": "3.10"}, P391, None, "u", "3.9.1", TESTED)
    assert "Tested releases that run on the Python it has: 3.7.8, 3.8.8." in got["error"]


def test_system_python_is_the_only_one_tried() -> None:
    found = {"/usr/bin/python3": "3.11", "/opt/py/bin/python3": "3.12"}
    got = choice(DEBIAN_12, found, P391, "/opt/py/bin/python3", "h", "3.9.1", TESTED)
    assert got["path"] == "/opt/py/bin/python3" and got["packages"] == []
    assert got["reason"].startswith("system_python /opt/py/bin/python3")


def test_a_system_python_that_does_not_exist_is_refused() -> None:
    got = choice(DEBIAN_12, {"/usr/bin/python3": "3.11", "/nope/python3": ""}, "<3.15,>=3.10",
                 "/nope/python3", "h", "3.8.8", TESTED)
    assert not got["ok"]
    assert "system_python /nope/python3 does not exist or does not run on h" in got["error"]
    assert "Prefect 3.8.8 needs Python <3.15,>=3.10" in got["error"]


def test_a_system_python_too_old_is_refused_with_its_version() -> None:
    got = choice(DEBIAN_12, {"/usr/bin/python3.9": "3.9"}, P391, "/usr/bin/python3.9", "h", "3.9.1", TESTED)
    assert "system_python /usr/bin/python3.9 on h is Python 3.9" in got["error"]


def test_a_python_newer_than_the_release_allows_does_not_fit() -> None:
    future = [{"path": "/usr/bin/python3", "version": "3.16", "packages": ["python3"]}]
    got = choice(future, {"/usr/bin/python3": "3.16"}, P391, None, "h", "3.9.1", TESTED)
    assert not got["ok"] and "/usr/bin/python3 (3.16)" in got["error"]
