"""Unit tests for plugins/modules/host_info.py.

main() runs through AnsibleModule on a fake install_dir in tmp_path; systemctl,
dpkg-query and the system Python are answered by a fake run_command, and the
presence of /run/systemd/system and /etc/systemd/system's links are patched.
"""

import grp
import hashlib
import json
import os
import pwd
from pathlib import Path
from unittest import mock

import pytest
import yaml

from module_harness import load_plugin, patch_module_args

ROOT = Path(__file__).resolve().parents[3]
hi = load_plugin("plugins/modules/host_info.py", "prefect_host_info")

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name

SYSTEMCTL_SHOW = """\
Id=prefect-server.service
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=enabled
ActiveEnterTimestampMonotonic=123456789

Id=prefect-worker@default-1.service
LoadState=loaded
ActiveState=failed
SubState=failed
UnitFileState=enabled
ActiveEnterTimestampMonotonic=0

Id=prefect-worker@gone-1.service
LoadState=not-found
ActiveState=inactive
SubState=dead
UnitFileState=
ActiveEnterTimestampMonotonic=0

Id=prefect-worker@etl-2.service
LoadState=loaded
ActiveState=inactive
SubState=dead
UnitFileState=disabled
ActiveEnterTimestampMonotonic=
"""

DPKG_SHOW = """\
python3 installed
python3-venv not-installed
postgresql config-files
"""


class Commands:
    """A fake run_command: answers by program name, records argv."""

    def __init__(self, systemctl=(0, SYSTEMCTL_SHOW, ""), dpkg=(1, DPKG_SHOW,
                 "dpkg-query: no packages found matching nosuch\n"), python=(0, "3.11\n", ""),
                 rpm=(1, "python3.12\npackage postgresql-server is not installed\n", "")):
        self.answers = {"systemctl": systemctl, "dpkg-query": dpkg, "python": python, "rpm": rpm}
        self.runs = []

    def __call__(self, args, **kw):
        self.runs.append(list(args))
        prog = Path(args[0]).name
        if prog.startswith("python"):
            prog = "python"
        return self.answers[prog]


BINS = {"systemctl": "/usr/bin/systemctl", "dpkg-query": "/usr/bin/dpkg-query"}


def module_class(commands, bins=BINS):
    class Module(hi.AnsibleModule):
        def get_bin_path(self, arg, required=False, opt_dirs=None):
            return bins.get(arg)

        def run_command(self, args, **kw):
            return commands(args, **kw)

    return Module


def fake_systemd(tmp_path, running=True, enabled=()):
    """Patch /run/systemd/system's presence and the /etc/systemd/system wants links."""
    etc = tmp_path / "etc-systemd-system"
    for wants, instance in enabled:
        (etc / wants).mkdir(parents=True, exist_ok=True)
        (etc / wants / f"prefect-worker@{instance}.service").symlink_to(
            "/etc/systemd/system/prefect-worker@.service")
    real_isdir, real_glob = os.path.isdir, hi.glob.glob

    def isdir(path):
        if path == "/run/systemd/system":
            return running
        return real_isdir(path)

    def glob(pattern, *a, **kw):
        if pattern.startswith("/etc/systemd/system/"):
            pattern = str(etc) + pattern[len("/etc/systemd/system"):]
        return real_glob(pattern, *a, **kw)

    return mock.patch.object(os.path, "isdir", isdir), mock.patch.object(hi.glob, "glob", glob)


def run_main(tmp_path, capsys, commands=None, running=True, enabled=(), bins=BINS, **args):
    commands = commands or Commands()
    args = {"install_dir": str(tmp_path / "opt"), **args}
    patch_isdir, patch_glob = fake_systemd(tmp_path, running, enabled)
    with (patch_module_args(args), mock.patch.object(hi, "AnsibleModule",
                                                     module_class(commands, bins)),
          patch_isdir, patch_glob, pytest.raises(SystemExit) as exc):
        hi.main()
    res = json.loads(capsys.readouterr().out)
    assert exc.value.code == 0, res
    assert res["changed"] is False
    return res


def make_venv(base, version="3.8.8", python="python3.11"):
    site = base / "lib" / python / "site-packages"
    (site / f"prefect-{version}.dist-info").mkdir(parents=True)
    (site / "prefect_aws-0.5.0.dist-info").mkdir()
    (site / "prefect").mkdir()
    return base


# --- install_dir

