"""Run a Prefect service with its environment files (launchd and Windows services have none).

    prefect-launch --env-file /etc/prefect/server.env [--env-file FILE ...]
                   [--log FILE [--log-max-bytes N] [--log-backups K]] -- COMMAND [ARG ...]

launchd (macOS) and NSSM (Windows) start a program with fixed arguments and have
no EnvironmentFile=. This reads each environment file in order (KEY='value'
lines as the role's prefect.env.j2 writes them, KEY=value as
prefect-worker.env.j2 does, "quoted" values, comments, blank lines, CRLF), puts
the variables into the environment and runs COMMAND with it. The files are read
as the service user: on macOS they are root:<service group> 0640, on Windows
only the service's account and Administrators may read them, so the secrets
never pass through a plist, the registry or a command line.

Without --log, on POSIX, it replaces itself with COMMAND (exec), so launchd
supervises Prefect itself. On Windows, where exec starts a new process and ends
this one (the service manager would see the service exit and restart it), and
with --log everywhere, COMMAND runs as a child: stop signals are passed on, its
output (stdout and stderr) goes to FILE, which is rotated when it would grow past
--log-max-bytes, keeping --log-backups older files (FILE.1 the newest), and this
program exits with the child's status (128+N when signal N ended it).

Errors name the file and line, never a value. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
DOUBLE_QUOTED_ESCAPED = frozenset('"\\$`')
CHUNK = 65536


class EnvFileError(Exception):
    """An environment file that cannot be read or parsed (the message names no value)."""


def parse_env(text: str, source: str = "<env>") -> dict[str, str]:
    """The variables of one environment file, in the order written."""
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if match is None:
            raise EnvFileError(f"{source}:{number}: not a NAME=value line")
        name, value = match.groups()
        env[name] = _unquote(value, f"{source}:{number}: {name}")
    return env


def _unquote(value: str, where: str) -> str:
    if value.startswith("'"):
        if len(value) < 2 or not value.endswith("'") or "'" in value[1:-1]:
            raise EnvFileError(f"{where}: the single-quoted value is not closed (or holds a quote)")
        return value[1:-1]
    if value.startswith('"'):
        return _double_quoted(value, where)
    return value.strip()


def _double_quoted(value: str, where: str) -> str:
    """As sh and systemd read "...": a backslash keeps the next of \\ " $ ` literal."""
    out: list[str] = []
    index = 1
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value) and value[index + 1] in DOUBLE_QUOTED_ESCAPED:
            out.append(value[index + 1])
            index += 2
            continue
        if char == '"':
            if value[index + 1 :].strip():
                raise EnvFileError(f"{where}: text after the double-quoted value")
            return "".join(out)
        out.append(char)
        index += 1
    raise EnvFileError(f"{where}: the double-quoted value is not closed")


def read_env_file(path: str) -> dict[str, str]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise EnvFileError(f"cannot read {path}: {error.strerror or error}") from None
    return parse_env(text, path)


class RotatingLog:
    """An append-only log file rotated by size: FILE, FILE.1 (newest) ... FILE.K."""

    def __init__(self, path: str, max_bytes: int, backups: int) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.handle: IO[bytes] = self._open()

    def _open(self) -> IO[bytes]:
        handle = self.path.open("ab")
        self.size = handle.tell()
        return handle

    def write(self, data: bytes) -> None:
        if self.max_bytes > 0 and self.size > 0 and self.size + len(data) > self.max_bytes:
            self.rotate()
        self.handle.write(data)
        self.handle.flush()
        self.size += len(data)

    def rotate(self) -> None:
        self.handle.close()
        try:
            for index in range(self.backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{index}")
                if older.exists():
                    older.replace(self.path.with_name(f"{self.path.name}.{index + 1}"))
            if self.backups > 0:
                self.path.replace(self.path.with_name(f"{self.path.name}.1"))
            else:
                self.path.unlink()
        except OSError as error:
            # Windows: a reader holds the file open. Keep writing to it and try
            # again once another max_bytes have been written.
            print(f"prefect-launch: cannot rotate {self.path}: {error}", file=sys.stderr,
                  flush=True)
            self.handle = self._open()
            self.size = 0
            return
        self.handle = self._open()

    def close(self) -> None:
        self.handle.close()


def _forward_signals(child: subprocess.Popen[bytes]) -> None:
    """Pass the service manager's stop signals on to the child."""
    if os.name == "nt":
        # Ctrl-C and Ctrl-Break reach every process of the console, the child too:
        # this program only has to outlive it. NSSM ends the process tree after its
        # stop timeouts.
        for name in ("SIGINT", "SIGBREAK"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_IGN)
        return

    def forward(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, forward)


def supervise(command: Sequence[str], env: dict[str, str], log: RotatingLog | None) -> int:
    """Run command as a child, its output to log (else inherited); its exit status."""
    try:
        child = subprocess.Popen(
            list(command),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if log else None,
            stderr=subprocess.STDOUT if log else None,
        )
    except OSError as error:
        print(f"prefect-launch: cannot run {command[0]}: {error}", file=sys.stderr, flush=True)
        return 127
    _forward_signals(child)
    if log is not None and child.stdout is not None:
        while True:
            data = child.stdout.read1(CHUNK)
            if not data:
                break
            log.write(data)
        log.close()
    status = child.wait()
    return 128 - status if status < 0 else status


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="prefect-launch", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--env-file", action="append", default=[], metavar="FILE",
                        help="environment file to load (repeatable; later files win)")
    parser.add_argument("--log", metavar="FILE", help="write the command's output here, rotated")
    parser.add_argument("--log-max-bytes", type=int, default=10 * 1024 * 1024, metavar="N",
                        help="rotate the log before it grows past N bytes (default 10 MiB)")
    parser.add_argument("--log-backups", type=int, default=5, metavar="K",
                        help="rotated files to keep (default 5)")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="-- followed by the command and its arguments")
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("no command given (put it after --)")
    if args.log_max_bytes < 0 or args.log_backups < 0:
        parser.error("--log-max-bytes and --log-backups cannot be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    env = dict(os.environ)
    try:
        for path in args.env_file:
            env.update(read_env_file(path))
    except EnvFileError as error:
        print(f"prefect-launch: {error}", file=sys.stderr, flush=True)
        return 78  # EX_CONFIG
    if args.log is None and os.name == "posix":
        try:
            os.execvpe(args.command[0], args.command, env)
        except OSError as error:
            print(f"prefect-launch: cannot run {args.command[0]}: {error}", file=sys.stderr,
                  flush=True)
            return 127
    log = None
    if args.log is not None:
        env.setdefault("PYTHONUNBUFFERED", "1")  # Prefect's lines reach the file as they happen
        try:
            log = RotatingLog(args.log, args.log_max_bytes, args.log_backups)
        except OSError as error:
            print(f"prefect-launch: cannot open {args.log}: {error}", file=sys.stderr, flush=True)
            return 73  # EX_CANTCREAT
    return supervise(args.command, env, log)


if __name__ == "__main__":
    sys.exit(main())
