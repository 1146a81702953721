"""plugins/filter/darwin_artifacts.py and windows_artifacts.py on plain data.

tests/unit/role/test_platforms.py renders the same lists through ansible-core from
the vars files and parses what they produce; these tests pin the rules themselves."""

from __future__ import annotations

from typing import Any

from module_harness import load_plugin

da = load_plugin("plugins/filter/darwin_artifacts.py", "prefect_filter_darwin_artifacts")
wa = load_plugin("plugins/filter/windows_artifacts.py", "prefect_filter_windows_artifacts")

HOME = "/Users/ada"


def darwin_host(system: bool = True, **changes: Any) -> dict[str, Any]:
    if system:
        dirs = {
            "install": "/opt/prefect",
            "config": "/etc/prefect",
            "data": "/var/lib/prefect",
            "worker_data": "/var/lib/prefect-worker",
            "logs": "/var/log/prefect",
        }
    else:
        dot = f"{HOME}/.prefect"
        dirs = {
            "install": f"{HOME}/Library/Prefect",
            "config": dot,
            "data": dot,
            "worker_data": dot,
            "logs": f"{HOME}/Library/Logs/Prefect",
        }
    install = dirs["install"]
    host: dict[str, Any] = {
        "system": system,
        "server": True,
        "worker": True,
        "root": ["root", "wheel"],
        "users": {"server": ["prefect", "prefect"], "worker": ["prefect-flows", "prefect-flows"]},
        "dirs": dirs,
        "venvs_dir": f"{install}/venvs",
        "bin_dir": f"{install}/bin",
        "flows_dir": f"{install}/flows",
        "secrets_dir": f"{dirs['config']}/secrets",
        "worker_env_dir": f"{dirs['config']}/workers",
        "launcher": f"{install}/bin/prefect-launch",
        "venv": f"{install}/venv",
        "target_venv": f"{install}/venvs/3.9.1",
        "config_file": f"{dirs['config']}/config.toml",
        "wrapper": "/usr/local/bin/prefect",
        "client_env_file": f"{dirs['config']}/client.env",
        "server_env_file": f"{dirs['config']}/server.env",
        "profile_script": "/etc/zprofile",
        "newsyslog_conf": "/etc/newsyslog.d/prefect.conf",
        "client_environment": {"PREFECT_API_AUTH_STRING": "admin:x"},
        "server_environment": {"PREFECT_SERVER_API_AUTH_STRING": "admin:x"},
        "server_label": "io.prefect.server",
        "profile_marker": "# {mark} prefect",
        "profile": "export PREFECT_PROFILES_PATH=/etc/prefect/config.toml",
    }
    host.update(changes)
    return host


JOBS = [
    {
        "label": "io.prefect.server",
        "plist": "/Library/LaunchDaemons/io.prefect.server.plist",
        "template": "prefect-server.plist.j2",
        "wanted": True,
    },
    {
        "label": "io.prefect.worker.default-1",
        "plist": "/Library/LaunchDaemons/io.prefect.worker.default-1.plist",
        "template": "prefect-worker.plist.j2",
        "env_file": "/etc/prefect/workers/default-1.env",
        "instance": {"pool": "default"},
        "wanted": True,
    },
    {
        "label": "io.prefect.worker.old-1",
        "plist": "/Library/LaunchDaemons/io.prefect.worker.old-1.plist",
        "wanted": False,
    },
]


def by_path(artifacts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a.get("path") or a["name"]: a for a in artifacts if a["kind"] != "job"}


def test_darwin_system_scope_has_accounts_and_gives_secrets_to_one_group_each() -> None:
    out = da.darwin_artifacts(JOBS, darwin_host())
    accounts = [(a["kind"], a["name"]) for a in out if a["kind"] in ("group", "user")]
    assert accounts == [
        ("group", "prefect"),
        ("group", "prefect-flows"),
        ("user", "prefect"),
        ("user", "prefect-flows"),
    ]
    files = by_path(out)
    assert (
        files["/etc/prefect/server.env"].items()
        >= {"owner": "root", "group": "prefect", "mode": "0640", "secret": True}.items()
    )
    assert files["/etc/prefect/client.env"]["group"] == "prefect-flows"
    assert files["/var/lib/prefect"]["owner"] == "prefect" and files["/var/lib/prefect"]["data"]
    assert (
        files["/etc/prefect/secrets"]["mode"] == "0700"
        and not files["/etc/prefect/secrets"]["data"]
    )
    assert "/etc/newsyslog.d/prefect.conf" in files
    assert "\nPATH=" not in files["/etc/zprofile"]["block"]


def test_darwin_user_scope_owns_nothing_and_merges_the_shared_directory() -> None:
    out = da.darwin_artifacts(JOBS, darwin_host(system=False, server=False))
    assert not [a for a in out if a["kind"] in ("group", "user")]
    assert not [a for a in out if "owner" in a or "group" in a]
    (dot,) = [a for a in out if a["kind"] == "dir" and a["path"] == f"{HOME}/.prefect"]
    # config (kept), data (server: not wanted here) and worker data: one entry, wanted and data.
    assert dot["wanted"] and dot["data"] and dot["mode"] == "0700"
    files = by_path(out)
    assert files[f"{HOME}/.prefect/client.env"]["mode"] == "0600"
    assert not files[f"{HOME}/.prefect/server.env"]["wanted"]
    assert files["/etc/zprofile"]["block"].endswith(
        f'\nPATH="{HOME}/Library/Prefect/bin:$PATH"\nexport PATH'
    )
    assert "/etc/newsyslog.d/prefect.conf" not in files


