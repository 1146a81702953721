"""Flows as code on the fleet: the teams' own deployments, declared next to the servers.

The converge deployed `pipelines` (git, over HTTP with a token, at v1: a flow that prints
its version) and `example` (the example project's directory, by its prefect.yaml), with
variables, two Secret blocks and two concurrency limits. In order: the code is on every
worker host, read-only for the workers; the deployments and their schedules are on the
server, and the scheduler makes runs; a run prints v1; a run in flight when v2 lands
finishes on v1 while the next prints v2, and v2 was on both worker hosts before the
deployment changed; a second converge changes nothing; --check after a change of cron
reports it and leaves the server as it was; removed objects are pruned, hand-made ones
stay; the prefect.yaml source gives what `prefect deploy --all` gives; bad input is refused
before any change; the token and the secrets are nowhere they must not be.

The tests run in order and build on each other. (Named to run before test_fleet.py, whose
last tests change the fleet.)"""

from __future__ import annotations

import copy
import json
import re
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "common"))
from converge import converge
from prefect_api import Api

SERVER = "fleet-server"
WORKERS = ["fleet-etl-1", "fleet-etl-2"]
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
INVENTORY = yaml.safe_load((Path(__file__).resolve().parents[1] / "molecule.yml").read_text())[
    "provisioner"]["inventory"]["group_vars"]["all"]
FLOWS: list[dict[str, Any]] = INVENTORY["prefect_flows"]
TOKEN = INVENTORY["fleet_git_token"]
SECRETS = INVENTORY["prefect_secrets"]
OUTPUTS: list[str] = []  # every converge's output, searched for secrets at the end
STATE: dict[str, Any] = {}


def _host(name: str):
    return testinfra.get_host(f"podman://{name}")


def _converge(*args: Any, **kwargs: Any):
    result = converge(*args, **kwargs)
    OUTPUTS.append(result.stdout)
    return result


def _flows(ref: str = "v1", **changes: Any) -> list[dict[str, Any]]:
    flows = copy.deepcopy(FLOWS)
    flows[0]["ref"] = ref
    for deployment in flows[0]["deployments"]:
        deployment.update(changes.get(deployment["name"], {}))
    return flows


@pytest.fixture(scope="module")
def server():
    return _host(SERVER)


@pytest.fixture(scope="module")
def api(server) -> Api:
    return Api(server, auth=server.file("/etc/prefect/secrets/auth").content_string.strip())


def _commit(tag: str) -> str:
    out = _host("fleet-git").run(f"git --git-dir /srv/git/pipelines.git rev-parse {tag}^{{commit}}")
    if out.rc == 0:
        return out.stdout.strip()
    # The git host has no git: read the packed or loose ref.
    refs = _host("fleet-git").run("cat /srv/git/pipelines.git/info/refs").stdout
    peeled = {name: sha for sha, name in (line.split("\t") for line in refs.splitlines())}
    return peeled.get(f"refs/tags/{tag}^{{}}") or peeled[f"refs/tags/{tag}"]


def _deployment(api: Api, name: str, flow: str = "versioned") -> dict[str, Any]:
    return api.get(f"/deployments/name/{flow}/{name}")



def _printed(api: Api, run_id: str, text: str, timeout: float = 30) -> str:
    """The run's log once it holds text. A flow's logs reach the server in batches and
    may land after its Completed state, so a run that just finished is read again."""
    deadline = time.monotonic() + timeout
    while True:
        logs = api.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200})
        printed = "\n".join(log["message"] for log in logs)
        if text in printed or time.monotonic() > deadline:
            return printed
        time.sleep(2)


def _snapshot(api: Api) -> dict[str, Any]:
    return {
        "deployments": sorted((d["name"], d["updated"]) for d in api.post("/deployments/filter", {})),
        "variables": sorted((v["name"], json.dumps(v["value"])) for v in api.post("/variables/filter", {})),
        "limits": sorted((c["name"], c["limit"]) for c in api.post("/v2/concurrency_limits/filter", {})),
    }


def test_the_code_is_on_every_worker_host_readable_not_writable_by_the_workers(server):
    v1 = _commit("v1")
    STATE["v1"] = v1
    for name in WORKERS:
        host = _host(name)
        flow = host.file(f"/opt/prefect/code/pipelines/{v1}/flows/versioned.py")
        assert flow.exists and 'VERSION = "v1"' in flow.content_string, name
        assert (flow.user, flow.group, flow.mode) == ("root", "root", 0o644)
        assert host.run(f"runuser -u prefect-worker -- cat {flow.path}").rc == 0
        assert host.run(f"runuser -u prefect-worker -- touch /opt/prefect/code/pipelines/{v1}/x").rc != 0
        example = host.run("ls /opt/prefect/code/example").stdout.split()
        assert len(example) == 1 and host.file(f"/opt/prefect/code/example/{example[0]}/prefect.yaml").exists
    # The server runs no worker: no code there.
    assert not server.file("/opt/prefect/code").exists


