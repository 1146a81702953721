"""plugins/modules/flow_source.py against real git repositories and directories in tmp_path.

The module runs in-process (its arguments patched in, its answer read from stdout). Git
sources are a repository with a tag, a branch and commits; for credentials the same
repository is a bare one served over git's dumb HTTP protocol behind basic authentication
by molecule/fleet/git_server.py, the fleet scenario's server, from a thread of the test."""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import subprocess
import tarfile
import textwrap
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from module_harness import load_plugin, patch_module_args

fs = load_plugin("plugins/modules/flow_source.py", "prefect_flow_source")
action = load_plugin("plugins/action/flow_source.py", "prefect_action_flow_source")
git_server = load_plugin("molecule/fleet/git_server.py", "prefect_fleet_git_server")

TOKEN = "tok-3f9c1a7e5b"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}

JOBS_V1 = """\
from prefect import flow


@flow
def sync(table: str = "orders"):
    return table
"""
JOBS_V2 = JOBS_V1 + """

@flow(name="report")
def weekly(weeks: int, **options):
    return weeks
"""
PREFECT_YAML = """\
name: pipelines
build: null
pull:
  - prefect.deployments.steps.git_clone: {repository: https://example.invalid/x.git}
deployments:
  - name: nightly
    entrypoint: flows/jobs.py:sync
    work_pool: {name: etl}
    schedules: [{cron: "0 2 * * *", timezone: Europe/Berlin}]
    parameters: {table: customers}
  - name: weekly
    entrypoint: flows/jobs.py:weekly
    work_pool: {name: etl}
"""


def isolate_git(env: pytest.MonkeyPatch) -> None:
    """No user or system git configuration (credential helpers, identities) takes part."""
    env.setenv("GIT_CONFIG_NOSYSTEM", "1")
    env.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    for name, value in GIT_ENV.items():
        env.setenv(name, value)


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


class Repo:
    """A repository: v1 (annotated tag) has one flow, main a second one, branch
    feature a third file; each commit's hash is kept."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        git(root, "init", "--quiet", "--initial-branch=main")
        write(root, "flows/jobs.py", JOBS_V1)
        write(root, "prefect.yaml", PREFECT_YAML)
        git(root, "add", ".")
        git(root, "commit", "--quiet", "-m", "v1")
        git(root, "tag", "-a", "v1", "-m", "release 1")
        self.v1 = git(root, "rev-parse", "HEAD")
        write(root, "flows/jobs.py", JOBS_V2)
        git(root, "commit", "--quiet", "-am", "v2")
        self.main = git(root, "rev-parse", "HEAD")
        git(root, "checkout", "--quiet", "-b", "feature")
        write(root, "flows/extra.py", "X = 1\n")
        git(root, "add", ".")
        git(root, "commit", "--quiet", "-m", "feature")
        self.feature = git(root, "rev-parse", "HEAD")
        git(root, "checkout", "--quiet", "main")


    def copy_to(self, root: Path) -> Repo:
        copy = object.__new__(Repo)
        copy.__dict__.update(self.__dict__, root=root)
        shutil.copytree(self.root, root, symlinks=True)
        return copy


@pytest.fixture(scope="module")
def _made_once(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    with pytest.MonkeyPatch.context() as env:
        isolate_git(env)
        return Repo(tmp_path_factory.mktemp("repo") / "work")


@pytest.fixture
def repo(tmp_path: Path, _made_once: Repo) -> Repo:
    """The repository, a copy of its own for each test."""
    return _made_once.copy_to(tmp_path / "work")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str]]]:
    """Every command the module runs: its argv and the environment it adds."""
    recorded: list[tuple[list[str], dict[str, str]]] = []
    original = fs.AnsibleModule.run_command

    def recording(self: Any, args: Any, *more: Any, **kwargs: Any) -> Any:
        recorded.append(([str(a) for a in args], dict(kwargs.get("environ_update") or {})))
        return original(self, args, *more, **kwargs)

    monkeypatch.setattr(fs.AnsibleModule, "run_command", recording)
    original_here = action.Controller.run_command

    def recording_here(self: Any, args: Any, *more: Any, **kwargs: Any) -> Any:
        recorded.append(([str(a) for a in args], dict(kwargs.get("environ_update") or {})))
        return original_here(self, args, *more, **kwargs)

    monkeypatch.setattr(action.Controller, "run_command", recording_here)
    return recorded


def run(capsys: pytest.CaptureFixture[str], cache: Path, **args: Any) -> tuple[dict[str, Any], str]:
    """The module's answer, and its raw stdout."""
    with patch_module_args({"name": "pipelines", "cache_dir": str(cache), **args}), \
            pytest.raises(SystemExit):
        fs.main()
    out = capsys.readouterr().out
    return json.loads(out), out


