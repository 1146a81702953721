"""plugins/filter/services_to_restart.py: the macOS jobs and Windows services a converge restarts."""

from __future__ import annotations

from module_harness import load_plugin

restart = load_plugin(
    "plugins/filter/services_to_restart.py", "prefect_filter_services_to_restart"
).services_to_restart

CONFIG = "/Library/Prefect/profiles.toml"
SERVER_ENV = "/Library/Prefect/server.env"
CLIENT_ENV = "/Library/Prefect/client.env"
JOBS = [
    {"label": "server", "wanted": True, "restart_on": [CONFIG, SERVER_ENV]},
    {"label": "worker-1", "wanted": True, "restart_on": [CONFIG, CLIENT_ENV, "/w/1.env"]},
    {"label": "worker-2", "wanted": True, "restart_on": [CONFIG, CLIENT_ENV, "/w/2.env"]},
    {"label": "gone", "wanted": False},
]


def test_nothing_written_nothing_restarts() -> None:
    assert restart(JOBS, [], False, "label") == []


def test_a_file_restarts_exactly_the_services_that_read_it() -> None:
    assert restart(JOBS, [SERVER_ENV], False, "label") == ["server"]
    assert restart(JOBS, ["/w/2.env"], False, "label") == ["worker-2"]
    assert restart(JOBS, [CLIENT_ENV], False, "label") == ["worker-1", "worker-2"]


def test_the_shared_configuration_restarts_every_wanted_service_in_order() -> None:
    assert restart(JOBS, [CONFIG], False, "label") == ["server", "worker-1", "worker-2"]


def test_new_software_restarts_every_wanted_service_even_with_no_file_written() -> None:
    assert restart(JOBS, [], True, "label") == ["server", "worker-1", "worker-2"]


def test_a_file_no_service_reads_restarts_nothing() -> None:
    assert restart(JOBS, ["/Library/Prefect/flows/basic.py"], False, "label") == []


def test_a_service_no_longer_wanted_is_never_restarted() -> None:
    assert "gone" not in restart(JOBS, [CONFIG], True, "label")


def test_windows_services_are_named_by_name() -> None:
    services = [{"name": "PrefectServer", "wanted": True, "restart_on": [CONFIG]}]
    assert restart(services, [CONFIG], False) == ["PrefectServer"]
