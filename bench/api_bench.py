"""HTTP throughput and latency of the AgentFlow API against a bare-stack baseline, in one run.

    .venv/bin/python bench/api_bench.py                      # 3 rounds, 16 connections, 10 s each
    .venv/bin/python bench/api_bench.py --rounds 1 --duration 5 --no-write
    .venv/bin/python bench/api_bench.py --profile-dir /tmp/prof   # + py-spy pass after measuring

What it does:
1. Starts an `EmbeddedStack` (real PostgreSQL + Valkey, migrated) in a temporary data dir.
2. Starts ONE uvicorn worker serving `agentflow.app:create_app --factory` (uvloop, httptools, no
   access log, log level warning). Rate limiting stays enabled (each limited request still makes
   its Redis round trips); only the limits are raised so the load is never throttled.
3. Sets up data through the API the way a person would: sign-up (owner + org), a few invited
   members who accept, and an API key with the default scopes plus `org:read`.
4. Starts the baseline (bench/baseline_app.py: one Starlette route, one `SELECT 1` through a
   psycopg async pool on the same PostgreSQL as the same app role) with the same uvicorn flags.
5. Drives every scenario with `wrk` (a separate process, 127.0.0.1 only): a warm-up run that is
   discarded, then a measured run; rounds interleave the scenarios so drift hits all alike.
6. Prints scenario, req/s, p50, p99, worker and machine CPU, and req/s relative to the baseline
   (medians over rounds), checks the goal, and writes bench/results_api.md.

Everything started here is stopped at the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
API = "/api/v1"
PASSWORD = "bench password 123"  # noqa: S105 - throwaway account in a temp database
HIGH_LIMIT = "100000000/minute"
GOAL_RPS = 800.0
GOAL_P99_MS = 25.0
EXTRA_MEMBER_ROLES = ("admin", "editor", "viewer", "viewer")

UVICORN_FLAGS = (
    "--host",
    "127.0.0.1",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--log-level",
    "warning",
)


# --- processes -----------------------------------------------------------------------------------


class Server:
    """A uvicorn process in its own session, so it and anything it spawns can be stopped together."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], cwd: Path, log_path: Path) -> None:
        self.name = name
        self.args = list(args)
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            self.args, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- wrk -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    cpu_percent: float  # the server process, percent of one core
    machine_cpu_percent: float  # every process, percent of all cores
    background_cpu_percent: float  # the machine just before the run, servers idle
    pg_sessions_opened: int  # new PostgreSQL connections during the run (pool churn shows here)

    @property
    def cpu_ms_per_request(self) -> float:
        """Worker CPU per request: what a single worker's throughput is bounded by; robust to noise."""
        return self.cpu_percent / 100 / self.rps * 1000 if self.rps else 0.0


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str) -> tuple[float, float, float, int, int, int]:
    """req/s, p50 ms, p99 ms, requests, non-2xx/3xx responses, socket errors from `wrk --latency`."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise ValueError(f"could not parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return (
        float(rps.group(1)),
        _latency_ms(p50.group(1)),
        _latency_ms(p99.group(1)),
        int(total.group(1)),
        int(non_2xx.group(1)) if non_2xx else 0,
        sum(int(g) for g in errors.groups()) if errors else 0,
    )


def wrk_command(wrk: str, url: str, headers: dict[str, str], *, connections: int, duration: float) -> list[str]:
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "5s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    return [*cmd, url]


def machine_busy_percent(interval: float) -> float:
    return float(psutil.cpu_percent(interval=interval))


def wait_for_quiet(threshold: float, max_wait: float) -> float:
    """Other work on this machine skews every number: wait (bounded) until it is idle enough."""
    deadline = time.monotonic() + max_wait
    busy = machine_busy_percent(1.0)
    while busy > threshold and time.monotonic() < deadline:
        print(f"    machine {busy:.0f}% busy before the run; waiting for it to settle", flush=True)
        busy = machine_busy_percent(2.0)
    return busy


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def run_wrk(
    wrk: str,
    url: str,
    headers: dict[str, str],
    *,
    connections: int,
    duration: float,
    server_pid: int,
    pg_sessions: Callable[[], int],
    background: float = 0.0,
) -> WrkResult:
    server = psutil.Process(server_pid)
    # With --workers > 1 uvicorn is a supervisor and the work happens in its children.
    tree = [server, *server.children(recursive=True)]
    sessions_before = pg_sessions()
    before = _cpu_seconds(tree)
    machine_before = psutil.cpu_times()
    started = time.monotonic()
    done = subprocess.run(
        wrk_command(wrk, url, headers, connections=connections, duration=duration),
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    )
    elapsed = time.monotonic() - started
    after = _cpu_seconds(tree)
    machine_after = psutil.cpu_times()
    cpu = (after - before) / elapsed * 100
    busy = sum(machine_after) - sum(machine_before)
    idle = (machine_after.idle + machine_after.iowait) - (machine_before.idle + machine_before.iowait)
    machine_cpu = (busy - idle) / busy * 100 if busy > 0 else 0.0
    time.sleep(1.0)  # backends flush their statistics about once a second
    opened = pg_sessions() - sessions_before
    rps, p50, p99, requests, non_2xx, errors = parse_wrk(done.stdout)
    return WrkResult(rps, p50, p99, requests, non_2xx, errors, cpu, machine_cpu, background, opened)


class PgSessions:
    """Counts sessions ever opened on the database (pg_stat_database.sessions), over one connection."""

    def __init__(self, owner_url: str) -> None:
        import psycopg

        self._conn = psycopg.connect(owner_url, autocommit=True)

    def __call__(self) -> int:
        self._conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self._conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._conn.close()


# --- scenarios -----------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    server: str  # "app" or "baseline"
    path: str
    headers: dict[str, str]
    goal: bool = False  # the target applies to this row
    results: list[WrkResult] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(float(getattr(r, attr)) for r in self.results)


@dataclass(frozen=True)
class Fixture:
    token: str
    api_key: str
    members: int


def _check(response: httpx.Response, expected: int) -> dict[str, Any]:
    if response.status_code != expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


def set_up_data(base_url: str) -> Fixture:
    """An owner with an org, a few members who joined by invitation, and an API key — via the API."""
    from agentflow.kit.permissions import DEFAULT_SCOPES

    with httpx.Client(base_url=base_url + API, timeout=30.0) as client:
        owner = _check(
            client.post(
                "/auth/signup",
                json={
                    "email": "owner@bench.example.com",
                    "password": PASSWORD,
                    "name": "Bench Owner",
                    "org_name": "Bench Org",
                },
            ),
            201,
        )
        auth = {"Authorization": f"Bearer {owner['access_token']}"}
        for index, role in enumerate(EXTRA_MEMBER_ROLES):
            email = f"member{index}@bench.example.com"
            _check(client.post("/org/members/invite", headers=auth, json={"email": email, "role": role}), 201)
            outbox = _check(client.get("/org/outbox", headers=auth, params={"limit": 100}), 200)
            mail = next(m for m in outbox["items"] if m["to"] == email)
            match = re.search(r"token=([A-Za-z0-9_\-]+)", mail["body"])
            if match is None:
                raise RuntimeError(f"no invitation token in {mail['body']!r}")
            _check(
                client.post(
                    "/auth/accept-invite",
                    json={"token": match.group(1), "name": f"Member {index}", "password": PASSWORD},
                ),
                200,
            )
        key = _check(
            client.post(
                "/org/api-keys", headers=auth, json={"name": "bench", "scopes": sorted({*DEFAULT_SCOPES, "org:read"})}
            ),
            201,
        )
        members = _check(client.get("/org/members", headers=auth, params={"limit": 100}), 200)
    return Fixture(token=owner["access_token"], api_key=key["key"], members=len(members["items"]))


def scenarios_for(fixture: Fixture) -> list[Scenario]:
    jwt = {"Authorization": f"Bearer {fixture.token}"}
    key = {"X-API-Key": fixture.api_key}
    return [
        Scenario("baseline: Starlette + SELECT 1", "baseline", "/baseline", {}),
        Scenario("GET /auth/me (JWT)", "app", f"{API}/auth/me", jwt, goal=True),
        Scenario("GET /auth/me (API key)", "app", f"{API}/auth/me", key),
        Scenario("GET /org/members (JWT)", "app", f"{API}/org/members", jwt, goal=True),
        Scenario("GET /org/members (API key)", "app", f"{API}/org/members", key),
    ]


def verify(scenario: Scenario, base_url: str) -> None:
    """One request first: a benchmark of 401s or 429s would measure nothing."""
    response = httpx.get(base_url + scenario.path, headers=scenario.headers, timeout=10.0)
    _check(response, 200)


# --- report --------------------------------------------------------------------------------------


def table(scenarios: list[Scenario]) -> str:
    baseline = next(s for s in scenarios if s.server == "baseline").median("rps")
    lines = [
        "| scenario | req/s | p50 ms | p99 ms | worker CPU % | worker CPU ms/req | machine CPU % | req/s vs baseline |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in scenarios:
        lines.append(
            f"| {s.name} | {s.median('rps'):.0f} | {s.median('p50_ms'):.2f} | {s.median('p99_ms'):.2f} "
            f"| {s.median('cpu_percent'):.0f} | {s.median('cpu_ms_per_request'):.2f} "
            f"| {s.median('machine_cpu_percent'):.0f} "
            f"| {s.median('rps') / baseline:.2f} |"
        )
    return "\n".join(lines)


def goal_lines(scenarios: list[Scenario]) -> list[str]:
    lines = []
    for s in scenarios:
        if not s.goal:
            continue
        rps, p99 = s.median("rps"), s.median("p99_ms")
        met = rps >= GOAL_RPS and p99 <= GOAL_P99_MS
        verdict = "MET" if met else "NOT MET"
        lines.append(
            f"- {s.name}: {rps:.0f} req/s at p99 {p99:.2f} ms → goal (≥ {GOAL_RPS:.0f} req/s at p99 ≤ "
            f"{GOAL_P99_MS:.0f} ms) **{verdict}**"
        )
    return lines


def round_lines(scenarios: list[Scenario]) -> list[str]:
    lines = []
    for s in scenarios:
        per_round = ", ".join(
            f"{r.rps:.0f} req/s p99 {r.p99_ms:.1f} ms {r.cpu_ms_per_request:.2f} CPU ms/req (machine "
            f"{r.background_cpu_percent:.0f}% busy before, {r.machine_cpu_percent:.0f}% during; "
            f"{r.pg_sessions_opened} new PG connections)"
            for r in s.results
        )
        lines.append(f"- {s.name}: {per_round}")
    return lines


def describe_source(tree: Path) -> str:
    """Which code ran: the commit, and whether the tree had uncommitted changes."""
    git = ["git", "-C", str(tree)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode != 0:
        return f"the source tree `{tree}` (not a git checkout)"
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "agentflow", "migrations"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return f"commit `{head.stdout.strip()}`" + (
        " with uncommitted changes under agentflow/ or migrations/" if dirty else ""
    )


def machine_facts(pg_version: str, wrk: str) -> list[str]:
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    wrk_version = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False).stdout
    versions = []
    for module in ("uvicorn", "fastapi", "starlette", "sqlalchemy", "psycopg", "uvloop", "httptools", "orjson"):
        with contextlib.suppress(Exception):
            versions.append(f"{module} {__import__(module).__version__}")
    return [
        f"- nproc: {os.cpu_count()} ({cpu_model}), memory {psutil.virtual_memory().total / 2**30:.0f} GiB",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()} ({sys.executable})",
        f"- PostgreSQL {pg_version} (embedded), Valkey (embedded)",
        f"- {wrk_version.splitlines()[0] if wrk_version else 'wrk'}",
        f"- {', '.join(versions)}",
    ]


# --- main ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def servers_running(
    stack_env: dict[str, str],
    workdir: Path,
    ports: dict[str, int],
    overrides: dict[str, str],
    *,
    app_source: Path,
    app_workers: int,
) -> Iterator[tuple[Server, Server]]:
    env = {
        **os.environ,
        **stack_env,
        "PYTHONPATH": str(app_source.resolve()),
        "AGENTFLOW_LOG_LEVEL": "WARNING",
        "AGENTFLOW_RATE_LIMIT_ENABLED": "true",
        "AGENTFLOW_RATE_LIMIT_ORG": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_API_KEY": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_AUTH_IP": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_AUTH_ACCOUNT": HIGH_LIMIT,
        # The default 15 minutes could expire during a long run; one token is used throughout.
        "AGENTFLOW_ACCESS_TOKEN_TTL_SECONDS": "21600",
        **overrides,
    }
    uvicorn = [sys.executable, "-m", "uvicorn"]
    started: list[Server] = []
    try:
        app = Server(
            "app",
            [
                *uvicorn,
                "agentflow.app:create_app",
                "--factory",
                *UVICORN_FLAGS,
                "--workers",
                str(app_workers),
                "--port",
                str(ports["app"]),
            ],
            env,
            workdir,  # not the repo: a developer's .env must not leak into the benchmark
            workdir / "app.log",
        )
        started.append(app)
        baseline = Server(
            "baseline",
            [
                *uvicorn,
                "--app-dir",
                str(BENCH_DIR),
                "baseline_app:create_app",
                "--factory",
                *UVICORN_FLAGS,
                "--workers",
                "1",
                "--port",
                str(ports["baseline"]),
            ],
            env,
            workdir,
            workdir / "baseline.log",
        )
        started.append(baseline)
        app.wait_ready(f"http://127.0.0.1:{ports['app']}/readyz")
        baseline.wait_ready(f"http://127.0.0.1:{ports['baseline']}/baseline")
        yield app, baseline
    finally:
        for server in reversed(started):
            server.stop()


# Where a py-spy sample's CPU went, by the first rule whose marker is on its stack.
_PROFILE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("rate limiter (Lua script via redis-py)", ("RateLimiter.hit",)),
    ("JWT decode (PyJWT)", ("decode_access_token",)),
    ("thread pool (sync dependencies)", ("WorkerThread.run", "run_in_threadpool")),
)


def _profile_category(frames: list[str]) -> str:
    joined = ";".join(frames)
    for name, markers in _PROFILE_RULES:
        if any(marker in joined for marker in markers):
            return name
    if "psycopg/" in joined or "sqlalchemy/" in joined:
        leaf = frames[-1]
        if "psycopg/" in leaf:
            return "DB: psycopg (driver, incl. socket syscalls)"
        if "greenlet" in leaf or "util/concurrency.py" in leaf:
            return "DB: SQLAlchemy greenlet glue"
        return "DB: SQLAlchemy (ORM, Core, session, pool)"
    if "serialize_response" in joined or "Response.render" in joined:
        return "response validation + JSON"
    if "run_endpoint_function" in joined:
        return "endpoint code"
    if "solve_dependencies" in joined:
        return "FastAPI dependency resolution"
    if "FastAPI.__call__" in joined:
        return "FastAPI/Starlette routing + middleware"
    if "uvicorn/protocols/" in joined:
        return "uvicorn HTTP"
    if not joined:
        return "no Python stack"
    return "event loop / other"


def summarize_profile(path: Path) -> list[tuple[float, str]]:
    """Shares of CPU samples by category from py-spy's raw (collapsed) output; idle pool threads left out."""
    counts: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        if frames[-1].startswith(("Condition.wait", "Queue.get")):
            continue  # an idle thread-pool worker
        category = _profile_category(frames)
        counts[category] = counts.get(category, 0) + int(count)
        total += int(count)
    return sorted(((n / total * 100, c) for c, n in counts.items()), reverse=True) if total else []