def test_darwin_jobs_come_with_their_files_and_leftovers_are_unwanted() -> None:
    out = da.darwin_artifacts(JOBS, darwin_host())
    tail = [(a["kind"], a.get("src", a.get("name")), a["wanted"]) for a in out[-7:]]
    assert tail == [
        ("template", "prefect-server.plist.j2", True),
        ("job", "io.prefect.server", True),
        ("template", "prefect-worker.env.j2", True),
        ("template", "prefect-worker.plist.j2", True),
        ("job", "io.prefect.worker.default-1", True),
        ("template", "", False),
        ("job", "io.prefect.worker.old-1", False),
    ]
    env = out[-5]
    assert (
        env["template_vars"] == {"instance": {"pool": "default"}}
        and env["group"] == "prefect-flows"
    )


WIN = "C:\\ProgramData\\prefect"


def windows_host(**changes: Any) -> dict[str, Any]:
    host: dict[str, Any] = {
        "server": True,
        "worker": True,
        "sep": "\\",
        "dirs": {
            "root": WIN,
            "install": WIN + "\\app",
            "config": WIN + "\\config",
            "env": WIN + "\\config\\env",
            "data": WIN + "\\data",
            "worker_data": WIN + "\\worker-data",
            "logs": WIN + "\\logs",
        },
        "administrators": "BUILTIN\\Administrators",
        "system": "NT AUTHORITY\\SYSTEM",
        "users": "BUILTIN\\Users",
        "server_account": "NT SERVICE\\prefect-server",
        "worker_group": "prefect-workers",
        "venvs_dir": WIN + "\\app\\venvs",
        "bin_dir": WIN + "\\app\\bin",
        "flows_dir": WIN + "\\app\\flows",
        "secrets_dir": WIN + "\\config\\secrets",
        "worker_env_dir": WIN + "\\config\\workers",
        "launcher": WIN + "\\app\\bin\\prefect-launch.py",
        "config_file": WIN + "\\config\\config.toml",
        "wrapper": WIN + "\\app\\bin\\prefect.cmd",
        "client_env_file": WIN + "\\config\\env\\client.env",
        "server_env_file": WIN + "\\config\\env\\server.env",
        "client_environment": {},
        "server_environment": {},
        "server_service": "prefect-server",
        "firewall_rule": "Prefect server",
        "server_port": 4200,
        "exposed": False,
    }
    host.update(changes)
    return host


SERVICES = [
    {
        "name": "prefect-server",
        "kind": "server",
        "account": "NT SERVICE\\prefect-server",
        "wanted": True,
    },
    {
        "name": "prefect-worker-default-1",
        "kind": "worker",
        "account": ".\\prefect-default-1",
        "env_file": WIN + "\\config\\workers\\default-1.env",
        "instance": {"pool": "default"},
        "wanted": True,
    },
    {
        "name": "prefect-worker-old-1",
        "kind": "worker",
        "account": ".\\prefect-old-1",
        "wanted": False,
    },
]


def test_windows_group_holds_the_wanted_worker_accounts_only() -> None:
    (group,) = [a for a in wa.windows_artifacts(SERVICES, windows_host()) if a["kind"] == "group"]
    assert group == {
        "kind": "group",
        "name": "prefect-workers",
        "wanted": True,
        "members": [".\\prefect-default-1"],
    }


def test_windows_secrets_are_protected_and_read_by_their_one_reader() -> None:
    files = by_path(wa.windows_artifacts(SERVICES, windows_host()))
    admin = [
        {"user": "BUILTIN\\Administrators", "rights": "FullControl"},
        {"user": "NT AUTHORITY\\SYSTEM", "rights": "FullControl"},
    ]
    assert (
        files[WIN + "\\config\\secrets"]["protect"]
        and files[WIN + "\\config\\secrets"]["acl"] == admin
    )
    assert files[WIN + "\\config\\env\\server.env"]["acl"] == [
        {"user": "NT SERVICE\\prefect-server", "rights": "ReadAndExecute"}
    ]
    assert files[WIN + "\\config\\env\\client.env"]["acl"] == [
        {"user": "prefect-workers", "rights": "ReadAndExecute"}
    ]
    assert "protect" not in files[WIN + "\\app"]  # inherits the root's ACL
    assert files[WIN + "\\logs\\server"]["acl"][-1] == {
        "user": "NT SERVICE\\prefect-server",
        "rights": "Modify",
    }


def test_windows_without_a_server_reads_no_server_secrets_and_opens_no_port() -> None:
    out = wa.windows_artifacts(SERVICES[1:], windows_host(server=False, exposed=True))
    files = by_path(out)
    assert (
        files[WIN + "\\config\\env\\server.env"]["acl"] == []
        and not files[WIN + "\\data"]["wanted"]
    )
    assert not files["Prefect server"]["wanted"]
    assert by_path(wa.windows_artifacts(SERVICES, windows_host(exposed=True)))["Prefect server"][
        "wanted"
    ]


def test_windows_services_come_with_their_env_files() -> None:
    out = wa.windows_artifacts(SERVICES, windows_host())
    assert [(a["kind"], a.get("name", a.get("path")), a["wanted"]) for a in out[-4:]] == [
        ("service", "prefect-server", True),
        ("template", WIN + "\\config\\workers\\default-1.env", True),
        ("service", "prefect-worker-default-1", True),
        ("service", "prefect-worker-old-1", False),
    ]


def test_the_filters_are_registered() -> None:
    assert da.FilterModule().filters() == {"darwin_artifacts": da.darwin_artifacts}
    assert wa.FilterModule().filters() == {"windows_artifacts": wa.windows_artifacts}
