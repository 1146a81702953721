"""How fast the preset brings a host to a working Prefect, beside the plain
alternative, on fresh containers of the project's Debian 12 image.

Every figure comes from fresh containers started one after another on this
machine (never two measured things at once), so ratios compare like with
like. The preset runs the way a user runs it on a host: `preset run` inside
the host with Ansible's local connection (the tool and ansible-core come
from a bench image layer; the repository is mounted read-only at /src).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE_IMAGE = "localhost/prefect-preset-debian:bookworm"
BENCH_IMAGE = "localhost/prefect-preset-bench:bookworm"
CA = "/usr/local/share/ca-certificates/host-bundle.pem"
TOOL_VENV = "/opt/preset-tool"
TOOL_REQUIREMENTS = ["ansible-core==2.19.14", "pyyaml>=6"]
RESULTS = ROOT / "bench" / "results"


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: {result.stderr.strip()}")
    return result


def run_in(name: str, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = podman("exec", name, *cmd, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{name}: {' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
        )
    return result


def build_bench_image() -> None:
    """The base image plus a virtualenv with the tool's dependencies."""
    if podman("image", "exists", BENCH_IMAGE, check=False).returncode == 0:
        return
    name = f"bench-build-{uuid.uuid4().hex[:6]}"
    podman("run", "-d", "--name", name, BASE_IMAGE, "sleep", "infinity")
    try:
        run_in(name, "python3", "-m", "venv", TOOL_VENV)
        run_in(
            name,
            "env",
            f"PIP_CERT={CA}",
            f"{TOOL_VENV}/bin/pip",
            "install",
            "-q",
            *TOOL_REQUIREMENTS,
        )
        podman("commit", "-q", "--change", 'CMD ["/sbin/init"]', name, BENCH_IMAGE)
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)


@contextmanager
def host(systemd: bool = True) -> Iterator[str]:
    """A fresh container; with systemd booted as PID 1 when asked."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    args = ["run", "-d", "--name", name, "-v", f"{ROOT}:/src:ro"]
    if systemd:
        podman(*args, "--systemd=always", "--privileged", BENCH_IMAGE, "/sbin/init")
        deadline = time.monotonic() + 60
        while run_in(name, "systemctl", "is-system-running", check=False).stdout.strip() not in (
            "running",
            "degraded",
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: systemd did not come up")
            time.sleep(0.5)
    else:
        podman(*args, BENCH_IMAGE, "sleep", "infinity")
    try:
        yield name
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)


def preset_run(name: str, playbook: str) -> tuple[float, int]:
    """Run the preset in the host; return (seconds, changed count)."""
    start = time.monotonic()
    result = run_in(
        name,
        "env",
        "PYTHONPATH=/src/src",
        "ANSIBLE_NOCOLOR=1",
        f"{TOOL_VENV}/bin/python",
        "-m",
        "preset.cli",
        "run",
        f"/src/bench/{playbook}",
    )
    elapsed = time.monotonic() - start
    match = re.search(r"changed=(\d+)", result.stdout)
    if not match:
        raise RuntimeError(f"no play recap:\n{result.stdout[-2000:]}")
    return elapsed, int(match.group(1))


def tree_memory_kib(name: str, unit: str) -> tuple[int, int]:
    """(peak RSS, current RSS) in KiB, summed over the unit's process tree."""
    script = (
        f"pid=$(systemctl show -p MainPID --value {unit}); "
        'pids=$pid; for p in $(pgrep -P $pid); do pids="$pids $p"; done; '
        "for p in $pids; do grep -E '^(VmHWM|VmRSS):' /proc/$p/status; done"
    )
    out = run_in(name, "bash", "-c", script).stdout
    peak = sum(int(v) for v in re.findall(r"VmHWM:\s+(\d+)", out))
    rss = sum(int(v) for v in re.findall(r"VmRSS:\s+(\d+)", out))
    return peak, rss


@dataclass
class Figure:
    label: str
    unit: str
    values: list[float] = field(default_factory=list)
    note: str = ""

    def row(self) -> str:
        if not self.values:
            return f"| {self.label} | - | - | - | {self.note} |"
        med = statistics.median(self.values)
        spread = (
            f"{min(self.values):.1f} to {max(self.values):.1f}" if len(self.values) > 1 else "-"
        )
        runs = len(self.values)
        return f"| {self.label} | {med:.1f} {self.unit} | {spread} | {runs} | {self.note} |"


