"""A flow that looks for what flow code must not reach on a provisioned host:
the server's secrets and its database. Run through a worker by the tests.

It fails (raises) naming every finding, so the test sees them in the run's
state message; it returns what it scanned, so the test can check the scan
itself worked (it must find the client credentials in its own environment)."""

from __future__ import annotations

import os
from pathlib import Path

from prefect import flow

SCANNED_TREES = ("/etc", "/opt", "/var/lib")


def _readable_files(root: str):
    for directory, dirs, files in os.walk(root, onerror=lambda error: None):
        dirs[:] = [d for d in dirs if not (Path(directory) / d).is_symlink()]
        for name in files:
            path = Path(directory) / name
            if path.is_file() and os.access(path, os.R_OK):
                yield path


@flow(name="secret-probe")
def probe(secrets: list[str], forbidden_paths: list[str], client_secret: str = "") -> dict:
    findings: list[str] = []
    environment = "\0".join(f"{k}={v}" for k, v in os.environ.items())
    findings += [f"environment holds secret #{i}" for i, s in enumerate(secrets) if s in environment]
    scanned = 0
    for root in SCANNED_TREES:
        for path in _readable_files(root):
            scanned += 1
            try:
                data = Path(path).read_bytes()[:4_000_000]
            except OSError:
                continue
            findings += [f"{path} holds secret #{i}" for i, s in enumerate(secrets) if s.encode() in data]
    environs = 0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                data = (proc / "environ").read_bytes()
            except OSError:
                continue
            environs += 1
            findings += [f"/proc/{proc.name}/environ holds secret #{i}" for i, s in enumerate(secrets) if s.encode() in data]
    for path in forbidden_paths:
        try:
            with Path(path).open("rb") as handle:
                handle.read(1)
            findings.append(f"could open {path}")
        except OSError:
            pass
    if findings:
        raise RuntimeError("; ".join(findings))
    return {
        "files_scanned": scanned,
        "environs_read": environs,
        "client_secret_in_environment": bool(client_secret) and client_secret in environment,
    }
