"""templates/haproxy.cfg.j2 as the role renders it for the load balancer: API servers
given by address are used as given; those given by name are looked up while HAProxy
runs, followed to a new address at once, and never dropped because a resolver did not
answer (the HA scenario moves one to a new address and stops the other)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from test_platforms import _loader

TEMPLATE = Path(__file__).resolve().parents[3] / "templates" / "haproxy.cfg.j2"


def _render(servers: dict[str, dict[str, Any]], **extra: Any) -> str:
    from ansible.template import Templar, trust_as_template

    variables: dict[str, Any] = {
        "ansible_managed": "Ansible managed",
        "__prefect_server_hosts": list(servers),
        "hostvars": servers,
        "prefect_server_port": 4200,
        "prefect_server_host": "127.0.0.1",
        "prefect_tls_certificate": "",
        "__prefect_lb_bind": "*:80",
        "__prefect_haproxy_pem": "/etc/prefect/haproxy/prefect.pem",
        **extra,
    }
    templar = Templar(loader=_loader(), variables=variables)
    return str(templar.template(trust_as_template(TEMPLATE.read_text(encoding="utf-8")),
                                escape_backslashes=False))


def _server_lines(text: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(r"^    server (\S+) .*$", text, re.M)}


def test_servers_by_address_need_no_resolver():
    text = _render({"api-1": {"prefect_advertise_address": "10.0.0.11"},
                    "api-2": {"prefect_advertise_address": "10.0.0.12", "prefect_server_port": 4300}})
    assert "resolvers" not in text
    lines = _server_lines(text)
    assert lines["api-1"].endswith("server api-1 10.0.0.11:4200 check")
    assert lines["api-2"].endswith("server api-2 10.0.0.12:4300 check")


def test_servers_by_name_follow_a_new_address_and_survive_a_silent_resolver():
    text = _render({"api-1": {"prefect_advertise_address": "api-1.example.internal", "prefect_server_host": "0.0.0.0"},
                    "api-2": {"prefect_advertise_address": "10.0.0.12"}})
    section = text.split("resolvers system", 1)[1].split("\n\n", 1)[0]
    holds = dict(re.findall(r"^    hold (\w+) (\S+)$", section, re.M))
    # A moved server is followed at once: an address no longer answered is not kept.
    assert holds["obsolete"] == "0s"
    assert int(holds["valid"].rstrip("s")) <= 5
    # A resolver that times out or errs takes no healthy server out for two minutes.
    assert all(int(holds[status].rstrip("s")) >= 120 for status in ("timeout", "refused", "other"))
    lines = _server_lines(text)
    assert "resolvers system init-addr last,libc,none resolve-prefer ipv4" in lines["api-1"]
    assert lines["api-2"].endswith("10.0.0.12:4200 check")


@pytest.mark.parametrize(("bind", "family"), [("0.0.0.0", "ipv4"), ("10.0.0.11", "ipv4"), ("::", "ipv6")])
def test_a_name_resolves_to_the_family_the_server_binds(bind: str, family: str):
    text = _render({"api-1": {"prefect_advertise_address": "api-1.example.internal", "prefect_server_host": bind}})
    assert _server_lines(text)["api-1"].endswith(f"resolve-prefer {family}")
