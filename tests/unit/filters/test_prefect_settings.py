"""plugins/filter/prefect_settings.py: what each parameter sets in Prefect's profile."""

from __future__ import annotations

from typing import Any

from module_harness import load_plugin

ps = load_plugin("plugins/filter/prefect_settings.py", "prefect_filter_prefect_settings")


def host(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "api_url": "http://127.0.0.1:4200/api", "ui_api_url": "/api", "log_level": "INFO",
        "server_host": "127.0.0.1", "server_port": 4200, "ui_directory": "/var/lib/prefect/ui",
        "analytics": False, "exposed": False, "metrics": False, "heartbeat_seconds": 30,
        "ca_file": "/etc/ssl/certs/ca-certificates.crt", "shared": False, "retention_days": None,
        "database": {}, "given": {},
    }
    base.update(changes)
    return base


def test_defaults() -> None:
    assert ps.prefect_settings(host()) == {
        "PREFECT_API_URL": "http://127.0.0.1:4200/api",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": 4200,
        "PREFECT_SERVER_UI_API_URL": "/api",
        "PREFECT_SERVER_UI_STATIC_DIRECTORY": "/var/lib/prefect/ui",
        "PREFECT_SERVER_DATABASE_MIGRATE_ON_START": False,
        "PREFECT_SERVER_ANALYTICS_ENABLED": False,
        "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": False,
        "PREFECT_SERVER_METRICS_ENABLED": False,
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": 30,
        "PREFECT_WORKER_QUERY_SECONDS": 2,
        "PREFECT_API_SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
    }


def test_an_exposed_server_enforces_csrf() -> None:
    assert ps.prefect_settings(host(exposed=True))["PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED"] is True


def test_no_bundle_no_certificate_setting() -> None:
    """Windows has no system PEM file: Prefect's own trust applies."""
    assert "PREFECT_API_SSL_CERT_FILE" not in ps.prefect_settings(host(ca_file=""))


def test_several_api_servers_share_redis() -> None:
    got = ps.prefect_settings(host(shared=True))
    assert got["PREFECT_SERVER_EVENTS_MESSAGING_BROKER"] == "prefect_redis.messaging"
    assert got["PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE"] == "prefect_redis.lease_storage"
    assert got["PREFECT_SERVER_API_KEEPALIVE_TIMEOUT"] == 75
    assert not set(ps.SHARED_SETTINGS) & set(ps.prefect_settings(host()))


def test_retention_turns_the_vacuum_on_in_seconds() -> None:
    got = ps.prefect_settings(host(retention_days=30))
    assert got["PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED"] == "events,flow_runs"
    assert got["PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD"] == 30 * 86400
    assert "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED" not in ps.prefect_settings(host())


def test_the_database_and_then_the_users_settings_win() -> None:
    database = {"PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE": 10}
    given = {"PREFECT_LOGGING_LEVEL": "DEBUG", "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE": 20}
    got = ps.prefect_settings(host(database=database, given=given))
    assert got["PREFECT_LOGGING_LEVEL"] == "DEBUG"
    assert got["PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE"] == 20


def test_the_filter_is_registered() -> None:
    assert ps.FilterModule().filters() == {"prefect_settings": ps.prefect_settings}