def run_here(cache: Path, **args: Any) -> tuple[dict[str, Any], str]:
    """What the action (the role's way: in Ansible's own process) answers, and as JSON."""
    params = {"name": "pipelines", "git": "", "ref": "", "credentials": "", "path": "",
              "deployments": [], "cache_dir": str(cache), **args}
    got = action.read_on_controller(params)
    return got, json.dumps(got)


def members(archive: str) -> set[str]:
    with tarfile.open(archive) as handle:
        return {m.name.removeprefix("./") for m in handle.getmembers() if m.isfile()}


def subcommands(calls: list[tuple[list[str], dict[str, str]]]) -> list[str]:
    """The git subcommands run (after git --git-dir MIRROR)."""
    return [argv[3] if argv[1] == "--git-dir" else argv[1] for argv, _ in calls]


# --- git refs -----------------------------------------------------------------------------


def test_a_tag_resolves_to_its_commit_and_the_tree_at_that_commit_is_exported(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Repo) -> None:
    got, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="v1")
    assert "failed" not in got, got
    assert got["changed"] is False
    assert got["version"] == got["commit"] == repo.v1  # the commit, not the tag object
    export = Path(got["export"])
    assert export == tmp_path / "cache" / "code" / "pipelines" / repo.v1
    assert (export / "flows" / "jobs.py").read_text(encoding="utf-8") == JOBS_V1
    assert got["archive"] == f"{export}.tar.gz"
    assert members(got["archive"]) == {"flows/jobs.py", "prefect.yaml"}
    with tarfile.open(got["archive"]) as handle:
        jobs = handle.extractfile("flows/jobs.py")
        assert jobs is not None and jobs.read().decode() == JOBS_V1
    assert not list(export.parent.glob("*.partial")) and not list(export.parent.glob("*.tar"))


def test_a_branch_resolves_to_its_head_now(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           repo: Repo) -> None:
    got, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="feature")
    assert got["commit"] == repo.feature
    assert members(got["archive"]) == {"flows/jobs.py", "flows/extra.py", "prefect.yaml"}
    write(repo.root, "flows/later.py", "Y = 2\n")
    git(repo.root, "checkout", "--quiet", "feature")
    git(repo.root, "add", ".")
    git(repo.root, "commit", "--quiet", "-m", "later")
    again, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="feature")
    assert again["commit"] == git(repo.root, "rev-parse", "HEAD") != repo.feature
    assert (Path(again["export"]) / "flows" / "later.py").is_file()


@pytest.mark.parametrize("short", [False, True])
def test_a_commit_full_or_short_resolves_to_itself(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path, repo: Repo, short: bool) -> None:
    ref = repo.v1[:10] if short else repo.v1
    got, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref=ref)
    assert got["commit"] == got["version"] == repo.v1
    assert (Path(got["export"]) / "flows" / "jobs.py").read_text(encoding="utf-8") == JOBS_V1


def test_an_unknown_ref_fails_naming_it(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                        repo: Repo) -> None:
    got, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="v9")
    assert got["failed"] is True
    assert got["msg"] == f"{repo.root} has no tag, branch or commit 'v9'"