def profile(
    py_spy: str,
    wrk: str,
    scenarios: list[Scenario],
    urls: dict[str, str],
    pids: dict[str, int],
    out: Path,
    *,
    pg_sessions: Callable[[], int],
    connections: int,
    duration: float,
    rate: int,
) -> None:
    """py-spy on the app worker while wrk drives each app scenario (separate from the measured runs)."""
    out.mkdir(parents=True, exist_ok=True)
    for s in scenarios:
        if s.server != "app":
            continue
        slug = re.sub(r"[^a-z0-9]+", "_", s.name.lower()).strip("_")
        with (out / f"{slug}.py-spy.log").open("wb") as log:
            spy = subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "--subprocesses",
                    "-p",
                    str(pids["app"]),
                    "-d",
                    f"{int(duration)}",
                    "-r",
                    str(rate),
                    "-f",
                    "raw",
                    "-o",
                    str(out / f"{slug}.txt"),
                ],
                stdout=log,
                stderr=log,
            )
            try:
                time.sleep(0.5)
                result = run_wrk(
                    wrk,
                    urls["app"] + s.path,
                    s.headers,
                    connections=connections,
                    duration=duration,
                    server_pid=pids["app"],
                    pg_sessions=pg_sessions,
                )
                spy.wait(timeout=duration + 60)
            finally:
                if spy.poll() is None:
                    spy.kill()
                    spy.wait()
        print(f"  profiled {s.name}: {result.rps:.0f} req/s under py-spy → {out / slug}.txt", flush=True)
        for share, category in summarize_profile(out / f"{slug}.txt"):
            print(f"    {share:5.1f}%  {category}", flush=True)


