"""plugins/filter/worker_prefixes.py: where the smoke test's runs may land."""

from __future__ import annotations

from module_harness import load_plugin

wp = load_plugin("plugins/filter/worker_prefixes.py", "prefect_filter_worker_prefixes")


def test_worker_prefixes_use_the_node_name_else_the_inventory_name() -> None:
    hostvars = {"w1": {"ansible_facts": {"nodename": "worker-one"}}, "w2": {"ansible_facts": {}}}
    assert wp.worker_prefixes(["w1", "w2", "w3"], hostvars, "etl") == [
        "worker-one-etl-",
        "w2-etl-",
        "w3-etl-",
    ]


def test_the_filter_is_registered() -> None:
    assert wp.FilterModule().filters() == {"worker_prefixes": wp.worker_prefixes}
