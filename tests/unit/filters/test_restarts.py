"""plugins/filter/restarts.py: which units a converge restarts, starts, drains or removes."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from module_harness import ROOT, load_plugin

restarts = load_plugin("plugins/filter/restarts.py", "prefect_filter_restarts").restarts

CONFIG = "/etc/prefect/profiles.toml"
SERVER_ENV = "/etc/prefect/server.env"
CLIENT_ENV = "/etc/prefect/prefect.env"
UNITS = "/etc/systemd/system"
TRIGGERS = {
    "server": [CONFIG, SERVER_ENV, f"{UNITS}/prefect-server.service"],
    "services": [CONFIG, SERVER_ENV, f"{UNITS}/prefect-services.service"],
    "workers": [CONFIG, CLIENT_ENV, f"{UNITS}/prefect-worker@.service"],
    "redis": ["/etc/prefect/redis.conf", f"{UNITS}/redis-server.service.d/prefect.conf"],
    "haproxy": [f"{UNITS}/haproxy.service.d/prefect.conf"],
    "haproxy_reload": ["/etc/haproxy/haproxy.cfg", "/etc/haproxy/prefect.pem"],
    "backup_timer": [f"{UNITS}/prefect-backup.timer"],
}
UNIT_FILES = [f"{UNITS}/prefect-server.service", f"{UNITS}/prefect-worker@.service",
              f"{UNITS}/prefect-backup.timer", f"{UNITS}/haproxy.service.d/prefect.conf"]
INSTANCES = [
    {"unit": "prefect-worker@default-1.service", "dest": "/etc/prefect/workers/default-1.env"},
    {"unit": "prefect-worker@etl-1.service", "dest": "/etc/prefect/workers/etl-1.env"},
]
WANTED = [i["unit"] for i in INSTANCES]
RUNNING = {u: {"active": "active", "enabled": "enabled"} for u in WANTED}


def plan(stale: list[str], units: dict[str, Any] | None = None, present: list[str] | None = None,
         running: list[str] | None = None, **flags: bool) -> dict[str, Any]:
    units = RUNNING if units is None else units
    present = list(units) if present is None else present
    running = [u for u, s in units.items() if s.get("active") == "active"] if running is None else running
    return restarts(stale, TRIGGERS, UNIT_FILES, INSTANCES, units, present, running, **flags)


def test_nothing_stale_restarts_nothing_and_starts_nothing() -> None:
    result = plan([])
    assert not any(result[s] for s in ("server", "services", "workers", "redis", "haproxy",
                                       "haproxy_reload", "backup_timer", "units_changed"))
    assert result["restart_units"] == result["start_units"] == result["unwanted_units"] == []
    assert result["drained_units"] == []


def test_the_shared_configuration_restarts_server_services_and_drains_every_running_worker() -> None:
    result = plan([CONFIG])
    assert result["server"] and result["services"] and result["workers"]
    assert result["restart_units"] == WANTED
    assert result["drained_units"] == WANTED
    assert not result["units_changed"]


def test_the_server_environment_restarts_the_server_but_not_the_workers() -> None:
    result = plan([SERVER_ENV])
    assert result["server"] and result["services"]
    assert not result["workers"]
    assert result["restart_units"] == []


def test_one_instances_file_drains_that_worker_only() -> None:
    result = plan(["/etc/prefect/workers/etl-1.env"])
    assert result["instances_changed"] == ["prefect-worker@etl-1.service"]
    assert result["restart_units"] == ["prefect-worker@etl-1.service"]
    assert not result["server"]


def test_a_unit_file_needs_a_daemon_reload() -> None:
    result = plan([f"{UNITS}/prefect-worker@.service"])
    assert result["units_changed"] and result["workers"]


def test_new_software_restarts_server_services_and_workers() -> None:
    result = plan([], software_changed=True)
    assert result["server"] and result["services"] and result["workers"]
    assert result["restart_units"] == WANTED
    assert not result["redis"] and not result["haproxy"]


def test_after_an_upgrade_stopped_everything_the_workers_only_start() -> None:
    stopped = {u: {"active": "inactive", "enabled": "enabled"} for u in WANTED}
    result = plan([CONFIG], units=stopped, services_stopped=True)
    assert result["server"] and result["services"]
    assert result["restart_units"] == []
    assert result["start_units"] == WANTED
    assert result["drained_units"] == []


def test_a_worker_not_running_is_started_not_restarted() -> None:
    units = {WANTED[0]: {"active": "active", "enabled": "enabled"},
             WANTED[1]: {"active": "failed", "enabled": "enabled"}}
    result = plan([CONFIG], units=units)
    assert result["restart_units"] == [WANTED[0]]
    assert result["start_units"] == [WANTED[1]]


@pytest.mark.parametrize("state", [{"active": "active", "enabled": "disabled"}, {}])
def test_a_worker_not_enabled_or_unknown_is_started(state: dict[str, str]) -> None:
    units = {WANTED[0]: RUNNING[WANTED[0]], WANTED[1]: state}
    assert plan([], units=units)["start_units"] == [WANTED[1]]


def test_a_worker_no_pool_wants_is_drained_and_removed() -> None:
    old = "prefect-worker@legacy-1.service"
    units = {**RUNNING, old: {"active": "active", "enabled": "enabled"}}
    result = plan([], units=units)
    assert result["unwanted_units"] == [old]
    assert result["drained_units"] == [old]
    assert result["restart_units"] == []


def test_an_unwanted_worker_that_is_stopped_is_removed_without_a_drain() -> None:
    old = "prefect-worker@legacy-1.service"
    units = {**RUNNING, old: {"active": "inactive", "enabled": "enabled"}}
    result = plan([], units=units)
    assert result["unwanted_units"] == [old]
    assert result["drained_units"] == []


def test_haproxy_reloads_for_its_configuration_and_restarts_for_its_unit() -> None:
    assert plan(["/etc/haproxy/haproxy.cfg"])["haproxy_reload"]
    assert not plan(["/etc/haproxy/haproxy.cfg"])["haproxy"]
    assert plan([f"{UNITS}/haproxy.service.d/prefect.conf"])["haproxy"]


def test_redis_and_the_backup_timer_follow_their_own_files() -> None:
    assert plan(["/etc/prefect/redis.conf"])["redis"]
    assert plan([f"{UNITS}/prefect-backup.timer"])["backup_timer"]
    assert not plan([f"{UNITS}/prefect-backup.timer"])["server"]


def test_an_unknown_service_in_the_triggers_is_named() -> None:
    with pytest.raises(ValueError, match="unknown services in triggers: nginx"):
        restarts([], {**TRIGGERS, "nginx": []}, [], [], {}, [], [])


def test_the_roles_triggers_name_only_known_services() -> None:
    role_vars = yaml.safe_load((ROOT / "roles/prefect/vars/main.yml").read_text())
    known = load_plugin("plugins/filter/restarts.py", "prefect_filter_restarts").SERVICES
    assert set(role_vars["__prefect_restart_triggers"]) == set(known)