def test_the_deployments_and_their_schedules_are_on_the_server(api):
    deployment = _deployment(api, "versioned")
    assert deployment["path"] == f"/opt/prefect/code/pipelines/{STATE['v1']}"
    assert deployment["pull_steps"] == [{"prefect.deployments.steps.set_working_directory":
                                         {"directory": deployment["path"]}}]
    assert deployment["work_pool_name"] == "etl" and deployment["tags"] == ["pipelines"]
    assert deployment["parameters"] == {"source": "warehouse"}
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in deployment["schedules"]] == [
        ("0 3 * * *", "Europe/Berlin", True)]
    assert deployment["labels"]["prefect-preset.source"] == "pipelines"
    hourly = _deployment(api, "versioned-hourly")
    assert [s["schedule"]["interval"] for s in hourly["schedules"]] == [3600.0]
    variables = {v["name"]: v["value"] for v in api.post("/variables/filter", {})}
    assert variables["environment"] == "prod" and variables["batch_size"] == 500
    limits = {c["name"]: c["limit"] for c in api.post("/v2/concurrency_limits/filter", {})}
    assert limits["warehouse"] == 4 and limits["reports"] == 1
    blocks = {b["name"] for b in api.post("/block_documents/filter", {"block_types": {"slug": {"any_": ["secret"]}}})}
    assert {"warehouse-password", "report-token"} <= blocks


def test_the_scheduler_makes_runs_of_the_declared_schedules(api):
    deployment = _deployment(api, "versioned-hourly")
    deadline = time.monotonic() + 120
    while True:
        runs = api.post("/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [deployment["id"]]},
                                                           "state": {"type": {"any_": ["SCHEDULED"]}}}})
        if runs:
            break
        assert time.monotonic() < deadline, "the scheduler made no run of versioned-hourly"
        time.sleep(5)


def test_a_run_completes_on_a_worker_host_and_prints_v1(api):
    run = api.wait_run(api.run_deployment(_deployment(api, "versioned")["id"]), FINAL)
    assert run["state_type"] == "COMPLETED", run["state"]
    assert "pipelines v1 synced warehouse" in _printed(api, run["id"], "pipelines v1 synced warehouse")


def test_a_run_in_flight_finishes_on_v1_while_v2_lands_everywhere_first(api):
    # Longer than the fleet's converge takes, even on a loaded machine (it took
    # more than 60 s with two scenarios side by side): v1 must still be in use
    # when the converge looks at it.
    slow = api.run_deployment(_deployment(api, "versioned")["id"], {"seconds": 180})
    api.wait_run(slow, {"RUNNING"}, 120)
    # The worker host that runs it: a process there works in v1 (its cwd).
    v1 = f"/opt/prefect/code/pipelines/{STATE['v1']}"
    [busy] = [name for name in WORKERS
              if _host(name).run(f"find /proc/[0-9]*/cwd -maxdepth 0 -lname '{v1}*' 2>/dev/null").stdout.strip()]
    upgraded = _converge("all", prefect_flows=_flows("v2"))
    assert upgraded.returncode == 0, upgraded.stdout[-5000:]
    v2 = _commit("v2")
    deployment = _deployment(api, "versioned")
    assert deployment["path"] == f"/opt/prefect/code/pipelines/{v2}"
    updated = deployment["updated"].replace("Z", "+00:00")
    for name in WORKERS:
        host = _host(name)
        assert host.file(f"/opt/prefect/code/pipelines/{v2}/flows/versioned.py").exists, name
        landed = float(host.run(f"stat -c %Z /opt/prefect/code/pipelines/{v2}").stdout)
        assert landed <= datetime.fromisoformat(updated).timestamp(), f"{name} got v2 after the deployment changed"
    # v1 stays on the host whose worker runs the slow flow in it; the other may drop it.
    assert api.wait_run(slow, {"RUNNING"} | FINAL)["state_type"] == "RUNNING", "the slow run ended during the converge"
    assert _host(busy).file(v1).exists, busy
    finished = api.wait_run(slow, FINAL, 300)
    assert finished["state_type"] == "COMPLETED", finished["state"]
    assert "pipelines v1 synced" in _printed(api, slow, "pipelines v1 synced")
    fresh = api.wait_run(api.run_deployment(deployment["id"]), FINAL)
    assert fresh["state_type"] == "COMPLETED", fresh["state"]
    assert "pipelines v2 synced" in _printed(api, fresh["id"], "pipelines v2 synced")
    STATE["v2"] = v2


