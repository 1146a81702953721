"""macOS and Windows, checked without a Mac or a Windows host.

No macOS or Windows machine is reachable from CI, so what the role would
write there is rendered here the way Ansible renders it (ansible-core's
Templar over defaults/main.yml, vars/main.yml and vars/<family>.yml, with the
facts a host would report and the facts the platform's preflight sets), and
parsed by the parser of each format: plistlib for the launchd jobs,
newsyslog's field layout, tomllib for config.toml, the launcher's own parser
for the environment files, and the service definitions and ACL entries the
Windows tasks hand to win_nssm, win_service and win_acl (data in
vars/Windows.yml, so the tasks and these tests read the same lists).

Install and uninstall share one artifact list per platform
(__prefect_darwin_artifacts, __prefect_windows_artifacts); the tests check
that the install tasks create only kinds the uninstall removes, that every
path written lies in what uninstall removes, and that the vars files of every
OS family define the same shared keys."""

from __future__ import annotations

import atexit
import importlib.util
import itertools
import json
import os
import plistlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path, PureWindowsPath
from typing import Any

import pytest
import yaml

from preset.ansible_env import link_collections
from preset.manifest import load_manifest
from preset.runner import find_ansible_playbook

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "prefect"
TASKS = ROLE / "tasks"
TEMPLATES = ROOT / "templates"
FAMILIES = ("Debian", "RedHat", "Darwin", "Windows")

# The public parameters macOS and Windows add (see /tmp/platforms-preset.yaml
# for their preset.yaml entries): their defaults, used until defaults/main.yml
# has them and checked against it once it does.
PLATFORM_DEFAULTS: dict[str, Any] = {
    "prefect_scope": "system",
    "prefect_log_dir": "",
    "prefect_windows_package_source": "winget",
}

MAC_HOME = "/Users/ada"
WIN_DATA = "C:\\ProgramData"
WIN_FILES = "C:\\Program Files"
WIN_ROOT = WIN_DATA + "\\prefect"


# --- Rendering as Ansible does ------------------------------------------------------------


@cache
def _loader() -> Any:
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader

    scratch = Path(tempfile.mkdtemp(prefix="collections-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    collections = link_collections([load_manifest(ROOT / "preset.yaml")], scratch)
    # Tests of the collection's modules import ansible_collections.* as plain
    # packages (conftest.py); Ansible's collection finder must own that name to
    # resolve prefect_preset.prefect.* filters, as it does in a play.
    for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
        del sys.modules[name]
    init_plugin_loader([str(collections)])
    return DataLoader()


def _load(path: Path) -> dict[str, Any]:
    return _loader().load_from_file(str(path), trusted_as_template=True) or {}


@cache
def _argument_spec() -> dict[str, Any]:
    return yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))


def _preflight_task(name: str) -> dict[str, Any]:
    tasks = yaml.safe_load((TASKS / "preflight.yml").read_text(encoding="utf-8"))
    return next(task for task in tasks if task.get("name") == name)


def _facts(family: str, scope: str) -> dict[str, Any]:
    if family == "Darwin":
        user = scope == "user"
        return {
            "os_family": "Darwin",
            "distribution": "MacOSX",
            "nodename": "mac1",
            "user_id": "ada" if user else "root",
            "user_uid": 501 if user else 0,
            "user_dir": MAC_HOME if user else "/var/root",
        }
    return {
        "os_family": "Windows",
        "distribution": "Microsoft Windows Server 2022 Datacenter",
        "nodename": "WIN1",
        "env": {"ProgramData": WIN_DATA, "ProgramFiles": WIN_FILES},
    }


class Host:
    """The role's variables for one host, templated lazily as in a play."""

    def __init__(self, family: str, **params: Any) -> None:
        from ansible.template import Templar

        variables: dict[str, Any] = {}
        variables.update(_load(ROLE / "defaults" / "main.yml"))
        for name, value in PLATFORM_DEFAULTS.items():
            variables.setdefault(name, value)
        variables.update(_load(ROLE / "vars" / "main.yml"))
        variables.update(_load(ROLE / "vars" / f"{family}.yml"))
        variables.update({f"prefect_{k}": v for k, v in params.items()})
        scope = variables["prefect_scope"]
        name = "mac1" if family == "Darwin" else "win1"
        variables.update(
            {
                "role_path": str(ROLE),
                "ansible_search_path": [str(ROLE)],
                "inventory_hostname": name,
                "groups": {"all": [name], "ungrouped": [name]},
                "ansible_play_hosts": [name],
                "ansible_play_hosts_all": [name],
                "ansible_check_mode": False,
                "ansible_managed": "Ansible managed: do not edit",
                "ansible_facts": _facts(family, scope),
            }
        )
        # What the platform's preflight sets (set_fact ranks above include_vars).
        if family == "Darwin":
            variables["__prefect_darwin_python"] = "/opt/homebrew/opt/python@3.12/bin/python3.12"
            variables["__prefect_darwin_user_group"] = "staff"
            variables["__prefect_host"] = {"installed_version": "", "listings": {}}
        else:
            variables["__prefect_windows_python"] = WIN_FILES + "\\Python312\\python.exe"
            variables["__prefect_windows_nssm"] = WIN_FILES + "\\WinGet\\Links\\nssm.exe"
            variables["__prefect_windows_present_services"] = []
            variables["__prefect_host"] = {"installed_version": ""}
        variables["hostvars"] = {name: variables}
        # Read once here (a play reads meta/argument_specs.yml at each use).
        variables["__prefect_argument_spec"] = _argument_spec()
        self.family = family
        self.variables = variables
        self.templar = Templar(loader=_loader(), variables=variables)
        # What preflight's release task sets, from that task.
        task = _preflight_task("Work out what the preset knows of Prefect {{ prefect_version }}")
        for name, expression in task["ansible.builtin.set_fact"].items():
            variables[name] = self._template(expression)
        # The Python the platform's preflight chooses (system_python when given).
        given = variables["prefect_system_python"]
        variables["__prefect_python_choice"] = {
            "path": given if given is not None else variables["__prefect_family_system_python"],
            "packages": [],
        }
        # What preflight's "which parts of the fleet" task sets, from that task.
        task = _preflight_task("Work out which parts of the fleet this host runs")
        for name, expression in task["vars"].items():
            variables[name] = self._template(expression)
        for name, expression in task["ansible.builtin.set_fact"].items():
            variables[name] = self._template(expression)
        # Values every artifact reads many times, resolved once (as plain data
        # they are what a play's lazy templating would give at each use).
        for name in ("__prefect_work_pools", "__prefect_worker_instances", f"__prefect_{family.lower()}_dirs"):
            variables[name] = self[name]

    def __getitem__(self, name: str) -> Any:
        return self._template("{{ " + name + " }}")

    def _template(self, text: str) -> Any:
        from ansible.template import trust_as_template

        return self.templar.template(trust_as_template(text))

    def render(self, template: str, **extra: Any) -> str:
        """templates/TEMPLATE as the template action renders it (includes resolved)."""
        from ansible.template import trust_as_template

        text = (TEMPLATES / template).read_text(encoding="utf-8")
        templar = self.templar.copy_with_new_env(
            searchpath=[str(TEMPLATES)], available_variables={**self.variables, **extra}
        )
        return templar.template(trust_as_template(text), escape_backslashes=False)

    def artifacts(self) -> list[dict[str, Any]]:
        return self[f"__prefect_{self.family.lower()}_artifacts"]