def test_active_venv_link(tmp_path, capsys):
    opt = tmp_path / "opt"
    make_venv(opt / "venvs" / "3.8.8")
    make_venv(opt / "venvs" / "3.7.8")
    (opt / "venvs" / "stray-file").write_text("x")
    (opt / "venv").symlink_to(opt / "venvs" / "3.8.8")
    res = run_main(tmp_path, capsys)
    assert res["installed_version"] == "3.8.8"
    assert res["legacy_venv"] is False
    assert res["venvs"] == ["3.7.8", "3.8.8"]


def test_relative_venv_link(tmp_path, capsys):
    opt = tmp_path / "opt"
    make_venv(opt / "venvs" / "3.8.8")
    (opt / "venv").symlink_to("venvs/3.8.8")
    res = run_main(tmp_path, capsys)
    assert res["installed_version"] == "3.8.8" and res["legacy_venv"] is False
    assert res["venvs"] == ["3.8.8"]


def test_legacy_venv_directory(tmp_path, capsys):
    opt = tmp_path / "opt"
    make_venv(opt / "venv", version="3.4.1", python="python3.9")
    res = run_main(tmp_path, capsys)
    assert res["installed_version"] == "3.4.1"
    assert res["legacy_venv"] is True
    assert res["venvs"] == []


def test_nothing_installed(tmp_path, capsys):
    res = run_main(tmp_path, capsys)
    assert res["installed_version"] == "" and res["legacy_venv"] is False
    assert res["venvs"] == []


def test_broken_venv_link(tmp_path, capsys):
    opt = tmp_path / "opt"
    opt.mkdir()
    (opt / "venv").symlink_to(opt / "venvs" / "9.9.9")
    res = run_main(tmp_path, capsys, files=[str(opt / "venv")])
    assert res["installed_version"] == "" and res["legacy_venv"] is False
    assert res["files"][str(opt / "venv")]["type"] == "link"


def test_prefect_version_ignores_other_dists(tmp_path):
    site = tmp_path / "lib" / "python3.12" / "site-packages"
    (site / "prefect_aws-0.5.0.dist-info").mkdir(parents=True)
    (site / "prefect-client-3.0.0.dist-info").mkdir()
    assert hi.prefect_version(str(tmp_path)) == ""
    (site / "prefect-3.8.8rc1.dist-info").mkdir()
    assert hi.prefect_version(str(tmp_path)) == "3.8.8rc1"


# --- files, stamps, listings

def test_files(tmp_path, capsys):
    d = tmp_path / "etc"
    d.mkdir()
    f = d / "config.toml"
    f.write_bytes(b"[server]\nport = 4200\n")
    f.chmod(0o640)
    link = d / "link"
    link.symlink_to("config.toml")
    sub = d / "sub"
    sub.mkdir(mode=0o750)
    sub.chmod(0o750)
    missing = d / "missing"
    paths = [str(p) for p in (f, link, sub, missing)]
    res = run_main(tmp_path, capsys, files=paths)
    files = res["files"]
    assert files[str(f)] == {
        "exists": True, "type": "file", "owner": USER, "group": GROUP, "mode": "0640",
        "size": 21, "checksum": hashlib.sha1(b"[server]\nport = 4200\n").hexdigest()}
    assert files[str(link)]["type"] == "link"
    assert files[str(link)]["target"] == "config.toml"
    assert "checksum" not in files[str(link)]
    assert files[str(sub)] == {"exists": True, "type": "directory", "owner": USER,
                               "group": GROUP, "mode": "0750"}
    assert files[str(missing)] == {"exists": False}


def test_stat_only_files_are_never_read(tmp_path, capsys, monkeypatch):
    db = tmp_path / "prefect.db"
    db.write_bytes(b"SQLite format 3\0")
    db.chmod(0o600)
    both = tmp_path / "config.toml"
    both.write_bytes(b"x")
    read = []
    real_sha1 = hi.sha1
    monkeypatch.setattr(hi, "sha1", lambda path: read.append(path) or real_sha1(path))
    res = run_main(tmp_path, capsys, files=[str(both)], stat_only=[str(db), str(both)])
    assert res["files"][str(db)] == {"exists": True, "type": "file", "owner": USER,
                                     "group": GROUP, "mode": "0600", "size": 16}
    assert res["files"][str(both)]["checksum"] == hashlib.sha1(b"x").hexdigest()
    assert read == [str(both)]


def test_describe_special_modes_and_unknown_owner(tmp_path):
    f = tmp_path / "x"
    f.write_text("")
    f.chmod(0o4755)
    assert hi.describe(str(f))["mode"] == "4755"
    with (mock.patch.object(hi.pwd, "getpwuid", side_effect=KeyError),
          mock.patch.object(hi.grp, "getgrgid", side_effect=KeyError)):
        info = hi.describe(str(f))
    assert info["owner"] == str(os.getuid()) and info["group"] == str(os.getgid())