def test_check_mode_after_a_change_of_cron_reports_it_and_leaves_the_server_as_it_was(api):
    before = _deployment(api, "versioned")
    checked = _converge("all", check=True, prefect_flows=_flows(
        "v2", versioned={"schedules": [{"cron": "30 4 * * *", "timezone": "Europe/Berlin"}]}))
    assert checked.returncode == 0, checked.stdout[-4000:]
    assert "deployment versioned/versioned" in checked.stdout and "30 4 * * *" in checked.stdout
    after = _deployment(api, "versioned")
    assert after["updated"] == before["updated"]
    assert [s["schedule"]["cron"] for s in after["schedules"]] == ["0 3 * * *"]


def test_a_change_of_cron_replaces_the_schedule_exactly_and_v1_goes_once_unused(api):
    cron = {"versioned": {"schedules": [{"cron": "30 4 * * *", "timezone": "Europe/Berlin"}]}}
    changed = _converge("all", prefect_flows=_flows("v2", **cron))
    assert changed.returncode == 0, changed.stdout[-4000:]
    assert [s["schedule"]["cron"] for s in _deployment(api, "versioned")["schedules"]] == ["30 4 * * *"]
    # Nothing runs v1 any more: this converge removed it; the next one changes nothing.
    for name in WORKERS:
        assert _host(name).run("ls /opt/prefect/code/pipelines").stdout.split() == [STATE["v2"]]
    again = _converge("all", prefect_flows=_flows("v2", **cron))
    assert again.returncode == 0, again.stdout[-4000:]
    assert not re.search(r"changed=[1-9]", again.stdout), again.stdout[-4000:]


def test_objects_no_longer_declared_are_removed_and_hand_made_ones_stay(api):
    api.post("/variables/", {"name": "made_by_hand", "value": "keep me"})
    flows = _flows("v2")
    flows[0]["deployments"] = flows[0]["deployments"][:1]
    pruned = _converge("all", prefect_flows=flows, prefect_variables={"environment": "prod"},
                       prefect_secrets={"warehouse-password": SECRETS["warehouse-password"]},
                       prefect_concurrency_limits=[{"name": "warehouse", "limit": 4}])
    assert pruned.returncode == 0, pruned.stdout[-4000:]
    assert api.status("/deployments/name/versioned/versioned-hourly") == "404"
    variables = {v["name"] for v in api.post("/variables/filter", {})}
    assert "batch_size" not in variables and {"environment", "made_by_hand"} <= variables
    blocks = {b["name"] for b in api.post("/block_documents/filter", {"block_types": {"slug": {"any_": ["secret"]}}})}
    assert "report-token" not in blocks and "warehouse-password" in blocks
    limits = {c["name"] for c in api.post("/v2/concurrency_limits/filter", {})}
    assert limits >= {"warehouse"} and "reports" not in limits
    api.delete("/variables/name/made_by_hand")


def test_the_prefect_yaml_source_gives_what_prefect_deploy_all_gives(api):
    def view(name: str, flow: str) -> dict[str, Any]:
        d = _deployment(api, name, flow)
        return {"entrypoint": d["entrypoint"], "parameters": d["parameters"], "tags": d["tags"],
                "work_pool": d["work_pool_name"], "concurrency": (d.get("global_concurrency_limit") or {}).get("limit"),
                "schedules": sorted(json.dumps({k: v for k, v in s["schedule"].items() if k != "anchor_date"},
                                               sort_keys=True) for s in d["schedules"])}

    expected = {("nightly-sync", "nightly-sync"), ("weekly-report", "weekly-report")}
    preset = {key: view(*key) for key in expected}
    host = _host(WORKERS[0])
    [version] = host.run("ls /opt/prefect/code/example").stdout.split()
    script = (
        "set -e; rm -rf /tmp/example && cp -r /opt/prefect/code/example/" + version + " /tmp/example && cd /tmp/example; "
        "set -a; . /etc/prefect/client.env; set +a; "
        "PREFECT_PROFILES_PATH=/etc/prefect/config.toml PREFECT_HOME=/root/.prefect-deploy "
        "/opt/prefect/venv/bin/prefect --no-prompt deploy --all"
    )
    deployed = host.run(f"bash -c {shlex.quote(script)}")
    assert deployed.rc == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    prefect = {key: view(*key) for key in expected}
    assert preset == prefect
    # The preset puts its own (code path, label) back at the next converge.
    restored = _converge("all", prefect_flows=_flows("v2"))
    assert restored.returncode == 0, restored.stdout[-4000:]
    assert _deployment(api, "nightly-sync", "nightly-sync")["labels"].get("prefect-preset.source") == "example"


