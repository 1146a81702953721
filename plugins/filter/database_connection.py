"""database_connection: the server's database connection from the role's parameters.

    {database, url, host, port, name, user, password, sslmode, ca_file, installed}
    | prefect_preset.prefect.database_connection

returns the SQLAlchemy URL Prefect connects with (secret: it holds the
password), the parts for messages (never the password), and the non-secret
TLS settings for config.toml. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ansible_collections.prefect_preset.prefect.plugins.filter.prefect_urls import bracketed

DOCUMENTATION = r"""
name: database_connection
short_description: The Prefect server's database URL and TLS settings
description:
  - Builds C(PREFECT_SERVER_DATABASE_CONNECTION_URL) for PostgreSQL (asyncpg driver)
    from a URL or from host, port, name, user and password, and maps libpq's sslmode
    onto what Prefect and asyncpg accept - disable and require as the URL's C(ssl)
    query, verify-ca and verify-full as Prefect's TLS settings with a CA file, prefer
    as asyncpg's own default.
  - For SQLite returns an empty URL; Prefect then uses its default file in PREFECT_HOME.
options:
  _input:
    description: >-
      database (sqlite or postgresql), url, host, port, name, user, password, sslmode,
      ca_file, and installed (true when the preset installs PostgreSQL on this host,
      which is then reached at 127.0.0.1).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Compose the connection
  ansible.builtin.set_fact:
    db: "{{ {'database': 'postgresql', 'host': 'db1', 'port': 5432, 'name': 'prefect',
             'user': 'prefect', 'password': vault_pw, 'sslmode': 'verify-full',
             'ca_file': '/etc/ssl/certs/corp.pem', 'url': '', 'installed': false}
           | prefect_preset.prefect.database_connection }}"
"""

RETURN = r"""
_value:
  description: >-
    url and password (secret), display (user@host:port/name), host, port, name, user,
    settings (TLS settings for config.toml).
  type: dict
"""

SCHEMES = ("postgres", "postgresql", "postgresql+asyncpg")
TLS = "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_"


try:  # under Ansible, a filter error is reported as the task's failure message
    from ansible.errors import AnsibleFilterError as _Base
except ImportError:  # pragma: no cover - outside Ansible
    _Base = ValueError  # type: ignore[assignment,misc]


class DatabaseConnectionError(_Base):  # type: ignore[misc,valid-type]
    """The parameters do not describe a usable PostgreSQL connection."""


def _from_url(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise DatabaseConnectionError(
            f"database_url must start with postgresql:// (or postgres://, postgresql+asyncpg://), "
            f"got {parts.scheme or 'no scheme'}://"
        )
    try:
        port = parts.port or 5432
    except ValueError:  # the error would quote the text, which may be part of the password
        raise DatabaseConnectionError(
            "database_url has a port that is not a number; a password containing #, ?, / or @ "
            "must be URL-encoded (%23, %3F, %2F, %40)"
        ) from None
    return {
        "host": parts.hostname or "",
        "port": port,
        "name": unquote(parts.path.lstrip("/")),
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "query": dict(parse_qsl(parts.query)),
    }


def database_connection(params: Mapping[str, Any]) -> dict[str, Any]:
    """The connection for the role; raises DatabaseConnectionError with the parameter's name."""
    if params.get("database", "sqlite") != "postgresql":
        return {"url": "", "display": "SQLite", "settings": {}}
    if params.get("url"):
        conn = _from_url(str(params["url"]))
    else:
        conn = {
            "host": "127.0.0.1" if params.get("installed") else str(params.get("host") or ""),
            "port": int(params.get("port") or 5432),
            "name": str(params.get("name") or ""),
            "user": str(params.get("user") or ""),
            "password": str(params.get("password") or ""),
            "query": {},
        }
    missing = [key for key in ("host", "name", "user") if not conn[key]]
    if missing:
        raise DatabaseConnectionError(
            "database: postgresql needs database_url, database_host (with database_name and "
            "database_user), or postgresql_install: true; missing " + ", ".join(missing)
        )
    sslmode = params.get("sslmode") or "prefer"
    settings: dict[str, Any] = {}
    query = dict(conn["query"])
    if sslmode in ("disable", "require"):
        query["ssl"] = sslmode
    elif sslmode in ("verify-ca", "verify-full"):
        if not params.get("ca_file"):
            raise DatabaseConnectionError(
                f"database_sslmode {sslmode} checks the server's certificate: set database_ca_file"
            )
        settings = {
            f"{TLS}ENABLED": True,
            f"{TLS}CA_FILE": params["ca_file"],
            f"{TLS}CHECK_HOSTNAME": sslmode == "verify-full",
        }
    host = bracketed(conn["host"])
    auth = quote(conn["user"], safe="")
    if conn["password"]:
        auth += ":" + quote(conn["password"], safe="")
    url = f"postgresql+asyncpg://{auth}@{host}:{conn['port']}/{quote(conn['name'], safe='')}"
    if query:
        url += "?" + urlencode(query)
    return {
        "url": url,
        "display": f"{conn['user']}@{host}:{conn['port']}/{conn['name']}",
        "host": conn["host"],
        "port": conn["port"],
        "name": conn["name"],
        "user": conn["user"],
        "password": conn["password"],
        "settings": settings,
    }


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"database_connection": database_connection}