def test_sha1_of_a_large_file(tmp_path):
    data = os.urandom(200_000)
    (tmp_path / "big").write_bytes(data)
    assert hi.sha1(str(tmp_path / "big")) == hashlib.sha1(data).hexdigest()


def test_stamps(tmp_path, capsys):
    (tmp_path / "smoke-passed").write_text("abc123\n")
    (tmp_path / "big").write_bytes(b"x" * 70000)
    (tmp_path / "latin").write_bytes(b"caf\xe9")
    paths = [str(tmp_path / n) for n in ("smoke-passed", "missing", "big", "latin")]
    res = run_main(tmp_path, capsys, stamps=[*paths, str(tmp_path)])
    stamps = res["stamps"]
    assert stamps[paths[0]] == "abc123\n"
    assert stamps[paths[1]] == ""
    assert stamps[paths[2]] == "x" * 65536
    assert stamps[paths[3]] == "caf\ufffd"
    assert stamps[str(tmp_path)] == ""  # a directory reads as empty


def test_listings(tmp_path, capsys):
    d = tmp_path / "workers"
    d.mkdir()
    for name in ("b.env", "a.env", ".hidden"):
        (d / name).write_text("")
    res = run_main(tmp_path, capsys, listings=[str(d), str(tmp_path / "none")])
    assert res["listings"] == {str(d): [".hidden", "a.env", "b.env"],
                               str(tmp_path / "none"): []}


# --- users

def test_users(tmp_path, capsys):
    res = run_main(tmp_path, capsys, users=["root", USER, "no-such-user-xyz"])
    root = pwd.getpwnam("root")
    assert res["users"]["root"] == {"uid": 0, "group": grp.getgrgid(root.pw_gid).gr_name,
                                    "home": root.pw_dir, "shell": root.pw_shell}
    assert "no-such-user-xyz" not in res["users"]
    assert res["users"][USER]["uid"] == os.getuid()


# --- packages

def test_packages_via_dpkg_query(tmp_path, capsys):
    commands = Commands()
    res = run_main(tmp_path, capsys, commands=commands,
                   packages=["python3", "python3-venv", "postgresql", "nosuch"])
    assert res["packages"] == {"python3": True, "python3-venv": False, "postgresql": False,
                               "nosuch": False}
    dpkg = next(r for r in commands.runs if r[0] == "/usr/bin/dpkg-query")
    assert dpkg == ["/usr/bin/dpkg-query", "--show", "--showformat",
                    "${Package} ${db:Status-Status}\n",
                    "python3", "python3-venv", "postgresql", "nosuch"]


def test_no_packages_or_no_dpkg_runs_nothing(tmp_path, capsys):
    commands = Commands()
    res = run_main(tmp_path, capsys, commands=commands)
    assert res["packages"] == {}
    res = run_main(tmp_path, capsys, commands=commands, bins={}, packages=["python3"])
    assert res["packages"] == {}
    assert not any("dpkg-query" in r[0] for r in commands.runs)


def test_packages_via_rpm_where_there_is_no_dpkg(tmp_path, capsys):
    commands = Commands()
    res = run_main(tmp_path, capsys, commands=commands, bins={"rpm": "/usr/bin/rpm"},
                   packages=["python3.12", "postgresql-server"])
    assert res["packages"] == {"python3.12": True, "postgresql-server": False}
    rpm = next(r for r in commands.runs if r[0] == "/usr/bin/rpm")
    assert rpm == ["/usr/bin/rpm", "-q", "--queryformat", "%{NAME}\n", "python3.12", "postgresql-server"]


# --- units

def test_unit_states(tmp_path, capsys):
    commands = Commands()
    patterns = ["prefect-server.service", "prefect-worker@*.service"]
    res = run_main(tmp_path, capsys, commands=commands, unit_patterns=patterns)
    assert res["systemd"] is True
    assert res["units"] == {
        "prefect-server.service": {"load": "loaded", "active": "active", "sub": "running",
                                   "enabled": "enabled",
                                   "active_since_monotonic_us": 123456789},
        "prefect-worker@default-1.service": {"load": "loaded", "active": "failed",
                                             "sub": "failed", "enabled": "enabled",
                                             "active_since_monotonic_us": 0},
        "prefect-worker@etl-2.service": {"load": "loaded", "active": "inactive", "sub": "dead",
                                         "enabled": "disabled",
                                         "active_since_monotonic_us": 0},
    }
    (systemctl,) = [r for r in commands.runs if r[0] == "/usr/bin/systemctl"]
    assert systemctl == ["/usr/bin/systemctl", "show", "--all", "--property",
                         ",".join(hi.UNIT_PROPERTIES), "--", *patterns]