def test_an_unknown_commit_fails_naming_it(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           repo: Repo) -> None:
    got, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="0" * 40)
    assert got["failed"] is True
    assert got["msg"] == f"{repo.root} has no tag, branch or commit '{'0' * 40}'"


def test_a_repository_that_does_not_exist_fails_saying_git_could_not_read_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    got, _ = run(capsys, tmp_path / "cache", git=str(tmp_path / "nothing"), ref="main")
    assert got["failed"] is True
    assert got["msg"].startswith(f"git ls-remote for {tmp_path / 'nothing'} failed: ")


@pytest.mark.parametrize(
    ("args", "said"),
    [({}, "flows pipelines: give either git (with ref) or path"),
     ({"git": "x", "path": "/tmp"}, "flows pipelines: give either git (with ref) or path"),
     ({"git": "x"}, "flows pipelines: git needs ref (a tag, branch or commit)")],
)
def test_git_or_path_exactly_one_and_git_needs_a_ref(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path, args: dict[str, str],
                                                     said: str) -> None:
    got, _ = run(capsys, tmp_path / "cache", **args)
    assert got["failed"] is True and got["msg"] == said


# --- the cache ----------------------------------------------------------------------------


def test_a_full_commit_already_in_the_mirror_is_not_fetched_again(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Repo,
        calls: list[tuple[list[str], dict[str, str]]]) -> None:
    first, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref=repo.main)
    assert "fetch" in subcommands(calls)
    archive_made = Path(first["archive"]).stat().st_mtime_ns
    calls.clear()
    second, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref=repo.main)
    assert second == first
    # Only the mirror is asked whether it holds the commit: no remote, no export again.
    assert subcommands(calls) == ["cat-file"]
    assert Path(second["archive"]).stat().st_mtime_ns == archive_made


def test_a_tag_read_again_reuses_the_export_and_archive(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path, repo: Repo,
                                                        calls: list[tuple[list[str],
                                                                          dict[str, str]]]) -> None:
    run(capsys, tmp_path / "cache", git=str(repo.root), ref="v1")
    calls.clear()
    run(capsys, tmp_path / "cache", git=str(repo.root), ref="v1")
    assert "archive" not in subcommands(calls)  # the ref is asked again, the tree is not made


def test_a_lost_archive_is_made_again_from_the_mirror(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path, repo: Repo) -> None:
    first, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="v1")
    Path(first["archive"]).unlink()
    second, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="v1")
    assert members(second["archive"]) == {"flows/jobs.py", "prefect.yaml"}


def test_check_mode_reads_the_source_all_the_same_and_reports_no_change(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Repo) -> None:
    got, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="v1",
                 _ansible_check_mode=True)
    assert got["changed"] is False and got["commit"] == repo.v1
    assert Path(got["archive"]).is_file()
    assert [d["name"] for d in got["deployments"]] == ["nightly", "weekly"]


# --- deployments --------------------------------------------------------------------------


def test_prefect_yaml_is_read_when_no_deployments_are_declared(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Repo) -> None:
    got, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="main")
    assert got["from_prefect_yaml"] is True
    assert got["notes"] == [
        "prefect.yaml: pull is not run (the preset ships the code to the hosts itself)"]
    assert got["problems"] == []
    nightly, weekly = got["deployments"]
    assert nightly == {
        "name": "nightly", "entrypoint": "flows/jobs.py:sync", "work_pool": "etl",
        "work_queue": "", "parameters": {"table": "customers"}, "tags": [], "description": "",
        "schedules": [{"cron": "0 2 * * *", "timezone": "Europe/Berlin", "active": True,
                       "day_or": True}],
        "concurrency_limit": None, "job_variables": {}, "paused": False,
        "flow_name": "sync", "accepts": ["table"], "required": [], "var_kwargs": False,
        "problems": [], "index": 0,
    }
    assert (weekly["flow_name"], weekly["accepts"], weekly["required"], weekly["var_kwargs"]) == (
        "report", ["weeks"], ["weeks"], True)


