"""plugins/filter/pool_venvs.py: the virtualenvs of pools with packages of their own."""

from __future__ import annotations

from module_harness import load_plugin

pv = load_plugin("plugins/filter/pool_venvs.py", "prefect_filter_pool_venvs")

POOLS_DIR = "/opt/prefect/pools"
PYTHON = "/usr/bin/python3.13"


def test_only_pools_with_packages_get_a_virtualenv_of_their_own() -> None:
    pools = [{"name": "default", "packages": []}, {"name": "etl", "packages": ["pandas==2.2"]}]
    (etl,) = pv.pool_venvs(pools, "3.9.1", "abc123", PYTHON, POOLS_DIR)
    assert etl == {
        "pool": "etl",
        "packages": ["pandas==2.2"],
        "requirements": "prefect==3.9.1\npandas==2.2\n",
        # The name earlier releases gave (Ansible's to_json | hash('sha1'), rendered
        # by ansible-core 2.19): upgrading the preset rebuilds no pool's virtualenv.
        "venv": f"{POOLS_DIR}/etl-f67fb956",
    }


def test_every_input_changes_the_name() -> None:
    pools = [{"name": "etl", "packages": ["pandas==2.2"]}]
    base = pv.pool_venvs(pools, "3.9.1", "abc123", PYTHON, POOLS_DIR)[0]["venv"]
    others = [
        pv.pool_venvs(
            [{"name": "etl", "packages": ["pandas==2.3"]}], "3.9.1", "abc123", PYTHON, POOLS_DIR
        ),
        pv.pool_venvs(pools, "3.9.0", "abc123", PYTHON, POOLS_DIR),
        pv.pool_venvs(pools, "3.9.1", "def456", PYTHON, POOLS_DIR),
        pv.pool_venvs(pools, "3.9.1", "abc123", "/usr/bin/python3.11", POOLS_DIR),
    ]
    names = {o[0]["venv"] for o in others}
    assert base not in names and len(names) == 4


def test_the_packages_keep_their_order_and_pools_theirs() -> None:
    pools = [{"name": "b", "packages": ["x", "a"]}, {"name": "a", "packages": ["y"]}]
    got = pv.pool_venvs(pools, "3.9.1", "c", PYTHON, POOLS_DIR)
    assert [v["pool"] for v in got] == ["b", "a"]
    assert got[0]["requirements"] == "prefect==3.9.1\nx\na\n"


def test_the_filter_is_registered() -> None:
    assert pv.FilterModule().filters() == {"pool_venvs": pv.pool_venvs}