def measure(
    s: Scenario,
    round_no: int,
    wrk: str,
    base_url: str,
    pid: int,
    pg_sessions: Callable[[], int],
    args: argparse.Namespace,
) -> None:
    """Wait for a quiet machine, warm up (discarded), then one measured run."""
    background = wait_for_quiet(args.quiet_threshold, args.quiet_wait)
    url = base_url + s.path
    if args.warmup > 0:
        run_wrk(
            wrk,
            url,
            s.headers,
            connections=args.connections,
            duration=args.warmup,
            server_pid=pid,
            pg_sessions=pg_sessions,
        )
    result = run_wrk(
        wrk,
        url,
        s.headers,
        connections=args.connections,
        duration=args.duration,
        server_pid=pid,
        pg_sessions=pg_sessions,
        background=background,
    )
    if result.non_2xx or result.socket_errors:
        raise RuntimeError(f"{s.name}: {result.non_2xx} non-2xx responses, {result.socket_errors} socket errors")
    s.results.append(result)
    print(
        f"  round {round_no} {s.name:<30} {result.rps:6.0f} req/s  p50 {result.p50_ms:6.2f} ms"
        f"  p99 {result.p99_ms:6.2f} ms  worker CPU {result.cpu_percent:3.0f}%"
        f" ({result.cpu_ms_per_request:.2f} ms/req)"
        f"  machine {result.machine_cpu_percent:3.0f}% (before {background:.0f}%)"
        f"  new PG conns {result.pg_sessions_opened}",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of discarded warm-up per run (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all scenarios; medians reported")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results_api.md", help="results file")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file alone")
    parser.add_argument("--profile-dir", type=Path, help="after measuring, record py-spy profiles here")
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=15.0,
        help="before each run, wait while the machine is busier than this %% (default 15)",
    )
    parser.add_argument("--quiet-wait", type=float, default=120.0, help="longest wait for quiet, s (default 120)")
    parser.add_argument(
        "--app-source",
        type=Path,
        default=REPO,
        help="source tree to run (agentflow/, migrations/, alembic.ini), e.g. "
        "`git archive COMMIT agentflow migrations alembic.ini | tar -x -C DIR` for A/B runs (default: this repo)",
    )
    parser.add_argument("--app-workers", type=int, default=1, help="uvicorn workers for the app (default 1)")
    parser.add_argument("--only", help="regex: run only the scenarios whose name matches (and the baseline)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for both servers, e.g. AGENTFLOW_DB_POOL_SIZE=20 (repeatable)",
    )
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.env)

    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is required: apt-get install -y wrk", file=sys.stderr)
        return 2
    py_spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if args.profile_dir and py_spy is None:
        print("--profile-dir needs py-spy: .venv/bin/pip install py-spy", file=sys.stderr)
        return 2

    # Stop cleanly on Ctrl-C and on SIGTERM, also when started in the background (where a shell
    # leaves SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    # The stack, the migrations and the servers all come from one source tree.
    sys.path.insert(0, str(args.app_source.resolve()))
    from agentflow.embedded.stack import EmbeddedStack

    started_at = dt.datetime.now(dt.UTC)
    source = describe_source(args.app_source.resolve())
    with tempfile.TemporaryDirectory(prefix="agentflow-bench-") as tmp:
        workdir = Path(tmp)
        print(f"starting embedded PostgreSQL + Valkey in {workdir}", flush=True)
        with EmbeddedStack(workdir / "data") as stack:
            import psycopg

            with psycopg.connect(stack.owner_url) as conn:
                row = conn.execute("SHOW server_version").fetchone()
                pg_version = str(row[0]) if row else "?"
            ports = {"app": free_port(), "baseline": free_port()}
            urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
            with (
                servers_running(
                    stack.env, workdir, ports, overrides, app_source=args.app_source, app_workers=args.app_workers
                ) as (app, baseline),
                contextlib.closing(PgSessions(stack.owner_url)) as pg_sessions,
            ):
                pids = {"app": app.pid, "baseline": baseline.pid}
                fixture = set_up_data(urls["app"])
                print(f"data: 1 org, {fixture.members} members, 1 API key; app pid {app.pid}", flush=True)
                scenarios = scenarios_for(fixture)
                if args.only:
                    scenarios = [s for s in scenarios if s.server == "baseline" or re.search(args.only, s.name)]
                for s in scenarios:
                    verify(s, urls[s.server])
                for round_no in range(1, args.rounds + 1):
                    for s in scenarios:
                        measure(s, round_no, wrk, urls[s.server], pids[s.server], pg_sessions, args)
                if args.profile_dir and py_spy:
                    profile(
                        py_spy,
                        wrk,
                        scenarios,
                        urls,
                        pids,
                        args.profile_dir,
                        pg_sessions=pg_sessions,
                        connections=args.connections,
                        duration=args.duration,
                        rate=250,
                    )

    report_table = table(scenarios)
    goals = goal_lines(scenarios)
    print()
    print(report_table)
    print()
    print("\n".join(goals))

    if not args.no_write:
        invocation = shlex.join([".venv/bin/python", "bench/api_bench.py", *(argv or sys.argv[1:])])
        example = wrk_command(
            "wrk",
            "http://127.0.0.1:PORT/api/v1/auth/me",
            {"Authorization": "Bearer <token>"},
            connections=args.connections,
            duration=args.duration,
        )
        doc = [
            "# API benchmark results",
            "",
            f"Measured {started_at:%Y-%m-%d %H:%M} UTC by `{invocation}`, code: {source}.",
            "",
            report_table,
            "",
            f"Medians over {args.rounds} round(s), each column on its own; each run is {args.duration:g} s after "
            f"a discarded {args.warmup:g} s warm-up, `wrk` with 1 thread and {args.connections} connections "
            "(closed loop), on the same machine as the servers. `worker CPU %`: the uvicorn process's CPU time "
            "over the run (100 = one core); `worker CPU ms/req`: that divided by req/s (the least noisy number "
            "here, and what bounds one worker's throughput); `machine CPU %`: all processes, of all cores (wrk, "
            "PostgreSQL and Valkey included).",
            "",
            "## Goal",
            "",
            *goals,
            "",
            "## Per round",
            "",
            *round_lines(scenarios),
            "",
            "## Setup",
            "",
            f"- App: `uvicorn agentflow.app:create_app --factory {' '.join(UVICORN_FLAGS)} "
            f"--workers {args.app_workers}`"
            + ("" if args.app_source == REPO else f", `agentflow` imported from `{args.app_source}`")
            + "; baseline: `bench/baseline_app.py`, same flags, `--workers 1`.",
            f"- Load: e.g. `{shlex.join(example)}`.",
            "- Rate limiting is ENABLED with every limit raised "
            f"to `{HIGH_LIMIT}` so the load is not throttled. `GET /auth/me` with a JWT is not rate limited by the "
            "app (it authenticates with `authenticate_user`); with an API key it is (key + org). A limited "
            "request's hit is counted in Redis in leases (`agentflow/kit/ratelimit.py`), which at this rate reach "
            "their cap of 64 hits: one Redis round trip per 64 requests per limit. (A limit's lease is at most 1/100 "
            "of it: an org limited to 6,400/minute or more gets the same.)",
            *(f"- Extra environment: `{k}={v}`." for k, v in overrides.items()),
            "- `AGENTFLOW_LOG_LEVEL=WARNING`: the app's per-request access log line (INFO) is not written.",
            f"- Data: 1 org with {fixture.members} members (owner + invited), 1 API key with the default scopes "
            "plus `org:read`; all made through the API.",
            "- Baseline: one Starlette route, `SELECT 1` on a psycopg 3 async pool in autocommit mode (the kind and "
            "size of pool the app reads from outside a session) as the same app role against the same PostgreSQL.",
            "",
            "## Machine",
            "",
            *machine_facts(pg_version, wrk),
            "",
        ]
        args.output.write_text("\n".join(doc))
        print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
