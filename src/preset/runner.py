"""Build the ansible-playbook command line and run it on a staged playbook file."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from preset.errors import AnsibleNotFoundError

Call = Callable[[Sequence[str], Mapping[str, str]], int]
# Set for localhost as a configuration default (the lowest precedence), not as an
# extra var: an extra var would also override a task's own ansible_python_interpreter
# (the role runs its database check with the Prefect virtualenv's Python).
INTERPRETER_ENV = "ANSIBLE_PYTHON_INTERPRETER"


@dataclass(frozen=True)
class RunOptions:
    """The ansible-playbook options `preset run` passes through."""

    inventory: str | None = None
    check: bool = False
    diff: bool = False
    limit: str | None = None
    tags: str | None = None
    skip_tags: str | None = None
    extra_vars: tuple[str, ...] = ()
    verbosity: int = 0


def find_ansible_playbook(executable: str = sys.executable) -> str:
    """ansible-playbook next to the running interpreter (same venv), else from PATH."""
    sibling = Path(executable).parent / "ansible-playbook"
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return str(sibling)
    found = shutil.which("ansible-playbook")
    if found is None:
        raise AnsibleNotFoundError(
            f"ansible-playbook not found next to {executable} or on PATH; install ansible-core"
        )
    return found


def local_python(program: str, executable: str = sys.executable) -> str:
    """The Python that runs `program` (ansible-playbook), from its shebang: what
    Ansible's implicit localhost uses (ansible_playbook_python)."""
    try:
        with Path(program).open("rb") as handle:
            first = handle.readline(512).decode("utf-8", "replace")
    except OSError:
        return executable
    if not first.startswith("#!"):
        return executable
    words = first[2:].split()
    if not words:
        return executable
    if Path(words[0]).name == "env" and len(words) > 1:
        return shutil.which(words[-1]) or executable
    return words[0] if Path(words[0]).is_file() else executable


def build_argv(program: str, playbook: Path, options: RunOptions) -> list[str]:
    """The full command: localhost over the local connection unless -i is given."""
    if options.inventory is None:  # like Ansible's implicit localhost (see local_python)
        argv = [program, "-i", "localhost,", "-c", "local"]
    else:
        argv = [program, "-i", options.inventory]
    argv += ["--check"] if options.check else []
    argv += ["--diff"] if options.diff else []
    argv += ["--limit", options.limit] if options.limit is not None else []
    argv += ["--tags", options.tags] if options.tags is not None else []
    argv += ["--skip-tags", options.skip_tags] if options.skip_tags is not None else []
    for extra in options.extra_vars:
        argv += ["-e", extra]
    argv += ["-" + "v" * options.verbosity] if options.verbosity else []
    return [*argv, str(playbook)]


@contextmanager
def staged_playbook(text: str, source: Path, stderr: TextIO) -> Iterator[Path]:
    """A hidden copy next to `source` (playbook-relative paths keep working), removed after."""
    prefix = f".{source.stem}.preset-"
    try:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".yml", dir=source.parent)
    except OSError:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".yml")
        print(
            f"preset: warning: {source.parent} is not writable; running {name} instead, "
            "so paths relative to the playbook will not resolve",
            file=stderr,
        )
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        yield path
    finally:
        path.unlink(missing_ok=True)


def call(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Run argv in the foreground with `env` added to this process's environment;
    Ctrl-C reaches ansible-playbook, which stops cleanly."""
    with subprocess.Popen(list(argv), env={**os.environ, **env}) as proc:
        while True:
            try:
                code = proc.wait()
            except KeyboardInterrupt:
                continue
            return 128 - code if code < 0 else code


def run_playbook(
    text: str,
    source: Path,
    options: RunOptions,
    stderr: TextIO,
    env: Mapping[str, str] | None = None,
    program: str | None = None,
    runner: Call | None = None,
) -> int:
    """Stage the translated playbook, run ansible-playbook on it, return its exit code."""
    program = program or find_ansible_playbook()
    with staged_playbook(text, source, stderr) as staged:
        argv = build_argv(program, staged, options)
        if options.inventory is None and INTERPRETER_ENV not in os.environ:
            env = {INTERPRETER_ENV: local_python(program), **(env or {})}
        if options.verbosity:
            shown = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted((env or {}).items()))
            print(f"preset: running {shown} {shlex.join(argv)}".replace("  ", " "), file=stderr)
        return (runner or call)(argv, env or {})