def test_an_entrypoint_missing_at_that_ref_is_a_problem_of_its_deployment(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Repo) -> None:
    got, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="v1")  # no weekly yet
    nightly, weekly = got["deployments"]
    assert nightly["problems"] == []
    assert weekly["problems"] == [
        "flows pipelines deployment weekly: entrypoint 'flows/jobs.py:weekly': flows/jobs.py "
        "defines no function weekly"]
    assert weekly["flow_name"] == ""


def test_declared_deployments_win_over_prefect_yaml(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path, repo: Repo) -> None:
    declared = [{"name": "only-this", "entrypoint": "flows/jobs.py:sync", "work_pool": "etl",
                 "schedules": [{"interval": 3600}], "parameters": {"table": "x"}}]
    got, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="main",
                 deployments=declared)
    assert got["from_prefect_yaml"] is False and got["notes"] == []
    assert [d["name"] for d in got["deployments"]] == ["only-this"]
    assert got["deployments"][0]["schedules"] == [{"interval": 3600.0, "active": True}]


def test_declared_deployment_problems_are_kept_with_it_or_with_the_source(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Repo) -> None:
    declared = [{"name": "bad", "entrypoint": "flows/jobs.py:sync",
                 "schedules": [{"cron": "0 99 * * *"}]},
                {"entrypoint": "flows/jobs.py:sync"}]
    got, _ = run(capsys, tmp_path / "cache", git=str(repo.root), ref="main",
                 deployments=declared)
    assert got["problems"] == ["flows pipelines: a deployment needs name and entrypoint"]
    [bad] = got["deployments"]
    assert len(bad["problems"]) == 1
    assert bad["problems"][0].startswith("flows pipelines deployment bad schedules[0]: cron")


def test_a_source_without_deployments_or_prefect_yaml_is_a_problem(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path / "src", "flows/jobs.py", JOBS_V1)
    got, _ = run(capsys, tmp_path / "cache", path=str(tmp_path / "src"))
    assert got["deployments"] == []
    assert got["problems"] == [
        "flows pipelines: declares no deployments and has no prefect.yaml"]


# --- directories --------------------------------------------------------------------------


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    write(root, "flows/jobs.py", JOBS_V2)
    write(root, "prefect.yaml", PREFECT_YAML)
    return root


def test_a_directory_is_versioned_by_its_content(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path, directory: Path) -> None:
    got, _ = run(capsys, tmp_path / "cache", path=str(directory))
    assert "failed" not in got, got
    version = got["version"]
    assert len(version) == 12 and int(version, 16) >= 0
    assert got["commit"] == ""
    assert got["export"] == str(tmp_path / "cache" / "code" / "pipelines" / version)
    assert (Path(got["export"]) / "flows" / "jobs.py").read_text(encoding="utf-8") == JOBS_V2
    assert members(got["archive"]) == {"flows/jobs.py", "prefect.yaml"}
    assert [d["flow_name"] for d in got["deployments"]] == ["sync", "report"]

    (directory / "flows" / "jobs.py").write_text(JOBS_V1, encoding="utf-8")
    changed, _ = run(capsys, tmp_path / "cache", path=str(directory))
    assert changed["version"] != version
    assert (Path(changed["export"]) / "flows" / "jobs.py").read_text(encoding="utf-8") == JOBS_V1
    assert Path(got["export"]).is_dir()  # the earlier version stays until code_versions

    (directory / "flows" / "jobs.py").write_text(JOBS_V2, encoding="utf-8")
    assert run(capsys, tmp_path / "cache", path=str(directory))[0]["version"] == version


