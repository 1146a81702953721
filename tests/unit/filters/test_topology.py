"""Unit tests for plugins/filter/topology.py: who runs what, from the groups."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location(
    "prefect_filter_topology", str(ROOT / "plugins" / "filter" / "topology.py")
)
assert _spec and _spec.loader
topo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(topo)

# prefect_groups' defaults, from the argument spec (their only home).
_OPTIONS = yaml.safe_load((ROOT / "roles/prefect/meta/argument_specs.yml").read_text())[
    "argument_specs"
]["main"]["options"]["prefect_groups"]["options"]
GROUPS = {name: spec["default"] for name, spec in _OPTIONS.items()}


def of(host: str, inventory: dict[str, list[str]], **params: Any) -> dict[str, Any]:
    groups = {"all": sorted({h for hosts in inventory.values() for h in hosts} | {host})}
    groups.update({GROUPS[key]: hosts for key, hosts in inventory.items()})
    return topo.topology(GROUPS, groups, host, **params)


def test_without_groups_every_host_runs_server_and_workers() -> None:
    t = of("h1", {})
    assert not t["fleet"]
    assert t["is_server"] and t["is_worker"] and t["runs_prefect"] and t["is_backend"]
    assert not (
        t["is_services"] or t["is_redis"] or t["is_lb"] or t["services_apart"] or t["is_database"]
    )
    assert t["migration_host"] == "h1" and t["is_migration_host"]
    assert t["server_host"] == "h1"
    assert t["database_host"] == ""
    assert t["groups"] == GROUPS


def test_fleet_worker_host_uses_the_first_server_host() -> None:
    inventory = {"server": ["srv"], "workers": ["w1", "w2"]}
    w1 = of("w1", inventory)
    assert w1["fleet"] and not w1["is_server"] and w1["is_worker"]
    assert w1["server_host"] == "srv" and not w1["is_migration_host"]
    assert w1["runs_prefect"] and not w1["is_backend"]
    srv = of("srv", inventory)
    assert srv["is_server"] and not srv["is_worker"] and srv["is_migration_host"]
    assert srv["server_hosts"] == ["srv"] and srv["worker_hosts"] == ["w1", "w2"]


def test_a_host_in_no_group_of_a_fleet_runs_nothing_of_prefect() -> None:
    t = of("lb", {"server": ["srv"], "load_balancer": ["lb"]})
    assert t["is_lb"] and not t["runs_prefect"] and not t["is_server"] and not t["is_worker"]
    assert t["server_host"] == "srv"


@pytest.mark.parametrize(
    ("given", "expected"), [(True, True), ("yes", True), (False, False), ("no", False)]
)
def test_explicit_server_and_worker_win_over_the_groups(given: Any, expected: bool) -> None:
    t = of("w1", {"server": ["srv"], "workers": ["w1"]}, server=given, worker=given)
    assert t["is_server"] is expected and t["is_worker"] is expected


def test_high_availability_splits_services_from_api_servers() -> None:
    inventory = {"server": ["api1", "api2"], "services": ["bg"], "redis": ["bg"]}
    api2 = of("api2", inventory)
    assert api2["services_apart"] and api2["is_server"] and not api2["is_services"]
    assert api2["migration_host"] == "api1" and not api2["is_migration_host"]
    bg = of("bg", inventory)
    assert bg["is_services"] and bg["is_redis"] and bg["is_backend"] and bg["runs_prefect"]
    assert not bg["is_server"]


@pytest.mark.parametrize(
    ("inventory", "host", "database_host", "is_database"),
    [
        ({}, "h1", "h1", True),  # one host: PostgreSQL beside the server
        ({"server": ["srv"], "workers": ["w1"]}, "srv", "srv", True),
        ({"server": ["srv"], "workers": ["w1"]}, "w1", "srv", False),
        ({"server": ["srv"], "database": ["db"]}, "db", "db", True),
        ({"server": ["srv"], "database": ["db"]}, "srv", "db", False),
    ],
)
def test_postgresql_goes_to_the_database_group_else_the_server(
    inventory: dict[str, list[str]], host: str, database_host: str, is_database: bool
) -> None:
    t = of(host, inventory, database="postgresql", postgresql_install=True)
    assert t["database_host"] == database_host
    assert t["is_database"] is is_database


def test_no_postgresql_installed_without_postgresql_install_or_on_sqlite() -> None:
    assert not of("h1", {}, database="postgresql", postgresql_install=False)["is_database"]
    assert not of("h1", {}, database="sqlite", postgresql_install=True)["is_database"]


def test_groups_without_their_defaults_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="load_balancer, redis"):
        topo.topology(
            {k: v for k, v in GROUPS.items() if k not in ("redis", "load_balancer")}, {}, "h1"
        )