def _launcher() -> Any:
    spec = importlib.util.spec_from_file_location("prefect_launch", ROLE / "files" / "prefect-launch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plists(host: Host) -> dict[str, dict[str, Any]]:
    """Every wanted job's plist, rendered and parsed: label -> plist."""
    out = {}
    for artifact in host.artifacts():
        if artifact["kind"] == "template" and artifact["src"].endswith(".plist.j2") and artifact["wanted"]:
            text = host.render(artifact["src"], job=artifact["template_vars"]["job"])
            parsed = plistlib.loads(text.encode())
            assert Path(artifact["path"]).name == parsed["Label"] + ".plist"
            out[parsed["Label"]] = parsed
    return out


def _command(plist: Mapping[str, Any]) -> list[str]:
    """The Prefect command a job's launcher runs (after --)."""
    argv = plist["ProgramArguments"]
    return argv[argv.index("--") + 1 :]


def _launcher_options(argv: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    head = argv[: argv.index("--")]
    for flag, value in itertools.pairwise(head):
        if flag.startswith("--"):
            out.setdefault(flag, []).append(value)
    return out


# --- macOS: launchd plists ------------------------------------------------------------------


def test_system_scope_plists_run_as_the_service_users_with_throttled_keepalive() -> None:
    host = Host("Darwin")
    plists = _plists(host)
    assert set(plists) == {"io.prefect.server", "io.prefect.worker.default-1"}

    server = plists["io.prefect.server"]
    assert server["UserName"] == "prefect" and server["GroupName"] == "prefect"
    assert server["ProgramArguments"][:2] == ["/opt/prefect/venvs/3.9.1/bin/python", "/opt/prefect/bin/prefect-launch"]
    assert _command(server) == [
        "/opt/prefect/venvs/3.9.1/bin/prefect", "server", "start", "--host", "127.0.0.1", "--port", "4200",
    ]
    options = _launcher_options(server["ProgramArguments"])
    assert options["--env-file"] == ["/etc/prefect/server.env"]
    assert options["--log"] == ["/var/log/prefect/server/server.log"]
    assert options["--log-max-bytes"] == ["10485760"] and options["--log-backups"] == ["5"]
    # Restarted after a crash, not after a clean exit; at most every 10 s.
    assert server["KeepAlive"] == {"SuccessfulExit": False}
    assert server["ThrottleInterval"] == 10
    assert server["RunAtLoad"] is True
    assert server["Umask"] == 0o077
    assert server["StandardOutPath"] == server["StandardErrorPath"] == "/var/log/prefect/server/launchd.log"
    assert server["EnvironmentVariables"] == {
        "PREFECT_HOME": "/var/lib/prefect",
        "PREFECT_PROFILES_PATH": "/etc/prefect/config.toml",
    }
    assert server["WorkingDirectory"] == "/var/lib/prefect"

    worker = plists["io.prefect.worker.default-1"]
    assert worker["UserName"] == "prefect-worker" and worker["GroupName"] == "prefect-worker"
    assert worker["KeepAlive"] is True
    assert worker["ThrottleInterval"] == 10
    assert _launcher_options(worker["ProgramArguments"])["--env-file"] == [
        "/etc/prefect/client.env", "/etc/prefect/workers/default-1.env",
    ]
    assert _command(worker) == [
        "/opt/prefect/venvs/3.9.1/bin/prefect", "worker", "start", "--pool", "default",
        "--name", "mac1-default-1", "--type", "process", "--install-policy", "never",
        "--no-create-pool-if-not-found",
    ]
    assert worker["EnvironmentVariables"]["PREFECT_PROFILES_PATH"] == "/etc/prefect/config.toml"
    assert worker["EnvironmentVariables"]["PREFECT_HOME"] == "/var/lib/prefect-worker"
    assert worker["StandardOutPath"] == "/var/log/prefect/workers/default-1.launchd.log"
    assert host["__prefect_unit_dir"] == "/Library/LaunchDaemons"
    assert host["__prefect_darwin_domain"] == "system"


def test_user_scope_plists_are_agents_in_the_home_without_a_user_name() -> None:
    host = Host("Darwin", scope="user")
    assert host["__prefect_unit_dir"] == MAC_HOME + "/Library/LaunchAgents"
    assert host["__prefect_darwin_domain"] == "gui/501"
    assert host["__prefect_config_file"] == MAC_HOME + "/.prefect/config.toml"
    plists = _plists(host)
    assert set(plists) == {"io.prefect.server", "io.prefect.worker.default-1"}
    for plist in plists.values():
        assert "UserName" not in plist and "GroupName" not in plist
        assert plist["EnvironmentVariables"]["PREFECT_PROFILES_PATH"] == MAC_HOME + "/.prefect/config.toml"
        assert plist["EnvironmentVariables"]["PREFECT_HOME"] == MAC_HOME + "/.prefect"
        assert plist["StandardOutPath"].startswith(MAC_HOME + "/Library/Logs/Prefect/")
        assert plist["ProgramArguments"][1] == MAC_HOME + "/Library/Prefect/bin/prefect-launch"
    artifacts = host.artifacts()
    assert not [a for a in artifacts if a["kind"] in ("user", "group")]
    assert not [a for a in artifacts if "owner" in a or "group" in a]
    # No newsyslog file without administrator rights: the launcher bounds the logs.
    assert host["__prefect_darwin_newsyslog_conf"] not in [a.get("path") for a in artifacts]


def test_non_default_values_reach_the_plists() -> None:
    host = Host(
        "Darwin",
        server_host="0.0.0.0",
        server_port=4300,
        user="pfsrv",
        group="pfsrv",
        worker_user="pfrun",
        worker_group="pfrun",
        install_dir="/opt/pre&fect",
        config_dir="/etc/pf<conf>",
        log_dir="/Volumes/logs/prefect",
        work_pools=[{"name": "etl", "instances": 2, "work_queues": ["high", "low"]}, {"name": "reports"}],
    )
    plists = _plists(host)
    assert set(plists) == {
        "io.prefect.server", "io.prefect.worker.etl-1", "io.prefect.worker.etl-2", "io.prefect.worker.reports-1",
    }
    server = plists["io.prefect.server"]
    assert server["UserName"] == "pfsrv"
    assert _command(server)[-4:] == ["--host", "0.0.0.0", "--port", "4300"]
    # Escaped for XML, read back intact.
    assert server["ProgramArguments"][0] == "/opt/pre&fect/venvs/3.9.1/bin/python"
    assert server["EnvironmentVariables"]["PREFECT_PROFILES_PATH"] == "/etc/pf<conf>/config.toml"
    assert server["StandardOutPath"] == "/Volumes/logs/prefect/server/launchd.log"
    etl2 = plists["io.prefect.worker.etl-2"]
    assert etl2["UserName"] == "pfrun"
    assert _command(etl2)[3:7] == ["--pool", "etl", "--name", "mac1-etl-2"]
    assert _command(etl2)[-4:] == ["--work-queue", "high", "--work-queue", "low"]
    assert _launcher_options(etl2["ProgramArguments"])["--log"] == ["/Volumes/logs/prefect/workers/etl-2.log"]


def test_a_host_without_a_worker_has_only_the_server_job_and_leftovers_are_unloaded() -> None:
    host = Host("Darwin", worker=False)
    host.variables["__prefect_host"] = {
        "installed_version": "3.9.1",
        "listings": {"/Library/LaunchDaemons": ["io.prefect.worker.old-1.plist", "com.other.plist"]},
    }
    jobs = host["__prefect_darwin_jobs"]
    assert [(j["label"], j["wanted"]) for j in jobs] == [
        ("io.prefect.server", True), ("io.prefect.worker.old-1", False),
    ]
    unwanted = [a for a in host.artifacts() if not a["wanted"]]
    assert {"kind": "job", "name": "io.prefect.worker.old-1", "path": "/Library/LaunchDaemons/io.prefect.worker.old-1.plist",
            "wanted": False} in unwanted
    assert "/etc/prefect/workers/old-1.env" in [a.get("path") for a in unwanted]


def test_newsyslog_lines_have_newsyslogs_fields() -> None:
    for params in ({}, {"log_dir": "/Volumes/logs/prefect", "work_pools": [{"name": "etl", "instances": 2}]}):
        host = Host("Darwin", **params)
        text = host.render("prefect-newsyslog.conf.j2")
        lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
        jobs = [j for j in host["__prefect_darwin_jobs"] if j["wanted"]]
        assert len(lines) == len(jobs)
        for line, job in zip(lines, jobs, strict=True):
            # logfilename [owner:group] mode count size when flags
            path, owner, mode, count, size, when, flags = line.split()
            assert path == job["launchd_log"] and path.startswith(host["__prefect_darwin_dirs"]["logs"] + "/")
            assert owner == f"{job['user']}:{job['group']}"
            assert re.fullmatch("[0-7]{3}", mode)
            assert int(count) == host["__prefect_darwin_log_backups"]
            assert int(size) == host["__prefect_darwin_log_max_bytes"] // 1024
            assert when == "*"
            assert set(flags) <= set("BCDGJNUXYZ")  # N: no signal to send; J: bzip2


@pytest.mark.parametrize("scope", ["system", "user"])
def test_login_shells_get_the_profiles_path(scope: str) -> None:
    host = Host("Darwin", scope=scope)
    (block,) = [a for a in host.artifacts() if a["kind"] == "block"]
    assert f'PREFECT_PROFILES_PATH="{host["__prefect_config_file"]}"' in block["block"]
    assert "export PREFECT_PROFILES_PATH" in block["block"]
    if scope == "user":
        assert block["path"] == MAC_HOME + "/.zprofile"
        assert f'PATH="{MAC_HOME}/Library/Prefect/bin:$PATH"' in block["block"]
    else:
        assert block["path"] == "/etc/zprofile"


def test_darwin_config_toml_is_the_shared_template_and_parses() -> None:
    host = Host("Darwin", scope="user")
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads(host.render("config.toml.j2"))
    profile = config["profiles"][config["active"]]
    assert profile["PREFECT_API_URL"] == "http://127.0.0.1:4200/api"
    assert profile["PREFECT_SERVER_UI_STATIC_DIRECTORY"] == MAC_HOME + "/.prefect/ui"
    assert profile["PREFECT_API_SSL_CERT_FILE"] == "/etc/ssl/cert.pem"
    assert profile["PREFECT_SERVER_DATABASE_MIGRATE_ON_START"] is False


def test_darwin_secret_files_are_readable_by_root_and_the_jobs_group_only() -> None:
    host = Host("Darwin")
    secrets = {a["path"]: a for a in host.artifacts() if a["kind"] == "template" and a.get("secret")}
    assert set(secrets) == {"/etc/prefect/client.env", "/etc/prefect/server.env"}
    assert secrets["/etc/prefect/server.env"]["group"] == "prefect"
    assert secrets["/etc/prefect/client.env"]["group"] == "prefect-worker"
    for artifact in secrets.values():
        assert artifact["owner"] == "root" and artifact["mode"] == "0640"
    user = Host("Darwin", scope="user")
    for artifact in user.artifacts():
        if artifact["kind"] == "template" and artifact.get("secret"):
            assert artifact["mode"] == "0600"


# --- Windows: services, ACLs, firewall ----------------------------------------------------


def _services(host: Host) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in host["__prefect_windows_services"]}


def test_windows_services_run_the_launcher_as_their_own_accounts() -> None:
    host = Host("Windows")
    services = _services(host)
    assert set(services) == {"prefect-server", "prefect-worker-default-1"}
    app = WIN_ROOT + "\\app"
    python = app + "\\venvs\\3.9.1\\Scripts\\python.exe"

    server = services["prefect-server"]
    assert server["application"] == python
    assert server["account"] == "NT SERVICE\\prefect-server"
    assert server["arguments"] == [
        app + "\\bin\\prefect-launch.py",
        "--env-file", WIN_ROOT + "\\config\\env\\server.env",
        "--log", WIN_ROOT + "\\logs\\server\\server.log",
        "--log-max-bytes", "10485760", "--log-backups", "5",
        "--", app + "\\venvs\\3.9.1\\Scripts\\prefect.exe", "server", "start",
        "--host", "127.0.0.1", "--port", "4200",
    ]
    assert server["app_environment"] == {
        "PREFECT_HOME": WIN_ROOT + "\\data",
        "PREFECT_PROFILES_PATH": WIN_ROOT + "\\config\\config.toml",
    }
    assert server["nssm_log"] == WIN_ROOT + "\\logs\\server\\server.nssm.log"
    assert server["start_mode"] == "auto"
    assert server["failure_actions"] and {a["type"] for a in server["failure_actions"]} == {"restart"}
    assert server["failure_reset_period_sec"] > 0

    worker = services["prefect-worker-default-1"]
    assert worker["account"] == "NT SERVICE\\prefect-worker-default-1"
    args = worker["arguments"]
    assert _launcher_options(args)["--env-file"] == [
        WIN_ROOT + "\\config\\env\\client.env", WIN_ROOT + "\\config\\workers\\default-1.env",
    ]
    assert args[args.index("--") + 1 :] == [
        app + "\\venvs\\3.9.1\\Scripts\\prefect.exe", "worker", "start", "--pool", "default",
        "--name", "WIN1-default-1", "--type", "process", "--install-policy", "never",
        "--no-create-pool-if-not-found",
    ]
    assert worker["app_environment"]["PREFECT_HOME"] == WIN_ROOT + "\\worker-data"
    # Each path is a Windows path under the tree.
    for service in services.values():
        for path in (service["application"], service["log"], service["nssm_log"], service["home"]):
            assert PureWindowsPath(path).is_absolute()


def test_windows_non_default_values_reach_the_services() -> None:
    host = Host(
        "Windows",
        server_host="0.0.0.0",
        server_port=4300,
        auth="admin:s3cret",
        install_dir="D:\\Prefect",
        log_dir="E:\\logs\\prefect",
        worker_group="prefect-runners",
        work_pools=[{"name": "etl", "instances": 2, "work_queues": ["high"]}],
        windows_package_source="chocolatey",
    )
    services = _services(host)
    assert set(services) == {"prefect-server", "prefect-worker-etl-1", "prefect-worker-etl-2"}
    assert services["prefect-server"]["arguments"][-4:] == ["--host", "0.0.0.0", "--port", "4300"]
    assert services["prefect-server"]["application"] == "D:\\Prefect\\venvs\\3.9.1\\Scripts\\python.exe"
    etl2 = services["prefect-worker-etl-2"]
    assert etl2["arguments"][-2:] == ["--work-queue", "high"]
    assert _launcher_options(etl2["arguments"])["--log"] == ["E:\\logs\\prefect\\workers\\etl-2.log"]
    assert services["prefect-worker-etl-1"]["start_mode"] == "delayed"
    assert host["__prefect_os_packages"] == ["python312", "nssm"]
    (group,) = [a for a in host.artifacts() if a["kind"] == "group"]
    assert group["name"] == "prefect-runners"
    assert group["members"] == ["NT SERVICE\\prefect-worker-etl-1", "NT SERVICE\\prefect-worker-etl-2"]
    (rule,) = [a for a in host.artifacts() if a["kind"] == "firewall"]
    assert rule["wanted"] and rule["port"] == 4300


@pytest.mark.parametrize(("server_host", "wanted"), [("127.0.0.1", False), ("localhost", False), ("0.0.0.0", True)])
def test_windows_firewall_rule_only_beyond_loopback(server_host: str, wanted: bool) -> None:
    params: dict[str, Any] = {"server_host": server_host}
    if wanted:
        params["auth"] = "admin:s3cret"
    (rule,) = [a for a in Host("Windows", **params).artifacts() if a["kind"] == "firewall"]
    assert rule["wanted"] is wanted
    # Listed either way, so state=absent removes a rule an earlier converge made.


ADMINS, SYSTEM, USERS = "S-1-5-32-544", "S-1-5-18", "S-1-5-32-545"


def _readers(artifacts: list[dict[str, Any]], path: str) -> set[str]:
    """Who has any right on PATH: its own entries and those inherited down to the nearest protected directory."""
    by_path = {a["path"]: a for a in artifacts if "path" in a}
    readers: set[str] = set()
    current = PureWindowsPath(path)
    while True:
        artifact = by_path.get(str(current))
        if artifact is not None:
            readers |= {entry["user"] for entry in artifact.get("acl", [])}
            if artifact.get("protect"):
                return readers
        if current.parent == current:
            raise AssertionError(f"{path} is under no protected directory")
        current = current.parent


def test_windows_secrets_are_readable_only_by_administrators_and_their_service() -> None:
    host = Host("Windows", auth="admin:s3cret", server_host="0.0.0.0")
    artifacts = host.artifacts()
    server_env = WIN_ROOT + "\\config\\env\\server.env"
    client_env = WIN_ROOT + "\\config\\env\\client.env"
    assert _readers(artifacts, server_env) == {ADMINS, SYSTEM, "NT SERVICE\\prefect-server"}
    assert _readers(artifacts, client_env) == {ADMINS, SYSTEM, "prefect-worker"}
    assert _readers(artifacts, WIN_ROOT + "\\config\\secrets\\auth") == {ADMINS, SYSTEM}
    # config.toml and the worker instances' files hold no secrets: the services read them.
    assert _readers(artifacts, WIN_ROOT + "\\config\\config.toml") == {
        ADMINS, SYSTEM, "NT SERVICE\\prefect-server", "prefect-worker",
    }
    assert _readers(artifacts, WIN_ROOT + "\\data\\prefect.db") == {ADMINS, SYSTEM, "NT SERVICE\\prefect-server"}
    assert _readers(artifacts, WIN_ROOT + "\\worker-data\\x") == {ADMINS, SYSTEM, "prefect-worker"}
    for artifact in artifacts:
        for entry in artifact.get("acl", []):
            assert entry["rights"] in {"FullControl", "Modify", "ReadAndExecute"}
            assert entry["user"] != USERS or artifact["path"] == WIN_ROOT
    # Secret files are written by tasks with no_log (checked below for the tasks).
    assert {a["path"] for a in artifacts if a.get("secret")} == {server_env, client_env}


def test_windows_env_files_parse_with_the_launcher() -> None:
    launch = _launcher()
    host = Host("Windows", auth="admin:s3cret", secret_settings={"PREFECT_SERVER_EXTRA": "a b\\c"})
    host.variables["__prefect_auth_string"] = "admin:s3cret"  # what auth.yml sets
    templates = {a["path"]: a for a in host.artifacts() if a["kind"] == "template"}
    server = templates[WIN_ROOT + "\\config\\env\\server.env"]
    text = host.render(server["src"], **server["template_vars"])
    assert launch.parse_env(text) == {
        "PREFECT_SERVER_API_AUTH_STRING": "admin:s3cret",
        "PREFECT_SERVER_EXTRA": "a b\\c",
    }
    client = templates[WIN_ROOT + "\\config\\env\\client.env"]
    assert launch.parse_env(host.render(client["src"], **client["template_vars"])) == {
        "PREFECT_API_AUTH_STRING": "admin:s3cret",
    }
    worker = templates[WIN_ROOT + "\\config\\workers\\default-1.env"]
    env = launch.parse_env(host.render(worker["src"], **worker["template_vars"]))
    assert env["PREFECT_WORKER_POOL"] == "default"
    assert env["PREFECT_WORKER_VENV"] == WIN_ROOT + "\\app\\venvs\\3.9.1"


def test_windows_config_toml_and_wrapper() -> None:
    host = Host("Windows")
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads(host.render("config.toml.j2"))
    profile = config["profiles"][config["active"]]
    assert profile["PREFECT_SERVER_UI_STATIC_DIRECTORY"] == WIN_ROOT + "\\data\\ui"
    assert "PREFECT_API_SSL_CERT_FILE" not in profile  # the Windows store, not a PEM file
    wrapper = host.render("prefect-wrapper.cmd.j2").splitlines()
    assert wrapper[0] == "@echo off"
    assert all(line.startswith("rem") for line in wrapper[1:-1] if line)
    assert wrapper[-1] == (
        f'"{WIN_ROOT}\\app\\venvs\\3.9.1\\Scripts\\python.exe" "{WIN_ROOT}\\app\\bin\\prefect-launch.py"'
        f' --env-file "{WIN_ROOT}\\config\\env\\client.env"'
        f' -- "{WIN_ROOT}\\app\\venvs\\3.9.1\\Scripts\\prefect.exe" %*'
    )
    (envvar,) = [a for a in host.artifacts() if a["kind"] == "envvar"]
    assert envvar == {"kind": "envvar", "name": "PREFECT_PROFILES_PATH",
                      "value": WIN_ROOT + "\\config\\config.toml", "wanted": True}


def test_windows_leftover_worker_services_are_removed() -> None:
    host = Host("Windows", worker=False)
    host.variables["__prefect_windows_present_services"] = ["prefect-server", "prefect-worker-old-1"]
    services = _services(host)
    assert {n: s["wanted"] for n, s in services.items()} == {"prefect-server": True, "prefect-worker-old-1": False}
    kinds = {(a["kind"], a.get("name") or a.get("path"), a["wanted"]) for a in host.artifacts()}
    assert ("service", "prefect-worker-old-1", False) in kinds
    assert ("template", WIN_ROOT + "\\config\\workers\\old-1.env", False) in kinds


# --- Install and uninstall touch the same artifacts ----------------------------------------

SCENARIOS = [
    ("Darwin", {}),
    ("Darwin", {"scope": "user"}),
    ("Darwin", {"server_host": "0.0.0.0", "auth": "generate", "work_pools": [{"name": "etl", "instances": 2}],
                "log_dir": "/Volumes/logs"}),
    ("Darwin", {"worker": False, "purge": True}),
    ("Windows", {}),
    ("Windows", {"server_host": "0.0.0.0", "auth": "generate", "work_pools": [{"name": "etl", "instances": 2}],
                 "install_dir": "D:\\Prefect", "log_dir": "E:\\logs"}),
    ("Windows", {"server": False, "api_url": "http://prefect.example:4200/api", "purge": True}),
]


def _tasks(path: Path) -> Iterator[dict[str, Any]]:
    def walk(tasks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for task in tasks:
            yield task
            for key in ("block", "rescue", "always"):
                yield from walk(task.get(key, []))

    yield from walk(yaml.safe_load(path.read_text(encoding="utf-8")) or [])


def _kinds(expression: str) -> set[str]:
    """The artifact kinds a loop expression selects."""
    kinds = set(re.findall(r"selectattr\('kind', 'eq', '(\w+)'\)", expression))
    for group in re.findall(r"selectattr\('kind', 'in', \[([^\]]*)\]\)", expression):
        kinds |= set(re.findall(r"'(\w+)'", group))
    return kinds


def _artifact_loops(platform: str, names: list[str]) -> list[tuple[str, str, set[str], str]]:
    """(file, task, kinds, loop) for the tasks of platform/NAMES that loop over the artifacts."""
    out = []
    for name in names:
        for task in _tasks(TASKS / platform / f"{name}.yml"):
            loop = str(task.get("loop", "")) + str(task.get("ansible.windows.win_path", {}).get("elements", ""))
            if f"__prefect_{platform}_artifacts" in loop or f"__prefect_{platform}_removed_dirs" in loop:
                out.append((name, task["name"], _kinds(loop) or {"dir"}, loop))
    return out


@pytest.mark.parametrize("platform", ["darwin", "windows"])
def test_uninstall_removes_every_kind_install_creates_in_reverse_order(platform: str) -> None:
    order = _load(ROLE / "vars" / f"{platform.title() if platform == 'windows' else 'Darwin'}.yml")[
        f"__prefect_{platform}_removal_order"
    ]
    created = set()
    for _file, _task, kinds, loop in _artifact_loops(platform, ["install", "configure", "service"]):
        if "selectattr('wanted')" in loop and "rejectattr('wanted')" not in loop:
            created |= kinds
    removed_in_order: list[str] = []
    for _file, task, kinds, loop in _artifact_loops(platform, ["absent"]):
        if task.startswith("Look for"):
            continue
        assert "wanted" not in loop, f"{task}: uninstall must not skip what is no longer wanted"
        for kind in sorted(kinds, key=order.index):
            if kind not in removed_in_order:
                removed_in_order.append(kind)
    assert created <= set(order), created - set(order)
    assert set(order) <= set(removed_in_order), set(order) - set(removed_in_order)
    assert removed_in_order == order


def _under(path: str, directory: str, windows: bool) -> bool:
    pure = PureWindowsPath if windows else Path
    p, d = pure(path.lower() if windows else path), pure(directory.lower() if windows else directory)
    return p == d or d in p.parents


@pytest.mark.parametrize(("family", "params"), SCENARIOS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(SCENARIOS)])
def test_every_path_install_writes_is_removed_by_uninstall(family: str, params: dict[str, Any]) -> None:
    """Each artifact, and each path the install steps write besides them, lies in what
    state=absent removes (data directories: with purge; without it they are kept)."""
    windows = family == "Windows"
    host = Host(family, **{**params, "purge": True})
    artifacts = host.artifacts()
    removed_dirs = [a["path"] for a in artifacts if a["kind"] == "dir"]
    # A block is taken out of the file it was put in (the file is the system's).
    removed_files = [a["path"] for a in artifacts if a["kind"] in ("template", "program", "link", "block")]
    kept_without_purge = [a["path"] for a in artifacts if a["kind"] == "dir" and a.get("data")]
    written = [
        host["__prefect_requirements"], host["__prefect_target_python"], host["__prefect_uv"],
        host["__prefect_smoke_stamp"], host["__prefect_migration_stamp"], host["__prefect_auth_file"],
        host["__prefect_flows_dir"] + ("\\smoke.py" if windows else "/smoke.py"),
        host["__prefect_sqlite_file"],
    ] + [a["path"] for a in artifacts if "path" in a]
    if windows:
        written.append(host["__prefect_windows_version_stamp"])
    else:
        written.append(host["__prefect_venv"])
    for path in written:
        assert any(_under(path, d, windows) for d in removed_dirs) or path in removed_files, path
    # Without purge the data directories stay: no directory removed then may hold one.
    for artifact in artifacts:
        if artifact["kind"] == "dir" and not artifact.get("data"):
            inside = [kept for kept in kept_without_purge if _under(kept, artifact["path"], windows)]
            assert not inside, f"removing {artifact['path']} would delete kept data {inside}"
    names = [(a["kind"], a["name"]) for a in artifacts if "name" in a]
    assert len(names) == len(set(names))


def test_darwin_users_and_groups_are_listed_for_removal_only_in_system_scope() -> None:
    system = {a["kind"] for a in Host("Darwin").artifacts()}
    user = {a["kind"] for a in Host("Darwin", scope="user").artifacts()}
    assert {"user", "group"} <= system
    assert not {"user", "group"} & user


# --- The OS families' variables ---------------------------------------------------------------

# Keys one family has for its own steps (names of its own, not read by shared files).
FAMILY_ONLY = re.compile(r"^__prefect_(darwin|windows|linux|el|selinux)_")
# Shared keys proposed with macOS and Windows (flows.yml and smoke-test.yml write
# as __prefect_root_user:__prefect_root_group instead of root:root); tolerated
# as missing from the Linux families until vars/main.yml defines them.
def _family_keys(family: str) -> set[str]:
    data = yaml.safe_load((ROLE / "vars" / f"{family}.yml").read_text(encoding="utf-8"))
    return set(data)


def test_every_family_defines_every_shared_key() -> None:
    main = set(yaml.safe_load((ROLE / "vars" / "main.yml").read_text(encoding="utf-8")))
    keys = {family: _family_keys(family) for family in FAMILIES}
    # Keys of vars/main.yml a family overrides are its own business; the rest are
    # shared: the family keys vars/main.yml and the shared tasks read.
    shared = {
        key for family_keys in keys.values() for key in family_keys
        if not FAMILY_ONLY.match(key) and key not in main
    }
    for family, family_keys in keys.items():
        missing = shared - family_keys
        assert not missing, f"vars/{family}.yml lacks {sorted(missing)}"
    family_prefixed = {k for family_keys in keys.values() for k in family_keys if k.startswith("__prefect_family_")}
    assert family_prefixed <= set.intersection(*keys.values())
    assert {"__prefect_family_os_packages", "__prefect_family_system_python", "__prefect_family_nologin_shell",
            "__prefect_family_services", "__prefect_family_extras"} <= family_prefixed


@pytest.mark.parametrize("family", ["Darwin", "Windows"])
def test_the_family_defaults_of_public_parameters_stay_overridable(family: str) -> None:
    """os_packages, system_python and nologin_shell from the inventory win over the family's."""
    host = Host(family, os_packages=["mine"], system_python="/custom/python3", nologin_shell="/sbin/nologin")
    assert host["__prefect_os_packages"] == ["mine"]
    assert host["__prefect_system_python"] == "/custom/python3"
    assert host["__prefect_nologin_shell"] == "/sbin/nologin"
    assert Host(family)["__prefect_family_services"] is False


def test_platform_parameters_match_the_manifest_once_declared() -> None:
    manifest = yaml.safe_load((ROOT / "preset.yaml").read_text(encoding="utf-8"))["parameters"]
    for name, default in PLATFORM_DEFAULTS.items():
        short = name.removeprefix("prefect_")
        if short in manifest:
            assert manifest[short]["default"] == default, short


# --- The task files ------------------------------------------------------------------------------

WINDOWS_COLLECTIONS = ("ansible.windows.", "community.windows.", "chocolatey.chocolatey.")


def test_windows_modules_appear_only_in_the_windows_task_files() -> None:
    for path in sorted(ROLE.rglob("*.yml")):
        if path.parent == TASKS / "windows":
            continue
        text = path.read_text(encoding="utf-8")
        assert not any(name in text for name in WINDOWS_COLLECTIONS), path


def test_every_include_names_a_task_file_of_the_role() -> None:
    """A task file moved or renamed fails here, not in the one scenario that includes it."""
    for path in sorted(TASKS.rglob("*.yml")):
        for task in _tasks(path):
            for key in ("ansible.builtin.include_tasks", "ansible.builtin.import_tasks"):
                include = task.get(key)
                if include is None:
                    continue
                target = include["file"] if isinstance(include, dict) else include
                if "{{" in target:
                    # A choice between named files (main.yml's dispatch): each exists.
                    named = re.findall(r"'([\w/-]+\.yml)'", target)
                    for name in named:
                        assert (TASKS / name).is_file(), (path.name, name)
                    # A family's file: it exists where the family needs one (when: says so).
                    targets = [target.replace("{{ ansible_facts['os_family'] }}", family)
                               for family in ("Debian", "RedHat")]
                    assert named or any((TASKS / t).is_file() for t in targets), (path.name, target)
                    continue
                assert (TASKS / target).is_file(), (str(path.relative_to(TASKS)), target)


def _set_by_tasks() -> dict[str, str]:
    """Every fact a task sets and every result a task registers -> the file that does."""
    names: dict[str, str] = {}
    for path in sorted(TASKS.rglob("*.yml")):
        for task in _tasks(path):
            facts = task.get("ansible.builtin.set_fact")
            if isinstance(facts, dict):
                names.update({name: str(path.relative_to(ROLE)) for name in facts if name != "cacheable"})
            if "register" in task:
                names[task["register"]] = str(path.relative_to(ROLE))
    return names


def _role_variables() -> set[str]:
    return {
        name
        for path in [*sorted((ROLE / "vars").glob("*.yml")), ROLE / "defaults" / "main.yml"]
        for name in yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    }


def test_no_fact_or_registered_result_shadows_a_variable() -> None:
    """Names say what they are: what vars/ or defaults/ define is what a task sees."""
    set_by_tasks = _set_by_tasks()
    assert len(set_by_tasks) > 100  # the walk finds the role's facts at all
    assert {name: where for name, where in set_by_tasks.items() if name in _role_variables()} == {}


def test_every_internal_name_has_the_role_prefix() -> None:
    assert not [name for name in _set_by_tasks() if not name.startswith("__prefect_")]
    assert not [name for name in _role_variables() if not name.startswith(("__prefect_", "prefect_"))]


@pytest.mark.parametrize("platform", ["linux", "darwin", "windows"])
def test_includes_name_platform_files_with_their_directory(platform: str) -> None:
    """Ansible looks for an include beside the including file first: a bare X.yml in
    tasks/PLATFORM/ would hide the shared tasks/X.yml, so platform files are always
    named PLATFORM/X.yml and bare names must be shared files."""
    own = {p.name for p in (TASKS / platform).glob("*.yml")}
    for path in sorted((TASKS / platform).glob("*.yml")):
        for task in _tasks(path):
            include = task.get("ansible.builtin.include_tasks")
            if include is None:
                continue
            target = include["file"] if isinstance(include, dict) else include
            if "{{" in target:
                # A family's file (linux/packages-FAMILY.yml): one exists for some Linux family.
                targets = [target.replace("{{ ansible_facts['os_family'] }}", f) for f in ("Debian", "RedHat")]
                assert target.startswith(f"{platform}/"), (path.name, target)
                assert any((TASKS / t).is_file() for t in targets), (path.name, target)
            elif "/" in target:
                assert (TASKS / target).is_file(), (path.name, target)
            else:
                assert target not in own and (TASKS / target).is_file(), (path.name, target)


@pytest.mark.parametrize("platform", ["linux", "darwin", "windows"])
def test_tasks_that_handle_secrets_do_not_log(platform: str) -> None:
    for path in sorted((TASKS / platform).glob("*.yml")):
        for task in _tasks(path):
            text = json.dumps(task)
            secret = "selectattr('secret')" in text or "__prefect_secrets_kept" in task.get("register", "") \
                or "__prefect_secrets_fetched" in task.get("register", "")
            if secret and "rejectattr('secret')" not in text:
                assert task.get("no_log") is True, (path.name, task["name"])


@pytest.mark.ansible
def test_platform_task_files_pass_a_syntax_check(tmp_path: Path) -> None:
    """Every macOS and Windows task file, imported statically: YAML, keywords and module names."""
    files = sorted((TASKS / "darwin").glob("*.yml")) + sorted((TASKS / "windows").glob("*.yml"))
    play = [{"name": "Syntax", "hosts": "all", "gather_facts": False,
             "tasks": [{"name": f"Import {p.parent.name}/{p.name}", "ansible.builtin.import_tasks": str(p)}
                       for p in files]}]
    playbook = tmp_path / "syntax.yml"
    playbook.write_text(json.dumps(play))
    collections = link_collections([load_manifest(ROOT / "preset.yaml")], tmp_path / "collections")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1")
    result = subprocess.run(
        [find_ansible_playbook(), "-i", "localhost,", "--syntax-check", str(playbook)],
        capture_output=True, text=True, check=False, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- The launcher both platforms run --------------------------------------------------------


def test_launcher_reads_both_env_file_styles_and_names_no_value_on_errors() -> None:
    launch = _launcher()
    text = "# c\r\n\r\nA='x y'\r\nexport B=plain \r\nC=\"q\\\"d\"\r\n"
    assert launch.parse_env(text) == {"A": "x y", "B": "plain", "C": 'q"d'}
    with pytest.raises(launch.EnvFileError) as error:
        launch.parse_env("SECRET='s3cret\n", "f.env")
    assert "f.env:1" in str(error.value) and "s3cret" not in str(error.value)


def test_launcher_runs_the_command_with_the_env_and_a_bounded_log(tmp_path: Path) -> None:
    launch = _launcher()
    env_file = tmp_path / "a.env"
    env_file.write_text("PREFECT_X='from file'\n")
    log = tmp_path / "job.log"
    script = "import os, sys; print(os.environ['PREFECT_X']); print('x' * 300); sys.exit(3)"
    for _ in range(4):
        status = launch.main(["--env-file", str(env_file), "--log", str(log), "--log-max-bytes", "400",
                              "--log-backups", "2", "--", sys.executable, "-c", script])
        assert status == 3
    # The last run's first line, in the current file or the one rotated just before its output.
    assert "from file" in log.read_text() + (tmp_path / "job.log.1").read_text()
    assert sorted(p.name for p in tmp_path.glob("job.log*")) == ["job.log", "job.log.1", "job.log.2"]
    assert all(p.stat().st_size <= 400 for p in tmp_path.glob("job.log*"))
    assert launch.main(["--env-file", str(tmp_path / "missing.env"), "--", sys.executable, "-c", "0"]) == 78


def _changes_task(platform: str) -> dict[str, Any]:
    return next(
        task for task in _tasks(TASKS / platform / "configure.yml")
        if task["name"].startswith("Work out what the changes mean")
    )


@pytest.mark.parametrize(
    ("family", "services", "key"),
    [("Darwin", "__prefect_darwin_jobs", "label"), ("Windows", "__prefect_windows_services", "name")],
)
def test_what_a_converge_writes_restarts_the_services_that_read_it(family: str, services: str, key: str) -> None:
    """configure.yml's restart decision, templated as the play does, after given writes."""
    host = Host(family, work_pools=[{"name": "etl", "instances": 2}])
    platform = family.lower()
    task = _changes_task(platform)
    wanted = [s for s in host[services] if s["wanted"]]
    server = next(s[key] for s in wanted if s["kind" if family == "Windows" else "name"] == "server")
    workers = [s[key] for s in wanted if s[key] != server]
    assert len(workers) == 2

    def restarted(written: list[str], software_changed: bool = False) -> list[str]:
        results = [{"item": {"path": path}, "changed": True, "checksum": "c"} for path in written]
        host.variables[f"__prefect_{platform}_written"] = {"results": results}
        host.variables[f"__prefect_{platform}_written_secret"] = {"results": []}
        host.variables["__prefect_software_changed"] = software_changed
        for name, expression in task["vars"].items():
            host.variables[name] = host._template(expression)
        return host._template(task["ansible.builtin.set_fact"][f"__prefect_{platform}_restart"])

    assert restarted([]) == []
    assert restarted([], software_changed=True) == [server, *workers]
    assert restarted([host["__prefect_config_file"]]) == [server, *workers]
    assert restarted([host["__prefect_server_env_file"]]) == [server]
    assert restarted([host["__prefect_client_env_file"]]) == workers