# Each a deployment of its own, all in one declaration: the preflight reads the whole
# declaration and names every fault at once (one converge, not one per fault).
BAD_DEPLOYMENTS = {
    "bad-minute": ({"schedules": [{"cron": "61 * * * *"}]}, "'61' is not a valid minute"),
    "bad-zone": ({"schedules": [{"cron": "0 3 * * *", "timezone": "Mars/Olympus"}]},
                 "timezone 'Mars/Olympus' is not an IANA time zone"),
    "bad-function": ({"entrypoint": "flows/versioned.py:missing"}, "defines no function missing"),
    "bad-file": ({"entrypoint": "flows/nowhere.py:versioned"}, "flows/nowhere.py is not a file of the source"),
    "bad-parameter": ({"parameters": {"colour": "blue"}}, "takes no parameter colour (it takes seconds, source)"),
    "bad-pool": ({"work_pool": "gpu"}, "work_pool gpu is not declared in work_pools (etl)"),
}


def test_bad_input_is_refused_before_any_change_with_every_fault_named(api):
    before = _snapshot(api)
    listings = {name: _host(name).run("ls -R /opt/prefect/code | md5sum").stdout for name in WORKERS}
    flows = _flows("v2", **{"versioned-hourly": {"name": "versioned"}})
    template = next(d for d in FLOWS[0]["deployments"] if d["name"] == "versioned")
    flows[0]["deployments"] += [{**copy.deepcopy(template), "name": name, **change}
                                for name, (change, _) in BAD_DEPLOYMENTS.items()]
    refused = _converge("all", prefect_flows=flows,
                        prefect_variables={"environment": "prod", "warehouse_password": "hunter2"})
    assert refused.returncode != 0
    said = " ".join(refused.stdout.split())
    expected = [message for _, message in BAD_DEPLOYMENTS.values()] + [
        "a deployment named versioned is declared twice",
        "variables warehouse_password: looks like a secret",
        "Nothing was changed."]
    assert [m for m in expected if m not in said] == [], said[-4000:]
    assert not re.search(r"changed=[1-9]", refused.stdout), refused.stdout[-2000:]
    assert _snapshot(api) == before
    assert {name: _host(name).run("ls -R /opt/prefect/code | md5sum").stdout for name in WORKERS} == listings


def test_a_ref_the_repository_lacks_is_refused_before_any_change(api):
    before = _snapshot(api)
    refused = _converge("all", prefect_flows=_flows("v9"))
    assert refused.returncode != 0
    said = " ".join(refused.stdout.split())
    assert "has no tag, branch or commit 'v9'" in said and "Nothing was changed." in said, said[-3000:]
    assert not re.search(r"changed=[1-9]", refused.stdout), refused.stdout[-2000:]
    assert _snapshot(api) == before


def test_the_token_and_the_secrets_are_nowhere_they_must_not_be():
    secrets = [TOKEN, *SECRETS.values()]
    for output in OUTPUTS:
        for secret in secrets:
            assert secret not in output
    for name in [SERVER, *WORKERS]:
        host = _host(name)
        journal = host.run("journalctl --no-pager -o cat").stdout
        patterns = " ".join(f"-e {shlex.quote(s)}" for s in secrets)
        readable = host.run(
            "runuser -u prefect-worker -- sh -c 'find /etc /opt /var/lib /usr/local /tmp /home -xdev -type f "
            f"-readable -size -4M -print0 2>/dev/null | xargs -0 -r grep -lF {patterns}'"
        ).stdout.split()
        for secret in secrets:
            assert secret not in journal, (name, "journal")
        assert readable == [], (name, readable)
    # The token never reached a host at all.
    for name in [SERVER, *WORKERS]:
        found = _host(name).run(f"grep -rlF {shlex.quote(TOKEN)} /etc /opt /var/lib /root /tmp 2>/dev/null").stdout
        assert found.strip() == "", (name, found)
