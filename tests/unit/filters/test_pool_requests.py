"""plugins/filter/pool_requests.py: what the server is asked for each declared work pool."""

from __future__ import annotations

from module_harness import load_plugin

pool_requests = load_plugin("plugins/filter/pool_requests.py", "prefect_filter_pool_requests").pool_requests

TEMPLATE = {"job_configuration": {"command": "{{ command }}"}, "variables": {"properties": {}}}


def test_the_server_is_asked_for_the_pool_and_not_for_what_only_hosts_use() -> None:
    declared = [{"name": "etl", "type": "process", "concurrency_limit": 4, "paused": False,
                 "workers": 2, "packages": ["pandas==2.2.3"], "work_queues": []}]
    assert pool_requests(declared, TEMPLATE) == [
        {"name": "etl", "type": "process", "concurrency_limit": 4, "paused": False,
         "base_job_template": TEMPLATE}]


def test_declared_queues_are_asked_for_and_none_declared_leaves_them_unmanaged() -> None:
    declared = [{"name": "a", "type": "process", "concurrency_limit": None, "paused": None,
                 "work_queues": ["high", "low"]},
                {"name": "b", "type": "process", "concurrency_limit": None, "paused": None}]
    requests = pool_requests(declared, TEMPLATE)
    assert [r["name"] for r in requests] == ["a", "b"]
    assert requests[0]["work_queues"] == ["high", "low"]
    assert "work_queues" not in requests[1]
