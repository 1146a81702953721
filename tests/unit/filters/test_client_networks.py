"""plugins/filter/client_networks.py: pg_hba sources that survive a re-addressed server host."""

from __future__ import annotations

import pytest

from module_harness import load_plugin

cn = load_plugin("plugins/filter/client_networks.py", "prefect_filter_client_networks").client_networks


def test_clients_in_the_database_hosts_subnet_are_accepted_by_that_subnet() -> None:
    # ha-api-1 at .6 today may come back at .9 tomorrow: the /24 still accepts it.
    assert cn(["10.89.0.6", "10.89.0.7"], "10.89.0.2", "255.255.255.0") == ["10.89.0.0/24"]


def test_clients_elsewhere_are_accepted_by_their_own_address() -> None:
    assert cn(["10.89.0.6", "192.0.2.7"], "10.89.0.2", "255.255.255.0") == ["10.89.0.0/24", "192.0.2.7/32"]


def test_given_networks_win() -> None:
    assert cn(["10.89.0.6"], "10.89.0.2", "255.255.255.0", ["10.0.0.0/8", "10.0.0.0/8"]) == ["10.0.0.0/8"]
    assert cn([], "", "", ["2001:db8::/64"]) == ["2001:db8::/64"]


def test_without_the_database_hosts_network_each_client_is_a_host_route() -> None:
    assert cn(["10.89.0.6", "2001:db8::5"], "", "") == ["10.89.0.6/32", "2001:db8::5/128"]


def test_a_prefix_length_works_as_the_netmask() -> None:
    assert cn(["10.1.2.3"], "10.1.0.1", "16") == ["10.1.0.0/16"]


def test_a_bad_given_network_names_the_parameter() -> None:
    with pytest.raises(ValueError, match="database_client_networks: 'ten' is not a network"):
        cn(["10.89.0.6"], "10.89.0.2", "255.255.255.0", ["ten"])


def test_a_client_known_only_by_name_is_accepted_by_name() -> None:
    assert cn(["api-1.example.internal"], "10.89.0.2", "24") == ["api-1.example.internal"]


host_ip = load_plugin("plugins/filter/host_ip.py", "prefect_filter_host_ip").host_ip
ip_literal = load_plugin("plugins/filter/ip_literal.py", "prefect_filter_ip_literal").ip_literal


def test_host_ip_prefers_the_facts_over_an_advertised_name() -> None:
    hostvars = {
        "api-1": {"prefect_advertise_address": "api-1.example", "ansible_facts": {"default_ipv4": {"address": "10.0.0.6"}}},
        "api-2": {"prefect_advertise_address": "api-2.example"},
        "api-3": {"ansible_host": "10.0.0.8"},
    }
    assert host_ip("api-1", hostvars) == "10.0.0.6"
    assert host_ip("api-2", hostvars) == "api-2.example"
    assert host_ip("api-3", hostvars) == "10.0.0.8"
    assert host_ip("elsewhere", hostvars) == "elsewhere"
    assert host_ip("", hostvars) == ""


@pytest.mark.parametrize(("value", "expected"), [
    ("10.0.0.5", True), ("2001:db8::1", True), ("[2001:db8::1]", True),
    ("ha-api-1", False), ("api.example.internal", False), ("", False),
])
def test_ip_literal(value: str, expected: bool) -> None:
    assert ip_literal(value) is expected
