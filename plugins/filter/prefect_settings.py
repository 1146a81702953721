"""prefect_settings: the Prefect settings the preset writes to config.toml.

    host | prefect_preset.prefect.prefect_settings

One home for what each parameter sets in Prefect, on every platform: the
API's address and the UI's, logging, the server's bind, analytics, CSRF
protection (on when the server is exposed beyond loopback), metrics, the
flow-run heartbeat the zombie-run automation watches, the certificate bundle
the clients trust, the Redis-backed messaging several API servers share, the
retention of old runs and events, and the database's non-secret settings.
The user's `settings` win over all of them. Secrets never pass through here:
they go to the environment files. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DOCUMENTATION = r"""
name: prefect_settings
short_description: The Prefect settings the preset writes to config.toml
description:
  - From the parameters and what the role derived (URLs, exposure, the database), the
    settings of the preset's Prefect profile, with the user's own settings on top.
options:
  _input:
    description: >-
      api_url, ui_api_url, log_level, server_host, server_port, ui_directory (where the
      server keeps the UI's files), analytics, exposed (bound beyond loopback), metrics,
      heartbeat_seconds, ca_file (the bundle clients trust; empty for none), shared
      (several API servers share Redis and this host runs a server or the services),
      retention_days (none keeps everything), database (the database's non-secret
      settings) and given (the user's settings, which win).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The settings config.toml gets
  ansible.builtin.debug:
    msg: "{{ host | prefect_preset.prefect.prefect_settings }}"
"""

RETURN = r"""
_value:
  description: Setting name to value.
  type: dict
"""

# Several API servers share events, ordering, leases and the workers' cleanup
# messages through Redis (prefect-redis, in the lock), as Prefect's scaling guide
# and its Helm chart configure them; the URLs with the password are in server.env.
# Keep-alive above HAProxy's idle reuse of server connections.
SHARED_SETTINGS: dict[str, Any] = {
    "PREFECT_SERVER_EVENTS_MESSAGING_BROKER": "prefect_redis.messaging",
    "PREFECT_SERVER_EVENTS_MESSAGING_CACHE": "prefect_redis.messaging",
    "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
    "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
    "PREFECT_SERVER_WORKER_CHANNEL_CLEANUP_QUEUE_STORAGE": "prefect_redis.cleanup_queue",
    "PREFECT_SERVER_API_KEEPALIVE_TIMEOUT": 75,
}
# Workers ask for runs every 2 s (Prefect's default is 10 s): the pickup latency.
WORKER_QUERY_SECONDS = 2
SECONDS_PER_DAY = 86400


def prefect_settings(host: Mapping[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "PREFECT_API_URL": host["api_url"],
        "PREFECT_LOGGING_LEVEL": host["log_level"],
        "PREFECT_SERVER_API_HOST": host["server_host"],
        "PREFECT_SERVER_API_PORT": host["server_port"],
        "PREFECT_SERVER_UI_API_URL": host["ui_api_url"],
        "PREFECT_SERVER_UI_STATIC_DIRECTORY": host["ui_directory"],
        # Migrations are a step of their own, before the server starts.
        "PREFECT_SERVER_DATABASE_MIGRATE_ON_START": False,
        "PREFECT_SERVER_ANALYTICS_ENABLED": bool(host["analytics"]),
        "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": bool(host["exposed"]),
        "PREFECT_SERVER_METRICS_ENABLED": bool(host["metrics"]),
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": host["heartbeat_seconds"],
        "PREFECT_WORKER_QUERY_SECONDS": WORKER_QUERY_SECONDS,
    }
    if host["ca_file"]:
        settings["PREFECT_API_SSL_CERT_FILE"] = host["ca_file"]
    if host["shared"]:
        settings.update(SHARED_SETTINGS)
    if host["retention_days"] is not None:
        settings["PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED"] = "events,flow_runs"
        settings["PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD"] = (
            int(host["retention_days"]) * SECONDS_PER_DAY
        )
    settings.update(host["database"] or {})
    settings.update(host["given"] or {})
    return settings


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"prefect_settings": prefect_settings}