def test_an_executable_bit_changes_the_version(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path, directory: Path) -> None:
    before = run(capsys, tmp_path / "cache", path=str(directory))[0]["version"]
    (directory / "flows" / "jobs.py").chmod(0o755)
    assert run(capsys, tmp_path / "cache", path=str(directory))[0]["version"] != before


def test_git_metadata_and_bytecode_are_not_part_of_a_directory_source(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, directory: Path) -> None:
    before = run(capsys, tmp_path / "cache", path=str(directory))[0]
    write(directory, ".git/HEAD", "ref: refs/heads/main\n")
    write(directory, "flows/__pycache__/jobs.cpython-311.pyc", "bytecode")
    write(directory, "flows/stray.pyc", "bytecode")
    write(directory, ".venv/bin/python", "#!")
    after = run(capsys, tmp_path / "cache", path=str(directory))[0]
    assert after["version"] == before["version"]
    assert members(after["archive"]) == {"flows/jobs.py", "prefect.yaml"}


def test_a_renamed_file_changes_the_version(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path, directory: Path) -> None:
    before = run(capsys, tmp_path / "cache", path=str(directory))[0]["version"]
    (directory / "flows" / "jobs.py").rename(directory / "flows" / "tasks.py")
    assert run(capsys, tmp_path / "cache", path=str(directory))[0]["version"] != before


def test_a_path_that_is_not_a_directory_fails(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    got, _ = run(capsys, tmp_path / "cache", path=str(tmp_path / "absent"))
    assert got["failed"] is True
    assert got["msg"] == (f"flows pipelines: path {tmp_path / 'absent'} is not a directory on "
                          "the controller")


# --- credentials --------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path, repo: Repo) -> Iterator[str]:
    """The repository as a bare one over dumb HTTP, behind basic auth git:TOKEN."""
    root = tmp_path / "srv"
    root.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo.root),
                    str(root / "pipelines.git")], check=True)
    git(root / "pipelines.git", "update-server-info")

    class Quiet(git_server.Handler):  # type: ignore[name-defined,misc]
        token = TOKEN

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pipelines.git"
    finally:
        server.shutdown()
        server.server_close()


def test_without_credentials_the_server_refuses(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path, served: str) -> None:
    got, _ = run(capsys, tmp_path / "cache", git=served, ref="v1")
    assert got["failed"] is True
    assert "Authentication failed" in got["msg"] or "401" in got["msg"]


def test_the_right_token_resolves_and_is_in_no_argv_and_not_in_the_result(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Repo, served: str,
        calls: list[tuple[list[str], dict[str, str]]]) -> None:
    got, out = run(capsys, tmp_path / "cache", git=served, ref="v1", credentials=TOKEN)
    assert "failed" not in got, got
    assert got["commit"] == repo.v1
    assert members(got["archive"]) == {"flows/jobs.py", "prefect.yaml"}
    basic = base64.b64encode(f"git:{TOKEN}".encode()).decode()
    remote = [(argv, env) for argv, env in calls if served in argv]
    assert {argv[3] for argv, _ in remote} == {"ls-remote", "fetch"}
    for argv, _ in calls:
        assert not any(TOKEN in a or basic in a for a in argv), argv
    for _, env in remote:  # the header reaches git through its environment only
        assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
        assert env["GIT_CONFIG_VALUE_0"] == f"Authorization: Basic {basic}"
        assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert TOKEN not in out and basic not in out


def test_user_and_token_are_sent_as_that_user(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path, served: str,
                                              calls: list[tuple[list[str],
                                                                dict[str, str]]]) -> None:
    got, _ = run(capsys, tmp_path / "cache", git=served, ref="v1", credentials=f"ci:{TOKEN}")
    assert got["failed"] is True  # the server takes user git only
    basic = base64.b64encode(f"ci:{TOKEN}".encode()).decode()
    assert any(env.get("GIT_CONFIG_VALUE_0") == f"Authorization: Basic {basic}"
               for _, env in calls)


