"""topology: which parts of a fleet this host runs, from the inventory's groups.

    ([prefect_groups] | with_option_defaults(...))[0]
      | topology(groups, inventory_hostname, prefect_server, prefect_worker,
                 prefect_database, prefect_postgresql_install)

Preflight sets the result as facts once per run of the role (``__prefect_`` +
each key): nearly every task's condition asks whether this host is a server or
a worker, and as lazy role vars these answers were templated again, through a
chain of a dozen expressions, at every reference. The rules, in one place:

- a host is in a fleet when any of the groups has hosts; then the groups say
  who runs the server and the workers, otherwise every host runs both;
- ``server``/``worker`` given explicitly (not None) win over the groups;
- PostgreSQL is installed (``postgresql_install``) on the groups.database
  host, else on the server host; the first server host migrates the
  database; a host without a server uses the first host of groups.server.

Standard library and ansible-core only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

# The keys of `prefect_groups`, and the name each one's host list takes.
_HOST_LISTS = {
    "server": "server_hosts",
    "workers": "worker_hosts",
    "services": "services_hosts",
    "database": "database_hosts",
    "redis": "redis_hosts",
    "load_balancer": "lb_hosts",
}


def _flag(value: Any) -> bool:
    """A boolean parameter as Ansible's `bool` filter reads it ('yes', 1, True...)."""
    return boolean(value, strict=False)


def topology(
    group_names: Mapping[str, str],
    groups: Mapping[str, Sequence[str]],
    host: str,
    server: Any = None,
    worker: Any = None,
    database: str = "sqlite",
    postgresql_install: Any = False,
) -> dict[str, Any]:
    """The host lists of each part and what `host` runs, as plain data."""
    missing = sorted(set(_HOST_LISTS) - set(group_names))
    if missing:
        raise ValueError(
            f"topology: groups lacks {', '.join(missing)} (apply the option defaults first)"
        )
    result: dict[str, Any] = {"groups": dict(group_names)}
    for key, name in _HOST_LISTS.items():
        result[name] = list(groups.get(group_names[key], []))
    fleet = any(result[name] for name in _HOST_LISTS.values())
    server_hosts: list[str] = result["server_hosts"]
    database_hosts: list[str] = result["database_hosts"]
    is_server = _flag(server) if server is not None else (host in server_hosts if fleet else True)
    is_worker = (
        _flag(worker) if worker is not None else (host in result["worker_hosts"] if fleet else True)
    )
    is_services = host in result["services_hosts"]
    installs_postgresql = _flag(postgresql_install)
    migration_host = [*server_hosts, host][0]
    result.update(
        fleet=fleet,
        is_server=is_server,
        is_worker=is_worker,
        services_apart=len(result["services_hosts"]) > 0,
        is_services=is_services,
        is_redis=host in result["redis_hosts"],
        is_lb=host in result["lb_hosts"],
        runs_prefect=is_server or is_worker or is_services,
        is_backend=is_server or is_services,
        is_database=database == "postgresql"
        and installs_postgresql
        and (host in database_hosts if database_hosts else is_server),
        database_host=(database_hosts or server_hosts or [host])[0] if installs_postgresql else "",
        migration_host=migration_host,
        is_migration_host=is_server and migration_host == host,
        server_host=host if is_server else [*server_hosts, ""][0],
    )
    return result


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"topology": topology}