@pytest.mark.parametrize("case", ["no systemd", "no patterns", "no systemctl", "fails"])
def test_unit_states_empty(tmp_path, capsys, case):
    commands = Commands(systemctl=(1, "", "Failed to connect to bus") if case == "fails"
                        else (0, SYSTEMCTL_SHOW, ""))
    res = run_main(tmp_path, capsys, commands=commands, running=case != "no systemd",
                   bins={} if case == "no systemctl" else BINS,
                   unit_patterns=[] if case == "no patterns" else ["prefect-server.service"])
    assert res["units"] == {}
    assert res["systemd"] is (case != "no systemd")
    ran = any(r[0].endswith("systemctl") for r in commands.runs)
    assert ran is (case == "fails")


def test_unit_states_values_with_equals_and_missing_properties(tmp_path):
    module = mock.Mock()
    module.get_bin_path.return_value = "/bin/systemctl"
    module.run_command.return_value = (0, "Id=a.service\nLoadState=loaded\nSubState=x=y\n", "")
    with mock.patch.object(os.path, "isdir", return_value=True):
        units = hi.unit_states(module, ["a.service"])
    assert units["a.service"]["sub"] == "x=y"
    assert units["a.service"]["active"] == "" and units["a.service"]["enabled"] == ""


def test_enabled_worker_instances(tmp_path, capsys):
    enabled = [("multi-user.target.wants", "default-1"), ("multi-user.target.wants", "etl-2"),
               ("default.target.wants", "default-1")]
    res = run_main(tmp_path, capsys, enabled=enabled)
    assert res["enabled_worker_instances"] == ["default-1", "etl-2"]


# --- python

def test_python_version(tmp_path, capsys):
    python = tmp_path / "python3"
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    commands = Commands(python=(0, "3.11\n", ""))
    res = run_main(tmp_path, capsys, commands=commands, python=str(python))
    assert res["python_version"] == "3.11"
    assert commands.runs[0] == [str(python), "-c",
                                "import sys; print('%d.%d' % sys.version_info[:2])"]


def test_python_version_empty_when_it_does_not_run(tmp_path, capsys):
    python = tmp_path / "python3"
    python.write_text("")
    python.chmod(0o644)  # not executable
    commands = Commands()
    res = run_main(tmp_path, capsys, commands=commands, python=str(python))
    assert res["python_version"] == ""
    assert commands.runs == []
    python.chmod(0o755)
    res = run_main(tmp_path, capsys, commands=Commands(python=(127, "", "bad interpreter")),
                   python=str(python))
    assert res["python_version"] == ""


def test_pythons_report_each_candidates_version_or_empty(tmp_path, capsys):
    present = tmp_path / "python3.12"
    present.write_text("#!/bin/sh\n")
    present.chmod(0o755)
    missing = tmp_path / "python3.99"
    commands = Commands(python=(0, "3.12\n", ""))
    res = run_main(tmp_path, capsys, commands=commands, pythons=[str(present), str(missing)])
    assert res["pythons"] == {str(present): "3.12", str(missing): ""}
    assert str(missing) not in [run[0] for run in commands.runs]


def test_space_describes_the_nearest_existing_parent(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    res = run_main(tmp_path, capsys, space=[str(data), str(data / "backups" / "deeper")])
    here, below = res["space"][str(data)], res["space"][str(data / "backups" / "deeper")]
    assert here["measured"] == below["measured"] == str(data)
    fs = os.statvfs(data)
    assert abs(here["free"] - fs.f_bavail * fs.f_frsize) < 64 << 20  # the disk moves a little
    assert here["device"] == data.stat().st_dev


def test_never_changed_even_in_check_mode(tmp_path, capsys):
    res = run_main(tmp_path, capsys, _ansible_check_mode=True, files=[str(tmp_path)])
    assert res["changed"] is False


# --- RETURN against a real run (test_documentation.py checks the rest)

RETURN = yaml.safe_load(hi.RETURN)


def test_return_documents_every_returned_key(tmp_path, capsys):
    res = run_main(tmp_path, capsys)
    returned = set(res) - {"changed", "invocation"}
    assert returned == set(RETURN)
    for entry in RETURN.values():
        assert entry["description"] and entry["type"] and entry["returned"]


def test_return_names_the_unit_keys():
    description = RETURN["units"]["description"]
    for key in ("load", "active", "sub", "enabled", "active_since_monotonic_us"):
        assert key in description, key

