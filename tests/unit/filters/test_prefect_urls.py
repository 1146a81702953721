"""plugins/filter/prefect_urls.py: where a host's clients, its UI and its load balancer reach Prefect."""

from __future__ import annotations

from typing import Any

import pytest

from module_harness import load_plugin

pu = load_plugin("plugins/filter/prefect_urls.py", "prefect_filter_prefect_urls")


def host(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "server_host": "127.0.0.1",
        "server_port": 4200,
        "is_server": True,
        "api_url": "",
        "external_url": "",
        "server": {"address": "", "port": 4200},
        "lb": {"hosts": False, "host": "0.0.0.0", "port": 80, "tls": False, "address": ""},
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("bind", "connect"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("0.0.0.0", "127.0.0.1"),
        ("::", "[::1]"),
        ("fe80::1", "[fe80::1]"),
        ("prefect.internal", "prefect.internal"),
    ],
)
def test_a_server_host_reaches_its_own_server_over_loopback(bind: str, connect: str) -> None:
    got = pu.prefect_urls(host(server_host=bind, server_port=4300))
    assert got["connect_host"] == connect
    assert got["api_url"] == got["local_api_url"] == f"http://{connect}:4300/api"


def test_the_api_url_given_wins() -> None:
    assert (
        pu.prefect_urls(host(api_url="https://api.example/api"))["api_url"]
        == "https://api.example/api"
    )


def test_a_worker_host_uses_the_external_url_then_the_load_balancer_then_the_server_host() -> None:
    lb = {"hosts": True, "host": "0.0.0.0", "port": 443, "tls": True, "address": "10.0.0.9"}
    server = {"address": "10.0.0.2", "port": 4201}
    worker = host(is_server=False, server=server, lb=lb, external_url="https://prefect.example//")
    assert pu.prefect_urls(worker)["api_url"] == "https://prefect.example/api"
    worker["external_url"] = ""
    assert pu.prefect_urls(worker)["api_url"] == "https://10.0.0.9/api"
    worker["lb"] = dict(lb, hosts=False)
    assert pu.prefect_urls(worker)["api_url"] == "http://10.0.0.2:4201/api"
    worker["server"] = {"address": "", "port": 4200}
    assert pu.prefect_urls(worker)["api_url"] == ""


def test_the_ui_calls_the_api_relative_to_its_page_unless_an_external_url_is_given() -> None:
    assert pu.prefect_urls(host())["ui_api_url"] == "/api"
    assert (
        pu.prefect_urls(host(external_url="https://p.example/x/"))["ui_api_url"]
        == "https://p.example/x/api"
    )


@pytest.mark.parametrize(
    ("bind", "port", "tls", "url", "haproxy"),
    [
        ("0.0.0.0", 80, False, "http://10.0.0.9", "*:80"),
        ("*", 443, True, "https://10.0.0.9", "*:443"),
        ("0.0.0.0", 8443, True, "https://10.0.0.9:8443", "*:8443"),
        ("10.1.1.1", 8080, False, "http://10.1.1.1:8080", "10.1.1.1:8080"),
        ("::1", 443, True, "https://[::1]", "[::1]:443"),
    ],
)
def test_the_load_balancers_url_and_bind(
    bind: str, port: int, tls: bool, url: str, haproxy: str
) -> None:
    lb = {"hosts": True, "host": bind, "port": port, "tls": tls, "address": "10.0.0.9"}
    got = pu.prefect_urls(host(lb=lb))
    assert (got["lb_url"], got["lb_bind"]) == (url, haproxy)


def test_the_filter_is_registered() -> None:
    assert pu.FilterModule().filters() == {"prefect_urls": pu.prefect_urls}
