"""The preset's speed, each figure beside its anchor measured in the same run.

Every figure comes from fresh containers of the project's Debian 12 image,
started one after another on this machine (never two measured things at
once), so the ratios compare like with like; absolute seconds move 2x with
the machine's load and the package index's latency.

- single host: `preset run` inside the host, the way a user provisions one
  (local connection; the tool and ansible-core come from a bench image layer,
  the repository is mounted read-only at /src);
- wheel: the same no-op converges with the tool as users install it: its wheel
  (`uv build --wheel`) pip-installed in the host, run from /srv/ops, where
  only the preset the wheel carries is found;
- fleet: `preset run` on this machine over podman connections to one server
  and N worker hosts (N = 1, 2, 4, 8 by default) on a network of their own:
  the cold converge, the no-op converge right after it, and (on the smallest
  fleet) one more worker host added with `--limit` to it; beside them the
  same cold run against one host, and the machine's CPU time during each;
- stock: `prefect server start` and `prefect worker start` by hand, with the
  same dependency lock, in the same kind of host.

- postgresql, upgrade: a cold converge with PostgreSQL installed by the
  preset, and an upgrade converge (3.8.8 to 3.9.1: backup, migrations,
  restart, smoke test), `preset run` inside the host as above.

    bench/run [--repeat N] [--fleet-sizes 1,2,4,8]
              [--only noop,flows,wheel,cold,latency,throughput,fleet,postgresql,upgrade]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASE_IMAGE = "localhost/prefect-preset-debian:bookworm"
BENCH_IMAGE = "localhost/prefect-preset-bench:bookworm"
CA = "/usr/local/share/ca-certificates/host-bundle.pem"
TOOL_VENV = "/opt/preset-tool"
TOOL_REQUIREMENTS = ["ansible-core==2.19.14", "pyyaml>=6"]
# The stock side installs the same lock as the preset's default release (preset.yaml).
DEFAULT_VERSION = re.search(
    r'^  version:\n(?:    .*\n)*?    default: "([0-9.]+)"', (ROOT / "preset.yaml").read_text(), re.M
).group(1)  # type: ignore[union-attr]
LOCK = f"/src/roles/prefect/files/locks/prefect-{DEFAULT_VERSION}.txt"
RESULTS = ROOT / "bench" / "results"
# The cold converge's profile: bench/callbacks/bench_profile.py writes each task's time.
PROFILE_FILE = "/tmp/bench-profile.json"
PROFILE_ENV = (
    "ANSIBLE_CALLBACK_PLUGINS=/src/bench/callbacks",
    "ANSIBLE_CALLBACKS_ENABLED=bench_profile",
    f"BENCH_PROFILE_FILE={PROFILE_FILE}",
)
PROFILE_THRESHOLD = 2.0  # seconds: the steps the profile names
FLEET_GROWTH = 2.0  # the largest fleet's converge, at most this many times the smallest's
# What each large step of a cold converge cannot go below, measured on this kind of
# machine outside the preset (../shared/environment.md and the bench's bare install).
FLOORS = {
    "Run the smoke flows": "about 3 s per run of a trivial flow through a process worker "
    "(a Python process importing Prefect); 9 runs, 3 at a time",
    "Install Prefect from the lock": "`uv pip install prefect` from a warm cache: 1.4 s, "
    "6.8 s with its bytecode compiled",
    "Migrate the database": "the migrations alone on an empty SQLite: 11.5 s",
    "Run the API server": "`prefect server start` to a healthy /api/health on a migrated "
    "database: 7 to 12 s",
}
PARTS = (
    "noop",
    "flows",
    "wheel",
    "cold",
    "latency",
    "throughput",
    "fleet",
    "postgresql",
    "upgrade",
)


# --- hosts ---------------------------------------------------------------------------------


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
def hosts(count: int = 1, systemd: bool = True, network: str = "") -> Iterator[list[str]]:
    """Fresh containers (systemd as PID 1 when asked), removed afterwards."""
    names = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    if network:
        podman("network", "create", network)
    try:
        for name in names:
            args = ["run", "-d", "--name", name, "--hostname", name, "-v", f"{ROOT}:/src:ro"]
            if network:
                args += ["--network", network]
            if systemd:
                podman(*args, "--systemd=always", "--privileged", BENCH_IMAGE, "/sbin/init")
            else:
                podman(*args, BENCH_IMAGE, "sleep", "infinity")
        for name in names if systemd else []:
            deadline = time.monotonic() + 60
            while run_in(
                name, "systemctl", "is-system-running", check=False
            ).stdout.strip() not in (
                "running",
                "degraded",
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name}: systemd did not come up")
                time.sleep(0.5)
        yield names
    finally:
        for name in names:
            podman("rm", "-f", "-t", "0", name, check=False)
        if network:
            podman("network", "rm", "-f", network, check=False)


def preset_run(name: str, playbook: str, env: tuple[str, ...] = ()) -> tuple[float, int]:
    """`preset run` inside the host; (seconds, changed count)."""
    start = time.monotonic()
    result = run_in(
        name,
        "env",
        "PYTHONPATH=/src/src",
        "ANSIBLE_NOCOLOR=1",
        *env,
        f"{TOOL_VENV}/bin/python",
        "-m",
        "preset.cli",
        "run",
        f"/src/bench/{playbook}",
    )
    elapsed = time.monotonic() - start
    return elapsed, _changed(result.stdout)


def build_wheel() -> Path:
    """The tool's wheel, built from this checkout as a release is (`uv build --wheel`)."""
    out = Path(tempfile.mkdtemp(prefix="bench-wheel-"))
    uv = shutil.which("uv") or str(ROOT / ".venv" / "bin" / "uv")
    subprocess.run(
        [uv, "build", "--quiet", "--wheel", "--out-dir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return next(out.glob("*.whl"))


def install_wheel(name: str, wheel: Path) -> None:
    """The wheel installed into the host's tool virtualenv (its dependencies are there
    already), and the benchmark's playbooks copied out of the checkout, so that the
    tool finds only the preset it carries."""
    podman("cp", str(wheel), f"{name}:/tmp/{wheel.name}")
    run_in(name, f"{TOOL_VENV}/bin/pip", "install", "-q", "--no-deps", f"/tmp/{wheel.name}")
    run_in(name, "bash", "-c", "mkdir -p /srv/ops && cp /src/bench/site*.yml /srv/ops/")


def wheel_run(name: str, playbook: str) -> tuple[float, int]:
    """`preset run` of the installed wheel inside the host, from /srv/ops; (seconds, changed)."""
    start = time.monotonic()
    result = run_in(
        name,
        "env",
        "--chdir=/srv/ops",
        "ANSIBLE_NOCOLOR=1",
        f"{TOOL_VENV}/bin/preset",
        "run",
        f"/srv/ops/{playbook}",
    )
    elapsed = time.monotonic() - start
    return elapsed, _changed(result.stdout)


def _changed(output: str) -> int:
    counts = [int(n) for n in re.findall(r"changed=(\d+)", output)]
    if not counts:
        raise RuntimeError(f"no play recap:\n{output[-2000:]}")
    return sum(counts)


def in_venv(name: str, script: str, *args: str) -> str:
    """A script of bench/ with the provisioned Prefect, as root with the client settings."""
    return run_in(
        name,
        "bash",
        "-c",
        "set -a; . /etc/prefect/client.env; set +a; "
        "PREFECT_PROFILES_PATH=/etc/prefect/config.toml PREFECT_HOME=/root/.bench "
        f"/opt/prefect/venv/bin/python /src/bench/{script} {' '.join(args)}",
    ).stdout


# --- figures -------------------------------------------------------------------------------


@dataclass
class Figure:
    label: str
    unit: str
    target: str = ""
    values: list[float] = field(default_factory=list)
    anchor: str = ""
    anchor_extra: str = ""
    verdict: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def row(self) -> str:
        if not self.values:
            return f"| {self.label} | - | - | - | {self.anchor} | {self.target} | not measured |"
        spread = (
            f"{min(self.values):.1f} to {max(self.values):.1f}" if len(self.values) > 1 else "-"
        )
        return (
            f"| {self.label} | {self.median:.1f} {self.unit} | {spread} | {len(self.values)} | "
            f"{self.anchor} | {self.target} | {self.verdict} |"
        )


def log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def measure_bare_pip() -> float:
    with hosts(systemd=False) as [name]:
        start = time.monotonic()
        run_in(
            name,
            "bash",
            "-c",
            f"python3 -m venv /tmp/v && PIP_CERT={CA} /tmp/v/bin/pip install -q prefect",
        )
        return time.monotonic() - start


def stock_throughput(runs: int, limit: int) -> float:
    """Runs per minute with `prefect server start` + `prefect worker start` by hand:
    Prefect's defaults, the same lock, SQLite, the same flow and pool limit."""
    with hosts() as [name]:
        run_in(
            name,
            "bash",
            "-c",
            f"python3 -m venv /opt/stock && PIP_CERT={CA} /opt/stock/bin/pip install -q uv && "
            f"SSL_CERT_FILE={CA} /opt/stock/bin/uv pip sync -q "
            f"--python /opt/stock/bin/python {LOCK}",
        )
        env = "PREFECT_HOME=/root/.prefect PREFECT_API_URL=http://127.0.0.1:4200/api"
        run_in(
            name,
            "bash",
            "-c",
            f"{env} systemd-run --unit stock-server -E PREFECT_HOME=/root/.prefect "
            "/opt/stock/bin/prefect server start",
        )
        _wait_health(name)
        run_in(
            name,
            "bash",
            "-c",
            f"{env} /opt/stock/bin/prefect work-pool create default --type process >/dev/null && "
            f"{env} /opt/stock/bin/prefect work-pool set-concurrency-limit default {limit} "
            ">/dev/null",
        )
        run_in(
            name,
            "bash",
            "-c",
            "systemd-run --unit stock-worker -E PREFECT_HOME=/root/.prefect "
            "-E PREFECT_API_URL=http://127.0.0.1:4200/api "
            "/opt/stock/bin/prefect worker start --pool default",
        )
        out = run_in(
            name,
            "bash",
            "-c",
            f"{env} /opt/stock/bin/python /src/bench/throughput.py --runs {runs} "
            "--source /src/examples/flows",
        ).stdout
        return float(json.loads(out.strip().splitlines()[-1])["runs_per_minute"])


def _wait_health(name: str) -> None:
    deadline = time.monotonic() + 120
    while run_in(name, "curl", "-fs", "http://127.0.0.1:4200/api/health", check=False).returncode:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: the stock server did not answer")
        time.sleep(1)


def cpu_seconds() -> float:
    """CPU time this machine has spent busy since boot (every core, containers included)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    busy = sum(int(fields[i]) for i in (0, 1, 2, 5, 6, 7) if i < len(fields))
    return busy / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Converge:
    seconds: float
    changed: int
    cpu: float  # the machine's busy CPU seconds during the converge


def fleet_converge(
    names: list[str], groups: dict[str, list[str]], limit: str | None = None
) -> Converge:
    """`preset run` on this machine over podman connections to the hosts in `groups`."""
    inventory = {
        "all": {
            "children": {
                group: {"hosts": {member: {} for member in members}}
                for group, members in groups.items()
            },
            "vars": {
                "ansible_connection": "containers.podman.podman",
                "ansible_python_interpreter": "/usr/bin/python3",
            },
        }
    }
    workdir = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    try:
        (workdir / "inventory.json").write_text(json.dumps(inventory))
        preset = shutil.which("preset") or str(ROOT / ".venv" / "bin" / "preset")
        cpu = cpu_seconds()
        start = time.monotonic()
        result = subprocess.run(
            [
                preset,
                "run",
                str(ROOT / "bench" / "fleet.yml"),
                "-i",
                str(workdir / "inventory.json"),
                *(["--limit", limit] if limit else []),
            ],
            capture_output=True,
            text=True,
            check=False,
            env={
                **os.environ,
                "ANSIBLE_NOCOLOR": "1",
                "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
            },
        )
        elapsed = time.monotonic() - start
        cpu = cpu_seconds() - cpu
        if result.returncode != 0:
            raise RuntimeError(
                f"fleet converge failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
            )
        return Converge(elapsed, _changed(result.stdout), cpu)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


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


def cpu_note(runs: list[Converge]) -> str:
    """The machine's CPU time beside the wall time: how many cores were busy on average."""
    cpu = statistics.median(r.cpu for r in runs)
    wall = statistics.median(r.seconds for r in runs)
    return f"CPU {cpu:.0f} s, {cpu / wall:.1f} of {os.cpu_count()} cores busy"


def profile_rows(profiles: list[list[dict[str, Any]]], total: float) -> list[str]:
    """The steps of the cold converge that took PROFILE_THRESHOLD or more (median of
    the runs), with their share of the whole and their floor."""
    per_run: list[dict[str, float]] = []
    for tasks in profiles:
        sums: dict[str, float] = {}
        for task in tasks:
            sums[task["task"]] = sums.get(task["task"], 0.0) + float(task["seconds"])
        per_run.append(sums)
    names = dict.fromkeys(name for run in per_run for name in run)
    medians = {name: statistics.median(run.get(name, 0.0) for run in per_run) for name in names}
    big = [(name, seconds) for name, seconds in medians.items() if seconds >= PROFILE_THRESHOLD]
    rows = [
        f"| {name} | {seconds:.1f} s | {100 * seconds / total:.0f} % | "
        + next((floor for step, floor in FLOORS.items() if name.startswith(step)), "not measured")
        + " |"
        for name, seconds in sorted(big, key=lambda item: -item[1])
    ]
    rest = sum(medians.values()) - sum(seconds for _, seconds in big)
    small = len(names) - len(big)
    return [
        *rows,
        f"| the other {small} steps together | {rest:.1f} s | {100 * rest / total:.0f} % | |",
    ]


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


# --- the run -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument(
        "--slow-repeat",
        type=int,
        default=None,
        help="runs of the slow figures (throughput, fleet, postgresql, upgrade); default --repeat",
    )
    parser.add_argument("--latency-runs", type=int, default=20)
    parser.add_argument(
        "--fleet-sizes",
        default="1,2,4,8",
        help="worker hosts beside the server in each fleet measured (default 1,2,4,8)",
    )
    parser.add_argument("--throughput-runs", type=int, default=100)
    parser.add_argument(
        "--only", default=",".join(PARTS), help="comma-separated parts of " + ",".join(PARTS)
    )
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    if parts - set(PARTS):
        parser.error(
            f"--only takes {', '.join(PARTS)}; got {', '.join(sorted(parts - set(PARTS)))}"
        )
    try:
        sizes = sorted({int(size) for size in args.fleet_sizes.split(",")})
    except ValueError:
        parser.error(f"--fleet-sizes takes numbers separated by commas; got {args.fleet_sizes}")
    if sizes[0] < 1:
        parser.error(f"--fleet-sizes takes sizes of 1 or more; got {args.fleet_sizes}")
    n = args.repeat
    slow = n if args.slow_repeat is None else args.slow_repeat

    log("building the bench image (once)")
    build_bench_image()

    noop = Figure("No-op converge, defaults, `preset run` on the host", "s", "< 6 s")
    noop_flows = Figure(
        "No-op converge, 20 declared deployments (flows as code), `preset run` on the host",
        "s",
        "< 6 s",
    )
    cold = Figure(
        "Cold converge, defaults (server healthy, worker online, smoke test passed)",
        "s",
        "<= 1.0x bare pip",
    )
    wheel_noop = Figure(
        "No-op converge, defaults, the tool installed from its wheel inside the host", "s", "< 6 s"
    )
    wheel_flows = Figure(
        "No-op converge, 20 declared deployments, the tool installed from its wheel", "s", "< 6 s"
    )
    changed_wheel: list[int] = []
    bare = Figure("Bare `pip install prefect` into a fresh venv (install only)", "s")
    latency = Figure("Pickup latency, run created to Completed, trivial flow", "s", "median < 5 s")
    ours = Figure(
        "Runs completed per minute, preset (100 queued, pool limit 4)", "runs/min", ">= stock"
    )
    stock = Figure(
        "Runs completed per minute, stock server + worker (same lock, defaults)", "runs/min"
    )

    def fleet_figures(kind: str) -> dict[int, Figure]:
        # The target is on the largest fleet, against the smallest.
        return {
            size: Figure(
                f"Fleet converge, {kind}, 1 server + {size} worker host{'s' * (size > 1)}",
                "s",
                f"<= {FLEET_GROWTH:.1f}x N={sizes[0]}"
                if size == sizes[-1] and size > sizes[0]
                else "",
            )
            for size in sizes
        }

    fleet_cold, fleet_noop = fleet_figures("cold"), fleet_figures("no-op")
    runs_cold: dict[int, list[Converge]] = {size: [] for size in sizes}
    runs_noop: dict[int, list[Converge]] = {size: [] for size in sizes}
    added = Figure(
        f"A worker host added to the running fleet of {sizes[0]} (`--limit` to it), cold",
        "s",
        "<= 0.8x single host",
    )
    single = Figure("Single-host converge, cold, driven the same way (podman connection)", "s")
    pg_cold = Figure("Cold converge with PostgreSQL installed (postgresql_install, auth)", "s")
    upgrade = Figure("Upgrade converge, 3.8.8 to 3.9.1 (backup, migrations, smoke test)", "s")
    changed_noop: list[int] = []
    changed_flows: list[int] = []
    profiles: list[list[dict[str, Any]]] = []

    errors: list[str] = []

    def each(label: str, step: Callable[[int], None], times: int) -> None:
        # A failing step is reported with the figures, not allowed to lose them.
        for i in range(times):
            log(f"{label} #{i + 1}")
            try:
                step(i)
            except (
                RuntimeError,
                ValueError,
                KeyError,
                IndexError,
                subprocess.SubprocessError,
            ) as error:
                errors.append(f"{label} #{i + 1}: {str(error)[-1500:]}")
                log(f"FAILED: {errors[-1]}")

    if parts & {"cold", "noop", "flows", "latency", "throughput"}:

        def single_host(i: int) -> None:
            with hosts() as [name]:
                if ("cold" in parts or "noop" in parts) and i < n:
                    seconds, changed = preset_run(name, "site.yml", PROFILE_ENV)
                    cold.values.append(seconds)
                    profiles.append(json.loads(run_in(name, "cat", PROFILE_FILE).stdout))
                    log(f"cold converge: {seconds:.1f} s (changed={changed})")
                    seconds, changed = preset_run(name, "site.yml")
                    noop.values.append(seconds)
                    changed_noop.append(changed)
                    log(f"no-op converge: {seconds:.1f} s (changed={changed})")
                if "flows" in parts and i < n:
                    seconds, changed = preset_run(name, "site-flows.yml")
                    log(f"converge declaring 20 deployments: {seconds:.1f} s (changed={changed})")
                    seconds, changed = preset_run(name, "site-flows.yml")
                    noop_flows.values.append(seconds)
                    changed_flows.append(changed)
                    log(f"no-op converge, 20 deployments: {seconds:.1f} s (changed={changed})")
                if "latency" in parts and not latency.values:
                    out = json.loads(
                        in_venv(name, "latency.py", "--runs", str(args.latency_runs))
                        .strip()
                        .splitlines()[-1]
                    )
                    latency.values = list(out["to_completed"])
                    medians = out["stage_medians"].items()
                    latency.anchor_extra = ", ".join(f"{k} {v:.1f} s" for k, v in medians)
                    log(f"pickup latency: median {latency.median:.1f} s")
                if "throughput" in parts and i < slow:
                    preset_run(name, "site-throughput.yml")
                    out = json.loads(
                        in_venv(
                            name,
                            "throughput.py",
                            "--runs",
                            str(args.throughput_runs),
                            "--source",
                            "/opt/prefect/flows",
                        )
                        .strip()
                        .splitlines()[-1]
                    )
                    ours.values.append(float(out["runs_per_minute"]))
                    log(f"throughput (preset): {ours.values[-1]:.1f} runs/min")
            if "cold" in parts and i < n:
                bare.values.append(measure_bare_pip())
                log(f"bare pip: {bare.values[-1]:.1f} s")
            if "throughput" in parts and i < slow:
                stock.values.append(stock_throughput(args.throughput_runs, 4))
                log(f"throughput (stock): {stock.values[-1]:.1f} runs/min")

        each("single host", single_host, max(n, slow) if "throughput" in parts else n)

    if "wheel" in parts:
        wheel = build_wheel()

        def wheel_step(_i: int) -> None:
            # As users run it: pip-installed, no checkout on the search path.
            with hosts() as [name]:
                install_wheel(name, wheel)
                wheel_run(name, "site.yml")
                seconds, changed = wheel_run(name, "site.yml")
                wheel_noop.values.append(seconds)
                changed_wheel.append(changed)
                log(f"no-op converge (wheel): {seconds:.1f} s (changed={changed})")
                wheel_run(name, "site-flows.yml")
                seconds, changed = wheel_run(name, "site-flows.yml")
                wheel_flows.values.append(seconds)
                changed_wheel.append(changed)
                log(f"no-op converge, 20 deployments (wheel): {seconds:.1f} s (changed={changed})")

        each("wheel", wheel_step, n)
        shutil.rmtree(wheel.parent, ignore_errors=True)

    if "postgresql" in parts:

        def postgresql_step(_i: int) -> None:
            with hosts() as [name]:
                seconds, _ = preset_run(name, "site-postgresql.yml")
                pg_cold.values.append(seconds)
                log(f"cold converge with PostgreSQL: {seconds:.1f} s")

        each("postgresql", postgresql_step, slow)

    if "upgrade" in parts:

        def upgrade_step(_i: int) -> None:
            with hosts() as [name]:
                preset_run(name, "site-previous.yml")
                seconds, _ = preset_run(name, "site.yml")
                upgrade.values.append(seconds)
                log(f"upgrade converge: {seconds:.1f} s")

        each("upgrade", upgrade_step, slow)

    if "fleet" in parts:

        def fleet_size_step(size: int, _i: int) -> None:
            # The smallest fleet gets one host more, started beside it but left out of
            # the inventory until it is added with --limit to it.
            extra = 1 if size == sizes[0] else 0
            with hosts(1 + size + extra, network=f"bench-{uuid.uuid4().hex[:6]}") as names:
                server, workers = names[:1], names[1 : 1 + size]
                groups = {"prefect_server": server, "prefect_workers": workers}
                run = fleet_converge(names, groups)
                fleet_cold[size].values.append(run.seconds)
                runs_cold[size].append(run)
                log(f"fleet of {size}, cold: {run.seconds:.1f} s, CPU {run.cpu:.0f} s")
                run = fleet_converge(names, groups)
                fleet_noop[size].values.append(run.seconds)
                runs_noop[size].append(run)
                log(f"fleet of {size}, no-op: {run.seconds:.1f} s, changed={run.changed}")
                if extra:
                    new = names[-1]
                    groups = {"prefect_server": server, "prefect_workers": [*workers, new]}
                    run = fleet_converge(names, groups, limit=new)
                    added.values.append(run.seconds)
                    log(f"worker host added with --limit: {run.seconds:.1f} s")

        def single_step(_i: int) -> None:
            with hosts(1) as names:
                run = fleet_converge(names, {"prefect_server": names, "prefect_workers": names})
                single.values.append(run.seconds)
                log(f"single-host cold converge (same driver): {run.seconds:.1f} s")

        for size in sizes:
            each(f"fleet of {size}", partial(fleet_size_step, size), slow)
        each("single host, same driver", single_step, slow)

    def settle_noop(figure: Figure, changed: list[int], beside: str = "") -> None:
        # A no-op converge counts only when it changed nothing.
        figure.anchor = (
            "changed=0 on every re-run" if set(changed) == {0} else f"changed counts {changed}"
        ) + beside
        figure.verdict = verdict(figure.median < 6 and set(changed) == {0})

    if noop.values:
        settle_noop(noop, changed_noop)
    if noop_flows.values:
        settle_noop(
            noop_flows,
            changed_flows,
            f"; {noop_flows.median - noop.median:+.1f} s over the no-op without them"
            if noop.values
            else "",
        )
    for figure, of in ((wheel_noop, noop), (wheel_flows, noop_flows)):
        if figure.values:
            settle_noop(
                figure,
                changed_wheel,
                f"; {figure.median - of.median:+.1f} s over the same from the checkout"
                if of.values
                else "",
            )
    if cold.values and bare.values:
        cold.anchor = f"{cold.median / bare.median:.2f}x the bare pip install ({bare.median:.1f} s)"
        cold.verdict = verdict(cold.median <= bare.median)
    if latency.values:
        latency.anchor = f"worst {max(latency.values):.1f} s; stage medians: {latency.anchor_extra}"
        latency.verdict = verdict(latency.median < 5)
    if ours.values and stock.values:
        ours.anchor = f"{ours.median / stock.median:.2f}x stock ({stock.median:.1f} runs/min)"
        ours.verdict = verdict(ours.median >= stock.median)
    base = sizes[0]
    for size in sizes:
        for figures_of, runs in ((fleet_cold, runs_cold), (fleet_noop, runs_noop)):
            figure, first = figures_of[size], figures_of[base]
            if not figure.values:
                continue
            ratio = (
                f"{figure.median / first.median:.2f}x N={base}; "
                if size > base and first.values
                else ""
            )
            figure.anchor = ratio + cpu_note(runs[size])
            if figure.target and first.values:
                figure.verdict = verdict(figure.median <= FLEET_GROWTH * first.median)
        changed = [run.changed for run in runs_noop[size]]
        if changed and set(changed) != {0}:
            fleet_noop[size].anchor += f"; changed counts {changed}"
            fleet_noop[size].verdict = "**not a no-op**"
    if added.values and single.values:
        added.anchor = f"{added.median / single.median:.2f}x one host ({single.median:.1f} s)"
        added.verdict = verdict(added.median <= 0.8 * single.median)
    if pg_cold.values and cold.values:
        pg_cold.anchor = f"{pg_cold.median / cold.median:.2f}x the SQLite cold converge"
    if upgrade.values and cold.values:
        upgrade.anchor = f"{upgrade.median / cold.median:.2f}x the cold converge"
    figures = [
        f
        for f in (
            noop,
            noop_flows,
            wheel_noop,
            wheel_flows,
            cold,
            bare,
            latency,
            ours,
            stock,
            *fleet_cold.values(),
            *fleet_noop.values(),
            added,
            single,
            pg_cold,
            upgrade,
        )
        if f.values
    ]

    now = datetime.now(timezone.utc)
    when = now.strftime("%Y-%m-%d %H:%M UTC")
    table = "\n".join(
        [
            f"Measured {when} with `bench/run --repeat {n}"
            + (f" --slow-repeat {slow}" if slow != n else "")
            + (f" --only {args.only}" if parts != set(PARTS) else "")
            + f"` on {machine()};",
            f"fresh containers of {BASE_IMAGE}, one measured thing at a time.",
            "",
            "| Figure | Median | Spread | Runs | Beside it, same run | Target | |",
            "|---|---|---|---|---|---|---|",
            *(f.row() for f in figures),
            *(
                [
                    "",
                    f"Where the cold converge's time goes (medians of {len(profiles)} runs, "
                    f"steps of {PROFILE_THRESHOLD:.0f} s or more):",
                    "",
                    "| Step | Median | Share | Its floor |",
                    "|---|---|---|---|",
                    *profile_rows(profiles, cold.median),
                ]
                if profiles
                else []
            ),
            *(["", "Failed steps (their figures are missing above):", ""] if errors else []),
            *(f"- {error}" for error in errors),
        ]
    )
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(table + "\n")
    # Kept beside the latest: a run of some parts does not erase the others' figures.
    (RESULTS / now.strftime("%Y-%m-%d-%H%M.md")).write_text(table + "\n")
    (RESULTS / "latest.json").write_text(json.dumps({f.label: f.values for f in figures}, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