def measure_bare_pip() -> float:
    with host(systemd=False) as name:
        start = time.monotonic()
        run_in(
            name,
            "bash",
            "-c",
            f"python3 -m venv /tmp/v && PIP_CERT={CA} /tmp/v/bin/pip install -q prefect",
        )
        return time.monotonic() - start


def pickup_latency(name: str, runs: int) -> dict[str, float | list[float]]:
    result = run_in(
        name,
        "env",
        "PREFECT_PROFILES_PATH=/etc/prefect/config.toml",
        "PREFECT_HOME=/opt/prefect",
        "/opt/prefect/venv/bin/python",
        "/src/bench/latency.py",
        "--runs",
        str(runs),
    )
    figures: dict[str, float | list[float]] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def ratio(a: Figure, b: Figure) -> float:
    return statistics.median(a.values) / statistics.median(b.values)


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    cores = cpuinfo.count("processor\t:")
    memory = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {cores} cores, {int(memory) // 1024**2} GiB, {system}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--latency-runs", type=int, default=20, help="flow runs for pickup latency")
    args = parser.parse_args(argv)
    n = args.repeat

    log("building the bench image (once)")
    build_bench_image()

    cold_uv = Figure("Cold converge (uv, defaults, smoke flows Completed)", "s")
    bare = Figure("Bare `pip install prefect` into a venv (install only)", "s")
    cold_pip = Figure("Cold converge with `installer: pip`", "s")
    noop = Figure("No-op re-run (defaults)", "s")
    noop_always = Figure("No-op re-run with `smoke_test: always` (9 flow runs)", "s")
    to_running = Figure("Pickup latency: create_flow_run to Running", "s")
    to_completed = Figure("Pickup latency: create_flow_run to Completed", "s")
    server_mem = Figure("Server peak RSS after start", "MiB")
    worker_mem = Figure("Idle worker peak RSS after start", "MiB")
    changed_counts: list[int] = []

    for i in range(n):
        # Alternate the contenders so drifting machine load hits them alike.
        with host() as name:
            seconds, changed = preset_run(name, "site.yml")
            cold_uv.values.append(seconds)
            log(f"cold uv #{i + 1}: {seconds:.1f} s (changed={changed})")
            for key, unit, figure in [
                ("server", "prefect-server.service", server_mem),
                ("worker", "prefect-worker@default.service", worker_mem),
            ]:
                peak, _ = tree_memory_kib(name, unit)
                figure.values.append(peak / 1024)
                log(f"{key} peak RSS: {peak / 1024:.0f} MiB")
            for playbook, figure in [("site.yml", noop), ("site-always.yml", noop_always)]:
                seconds, changed = preset_run(name, playbook)
                figure.values.append(seconds)
                changed_counts.append(changed)
                log(f"no-op {playbook}: {seconds:.1f} s (changed={changed})")
            if i == 0:
                latency = pickup_latency(name, args.latency_runs)
                to_running.values = list(latency["to_running"])  # type: ignore[arg-type]
                to_completed.values = list(latency["to_completed"])  # type: ignore[arg-type]
                log(f"pickup latency: {latency['median_to_completed']:.1f} s median to Completed")
        seconds = measure_bare_pip()
        bare.values.append(seconds)
        log(f"bare pip #{i + 1}: {seconds:.1f} s")
        with host() as name:
            seconds, _ = preset_run(name, "site-pip.yml")
            cold_pip.values.append(seconds)
            log(f"cold pip #{i + 1}: {seconds:.1f} s")

    cold_uv.note = f"{ratio(cold_uv, bare):.2f}x the bare pip install (target <= 0.8x)"
    cold_pip.note = f"{ratio(cold_pip, cold_uv):.2f}x the uv converge"
    noop.note = noop_always.note = (
        f"changed={max(changed_counts)} on every re-run"
        if set(changed_counts) == {0}
        else f"changed counts {changed_counts}"
    )
    to_completed.note = f"worst {max(to_completed.values):.1f} s (target: median < 5 s)"
    to_running.note = f"worst {max(to_running.values):.1f} s"
    figures = [
        cold_uv,
        bare,
        cold_pip,
        noop,
        noop_always,
        to_running,
        to_completed,
        server_mem,
        worker_mem,
    ]

    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = "\n".join(
        [
            f"Measured {when} on {machine()}; fresh containers of {BASE_IMAGE}, one at a time.",
            "",
            "| Figure | Median | Spread (min to max) | Runs | Note |",
            "|---|---|---|---|---|",
            *(f.row() for f in figures),
        ]
    )
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(table + "\n")
    (RESULTS / "latest.json").write_text(json.dumps({f.label: f.values for f in figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