def test_a_wrong_token_fails_with_a_message_without_the_token(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, served: str,
        calls: list[tuple[list[str], dict[str, str]]]) -> None:
    wrong = "wrong-7d1e0b2c44"
    got, out = run(capsys, tmp_path / "cache", git=served, ref="v1", credentials=wrong)
    assert got["failed"] is True
    assert got["msg"].startswith(f"git ls-remote for {served} failed: ")
    assert "Authentication failed" in got["msg"]
    assert wrong not in out
    assert base64.b64encode(f"git:{wrong}".encode()).decode() not in out
    assert not any(wrong in a for argv, _ in calls for a in argv)


# --- in Ansible's own process (plugins/action/flow_source.py) ------------------------------


def test_the_action_reads_what_the_module_reads(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path, repo: Repo) -> None:
    module, _ = run(capsys, tmp_path / "module", git=str(repo.root), ref="v1")
    here, _ = run_here(tmp_path / "here", git=str(repo.root), ref="v1")
    assert here["commit"] == module["commit"] == repo.v1
    assert here["deployments"] == module["deployments"]
    assert members(here["archive"]) == members(module["archive"])
    directory, _ = run_here(tmp_path / "dir", path=str(repo.root))
    assert directory["version"] == fs.directory_version(str(repo.root))


def test_the_action_sends_the_token_as_the_module_does_and_returns_it_nowhere(
        tmp_path: Path, repo: Repo, served: str,
        calls: list[tuple[list[str], dict[str, str]]]) -> None:
    got, out = run_here(tmp_path / "cache", git=served, ref="v1", credentials=TOKEN)
    assert "failed" not in got, got
    assert got["commit"] == repo.v1
    basic = base64.b64encode(f"git:{TOKEN}".encode()).decode()
    assert all(TOKEN not in a and basic not in a for argv, _ in calls for a in argv)
    assert any(env.get("GIT_CONFIG_VALUE_0") == f"Authorization: Basic {basic}" for _, env in calls)
    assert TOKEN not in out and basic not in out


def test_the_action_fails_a_wrong_token_naming_the_source_not_the_token(
        tmp_path: Path, served: str) -> None:
    wrong = "wrong-7d1e0b2c44"
    got, out = run_here(tmp_path / "cache", git=served, ref="v1", credentials=wrong)
    assert got["failed"] is True
    assert got["msg"].startswith(f"git ls-remote for {served} failed: ")
    assert wrong not in out
    assert base64.b64encode(f"git:{wrong}".encode()).decode() not in out


def test_the_controller_runs_commands_without_a_shell_and_names_a_failed_one() -> None:
    runner = action.Controller({})
    assert runner.run_command(["sh", "-c", "echo $X"], environ_update={"X": "1 2"})[1] == "1 2\n"
    assert runner.run_command(["git", "init", "--quiet", "--bogus"])[0] != 0
    with pytest.raises(fs.SourceError, match=r"^git init failed on the controller: "):
        runner.run_command(["git", "init", "--quiet", "--bogus"], check_rc=True)
    with pytest.raises(fs.SourceError, match="no-such-program is not installed on the controller"):
        runner.run_command(["no-such-program"])


def test_git_errors_are_stripped_of_the_credentials_before_the_module_sees_them() -> None:
    class Module:
        def __init__(self) -> None:
            self.no_log_values: set[str] = set()

        def run_command(self, args: list[str], environ_update: dict[str, str]) -> tuple:
            return 128, "", f"fatal: could not read from https://ci:{TOKEN}@host/x.git\n"

    runner = fs.Git(Module(), "https://host/x.git", f"ci:{TOKEN}", "/nonexistent")
    with pytest.raises(fs.SourceError) as raised:
        runner.run("ls-remote", "https://host/x.git")
    assert TOKEN not in str(raised.value)
    assert str(raised.value) == (
        "git ls-remote for https://host/x.git failed: fatal: could not read from "
        "https://********@host/x.git")


# --- documentation ------------------------------------------------------------------------

