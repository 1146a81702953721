"""prefect_urls: where this host's clients, its UI and its load balancer reach Prefect.

    host | prefect_preset.prefect.prefect_urls

The API the CLI and the workers on a host use is, in this order: the one
given (api_url); this host's own server over loopback; the external URL
users reach (external_url); the load balancer; the fleet's server host at the
address it advertises. The UI (a browser on another machine) calls the API
relative to the page it was served from, unless external_url names where
users reach it. IPv6 literals get their brackets; the wildcard binds are
reached over loopback. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DOCUMENTATION = r"""
name: prefect_urls
short_description: The API and UI URLs of a host, and its load balancer's address
description:
  - From the server's bind, the given URLs and the fleet's hosts, the URLs a host's clients
    and its UI use, and the load balancer's address, URL and HAProxy bind.
options:
  _input:
    description: >-
      server_host and server_port (this host's server bind), is_server, api_url and
      external_url (given, or empty), server (the fleet's server host: address and port, or
      an empty address), lb (hosts (whether there is one), host and port it binds, address
      (its host's address, for a wildcard bind), tls).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The API this host's workers use
  ansible.builtin.debug:
    msg: "{{ (host | prefect_preset.prefect.prefect_urls).api_url }}"
"""

RETURN = r"""
_value:
  description: >-
    connect_host (this host's server over loopback), local_api_url, api_url (empty when
    none is known), ui_api_url, lb_address, lb_url, lb_bind.
  type: dict
"""

WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}
LB_WILDCARDS = ("0.0.0.0", "::", "*")


def bracketed(host: str) -> str:
    """An IPv6 literal in brackets, as URLs and HAProxy want it; anything else as is."""
    return f"[{host}]" if ":" in host else host


def prefect_urls(host: Mapping[str, Any]) -> dict[str, str]:
    server_host = str(host["server_host"])
    connect_host = WILDCARDS.get(server_host) or bracketed(server_host)
    local_api_url = f"http://{connect_host}:{host['server_port']}/api"
    external = str(host["external_url"]).rstrip("/")

    lb = host["lb"]
    tls = bool(lb["tls"])
    lb_host = str(lb["host"])
    lb_address = str(lb["address"]) if lb_host in LB_WILDCARDS else bracketed(lb_host)
    default_port = 443 if tls else 80
    lb_url = (
        ("https://" if tls else "http://")
        + lb_address
        + ("" if int(lb["port"]) == default_port else f":{lb['port']}")
    )
    lb_bind = ("*" if lb_host in LB_WILDCARDS else bracketed(lb_host)) + f":{lb['port']}"

    server = host["server"]
    if host["api_url"]:
        api_url = str(host["api_url"])
    elif host["is_server"]:
        api_url = local_api_url
    elif external:
        api_url = f"{external}/api"
    elif lb["hosts"]:
        api_url = f"{lb_url}/api"
    elif server["address"]:
        api_url = f"http://{server['address']}:{server['port']}/api"
    else:
        api_url = ""
    return {
        "connect_host": connect_host,
        "local_api_url": local_api_url,
        "api_url": api_url,
        "ui_api_url": f"{external}/api" if external else "/api",
        "lb_address": lb_address,
        "lb_url": lb_url,
        "lb_bind": lb_bind,
    }


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"prefect_urls": prefect_urls}
