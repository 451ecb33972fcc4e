"""Execution engine: per-node overhead, end-to-end latency and throughput, each with a baseline in the same run.

    .venv/bin/python bench/engine_bench.py --app-commit HEAD   # ~6 min on an idle 2-core machine
    .venv/bin/python bench/engine_bench.py --rounds 10 --latency-runs 20 --executions 300 \
        --throughput-rounds 1 --no-write                      # a quick look (~2 min)
    .venv/bin/python bench/engine_bench.py --app-commit HEAD --profile-dir /tmp/prof   # + py-spy passes

What it does:
1. Starts an `EmbeddedStack` (real PostgreSQL + Valkey, migrated) in a temporary data dir and ONE
   uvicorn worker serving `agentflow.app:create_app --factory` (rate limits raised, not disabled).
   Through the API: sign-up, then two agents (a 40-node chain: trigger.manual + 39
   transform.template with a constant; and a 1-node agent: trigger.manual only), both published,
   with `concurrency_limit` 1000 so admission control never queues a bench run.
2. Engine overhead (no Celery worker running yet): executions created through the API are run in
   a child process by the Celery task `executions.run` itself (`Task.apply`: the worker's code
   path minus the broker — claim, `run_execution` with AsyncPostgresSaver and durability "sync", a
   DbExecutionStore step row and RedisEventSink events per node, record). Interleaved with it: the
   same engine on in-memory store and events (with the Postgres and with the in-memory
   checkpointer), and the baselines, a plain LangGraph `StateGraph` of 40 trivial linear nodes
   with the same AsyncPostgresSaver and without a checkpointer. Per node = the time between
   consecutive nodes' starts: one full cycle (step rows, events, checkpoints, the scheduler).
   Goal p50 <= 2 ms.
3. Latency: one real Celery worker (`celery -A agentflow.worker worker -Q default,executions
   --pool solo -c 1`); POST /agents/{id}/execute of the 40-node agent, one at a time, until GET
   /executions/{id} says `completed` (the client subscribes to `execution:*` on Valkey and polls
   the API only once the `execution.completed` event arrived). Goal p50 <= 150 ms.
4. Throughput: a second worker process; N 1-node executions submitted through the API with C
   concurrent clients; wall time from the first POST to the last `completed_at`. Baseline: N
   `system.ping` Celery round trips on the same two workers. Goal >= 200 executions/s, 0 failures.
   CPU seconds of every process involved (and of everything else on the machine) are recorded.
5. Prints the tables, checks the goals, writes bench/results_engine.md (unless --no-write).

Everything started here is stopped at the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import inspect
import itertools
import json
import os
import platform
import random
import shlex
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict

import httpx
import psutil
from api_bench import Server, _raise_interrupt, describe_source, free_port, wait_for_quiet

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
API = "/api/v1"
PASSWORD = "bench password 123"  # noqa: S105 - throwaway account in a temp database
HIGH_LIMIT = "100000000/minute"
GOAL_NODE_P50_MS = 2.0
GOAL_LATENCY_P50_MS = 150.0
GOAL_THROUGHPUT = 200.0
FINISHED = ("completed", "failed", "cancelled")

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


# --- definitions ---------------------------------------------------------------------------------


def node_text(output_bytes: int) -> str:
    """What each node of the chain outputs: "constant text", or `output_bytes` of letters and
    spaces in random order (about as compressible as prose, so PostgreSQL's compression does not
    hide the size)."""
    if output_bytes <= 0:
        return "constant text"
    return "".join(random.Random(output_bytes).choices(string.ascii_lowercase + " ", k=output_bytes))


def chain_definition(nodes: int, text: str = "constant text") -> dict[str, Any]:
    """trigger.manual, then `nodes - 1` transform.template nodes with a constant, in a line."""
    ids = ["start", *(f"t{i:02d}" for i in range(1, nodes))]
    items = [{"id": "start", "type": "trigger", "subtype": "manual", "config": {}}]
    items += [
        {"id": node_id, "type": "transform", "subtype": "template", "config": {"template": text}} for node_id in ids[1:]
    ]
    edges = [{"id": f"{a}-{b}", "source": a, "source_handle": "out", "target": b} for a, b in itertools.pairwise(ids)]
    return {"schema_version": 1, "nodes": items, "edges": edges}


# --- statistics ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


def p50(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p99(values: Sequence[float]) -> float:
    return percentile(values, 0.99)


# --- CPU accounting ------------------------------------------------------------------------------


def _tree_cpu(pid: int, recursive: bool) -> float:
    try:
        root = psutil.Process(pid)
        processes = [root, *(root.children(recursive=True) if recursive else [])]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


@dataclass
class CpuUse:
    """CPU seconds per process group over an interval, the machine's busy seconds, and wall time."""

    groups: dict[str, float]
    machine_busy: float
    wall: float

    @property
    def ours(self) -> float:
        return sum(self.groups.values())

    @property
    def foreign(self) -> float:
        """CPU used by processes this bench did not start (other sessions' tests): the noise."""
        return max(0.0, self.machine_busy - self.ours)

    def percent(self, seconds: float) -> float:
        """Of both cores' capacity."""
        return seconds / (self.wall * (os.cpu_count() or 1)) * 100 if self.wall > 0 else 0.0


class CpuMeter:
    """Snapshots CPU seconds of named process trees (pid, with children?) and of the whole machine."""

    def __init__(self, groups: dict[str, tuple[list[int], bool]]) -> None:
        self.groups = groups

    def _snapshot(self) -> tuple[dict[str, float], float, float]:
        values = {
            name: sum(_tree_cpu(pid, recursive) for pid in pids) for name, (pids, recursive) in self.groups.items()
        }
        machine = psutil.cpu_times()
        busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        return values, busy, time.monotonic()

    @contextlib.contextmanager
    def measure(self) -> Iterator[list[CpuUse]]:
        out: list[CpuUse] = []
        before, busy_before, started = self._snapshot()
        yield out
        after, busy_after, ended = self._snapshot()
        out.append(
            CpuUse({name: after[name] - before[name] for name in after}, busy_after - busy_before, ended - started)
        )


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min)"


# --- profiles (--profile-dir) -------------------------------------------------------------------


class Spy:
    """py-spy recording processes until stopped (SIGINT makes py-spy write its output)."""

    def __init__(self, processes: list[subprocess.Popen[bytes]], outputs: list[Path]) -> None:
        self.processes = processes
        self.outputs = outputs

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class ProfileSpec:
    py_spy: str
    directory: Path
    rate: int = 250

    def start(self, name: str, pids: list[int], *, subprocesses: bool = False) -> Spy:
        self.directory.mkdir(parents=True, exist_ok=True)
        processes, outputs = [], []
        for pid in pids:
            output = self.directory / f"{name}-{pid}.txt"
            log = (self.directory / f"{name}-{pid}.py-spy.log").open("wb")
            cmd = [self.py_spy, "record", "-p", str(pid), "-r", str(self.rate), "-f", "raw", "-o", str(output)]
            if subprocesses:  # uvicorn with several workers: they are its children
                cmd.append("--subprocesses")
            processes.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT))
            log.close()
            outputs.append(output)
        time.sleep(0.5)  # attached before the work starts
        return Spy(processes, outputs)


# Where a sample's time went: the first rule (in this order) with a marker anywhere on the stack.
_PROFILE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("claim: lock the row, load version + agent, usage record (tasks._claim)", ("_claim (",)),
    ("record the outcome (tasks._record)", ("_record (",)),
    ("cancel check per superstep (DbExecutionStore.is_cancelled)", ("DbExecutionStore.is_cancelled",)),
    ("step rows (DbExecutionStore.step_started/step_finished)", ("DbExecutionStore.",)),
    ("checkpoints with the step rows and events they carry (JournaledPostgresSaver)", ("JournaledPostgresSaver.",)),
    ("events: seq + DB row + publish (RedisEventSink.emit)", ("RedisEventSink.",)),
    ("checkpoints: write + read (AsyncPostgresSaver)", ("AsyncPostgresSaver.",)),
    ("node handlers", ("agentflow/engine/nodes/",)),
)
# Otherwise the innermost frame from one of these decides. py-spy shortens paths below
# site-packages, and for LangGraph drops the package name ("pregel/main.py").
_LANGGRAPH = "LangGraph runtime (Pregel loop, channels, checkpoint bookkeeping)"
_PROFILE_OWNERS: tuple[tuple[str, str], ...] = (
    ("agentflow/engine/", "engine: scheduler, run_execution"),
    ("pregel/", _LANGGRAPH),
    ("langgraph/", _LANGGRAPH),
    ("_internal/_", _LANGGRAPH),
    ("graph/_branch.py", _LANGGRAPH),
    ("graph/state.py", _LANGGRAPH),
    ("channels/", _LANGGRAPH),
    ("base/id.py", _LANGGRAPH),
    ("postgres/base.py", _LANGGRAPH),
    ("langchain_core/", _LANGGRAPH),
    ("sqlalchemy/", "SQLAlchemy, caller not on the stack (greenlet)"),
    ("psycopg", "psycopg, caller not on the stack (pool)"),
    ("redis/", "redis-py, caller not on the stack"),
    ("selectors.py", "event loop: select (waiting, or woken)"),
    ("asyncio/", "event loop: asyncio scheduling"),
    ("trace_task", "Celery: running a task (tracing, result backend)"),
    ("kombu/", "Celery: receiving and acking messages (outside tasks)"),
    ("celery/", "Celery: receiving and acking messages (outside tasks)"),
)


# The API process during part 3 (POST /execute), same scheme.
_API_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("enqueue: Celery send_task (thread pool)", ("send_task", "kombu/")),
    ("rate limiter (RateLimiter)", ("RateLimiter.",)),
    ("authentication (JWT, user, membership)", ("auth/dependencies.py", "decode_access_token")),
    ("execute: load agent + version, insert the execution", ("executions/service.py",)),
    ("transaction: begin, tenant context, commit (SessionDep)", ("kit/deps.py", "kit/db.py")),
)
_API_OWNERS: tuple[tuple[str, str], ...] = (
    ("sqlalchemy/", "SQLAlchemy, caller not on the stack (greenlet)"),
    ("psycopg", "psycopg, caller not on the stack"),
    ("pydantic", "request/response models (pydantic)"),
    ("fastapi/", "FastAPI/Starlette routing, dependencies, middleware"),
    ("starlette/", "FastAPI/Starlette routing, dependencies, middleware"),
    ("agentflow/", "FastAPI/Starlette routing, dependencies, middleware"),
    ("uvicorn/", "uvicorn HTTP"),
    ("selectors.py", "event loop: select (waiting, or woken)"),
    ("asyncio/", "event loop: asyncio scheduling"),
)


def profile_category(
    frames: list[str],
    rules: tuple[tuple[str, tuple[str, ...]], ...] = _PROFILE_RULES,
    owners: tuple[tuple[str, str], ...] = _PROFILE_OWNERS,
) -> str:
    joined = ";".join(frames)
    if not joined:
        return "no Python stack (native code)"
    for name, markers in rules:
        if any(marker in joined for marker in markers):
            return name
    for frame in reversed(frames):
        for marker, name in owners:
            if marker in frame:
                return name
    return "other (event loop, asyncio, start-up)"


def summarize_profile(paths: list[Path], must: str = "", *, api: bool = False) -> list[tuple[float, str]]:
    """Shares of samples by category from py-spy raw output; only stacks containing `must`."""
    counts: dict[str, int] = {}
    total = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit() or must not in stack:
                continue
            frames = stack.split(";") if stack else []
            # py-spy reports idle thread-pool threads (asyncio's default executor) as busy.
            if frames and ("concurrent/futures/thread.py" in frames[-1] or "threading.py" in frames[-1]):
                continue
            category = profile_category(frames, _API_RULES, _API_OWNERS) if api else profile_category(frames)
            counts[category] = counts.get(category, 0) + int(count)
            total += int(count)
    return sorted(((n / total * 100, c) for c, n in counts.items()), reverse=True) if total else []


def profile_lines(title: str, shares: list[tuple[float, str]]) -> list[str]:
    return [f"| {title} | share |", "| --- | ---: |", *(f"| {c} | {share:.1f} % |" for share, c in shares)]


# --- part 1: in-process engine overhead (runs in a child process) --------------------------------

ENGINE_WORKER = "**AgentFlow: task `executions.run`** (DB step rows, Redis + DB events, AsyncPostgresSaver)"
ENGINE_MEM_PG = "AgentFlow engine, in-memory store + events, AsyncPostgresSaver"
ENGINE_MEM = "AgentFlow engine, in-memory store + events, InMemorySaver"
LG_PG = "baseline: LangGraph StateGraph, AsyncPostgresSaver"
LG_NONE = "baseline: LangGraph StateGraph, no checkpointer"
ENGINE_VARIANTS = (ENGINE_WORKER, ENGINE_MEM_PG, ENGINE_MEM, LG_PG, LG_NONE)


def _merge(current: dict[str, Any] | None, update: dict[str, Any] | None) -> dict[str, Any]:
    return {**(current or {}), **(update or {})}


class PlainState(TypedDict):
    outputs: Annotated[dict[str, Any], _merge]


def engine_child(job_path: Path) -> int:
    """Child process: time the engine variants and the LangGraph baselines, write JSON results.

    A separate interpreter, like a worker: nothing of the bench's HTTP clients or of the parent's
    imports shares its GIL, heap or garbage collector."""
    job = json.loads(job_path.read_text())
    import psycopg
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph

    from agentflow.engine.runtime import (
        EngineServices,
        MemoryEventSink,
        MemoryExecutionStore,
        RunContext,
        run_execution,
    )
    from agentflow.engine.spec import AgentDefinition
    from agentflow.executions import tasks
    from agentflow.kit.db import libpq_url

    nodes: int = job["nodes"]
    org_id = uuid.UUID(job["org_id"])
    worker_ids: list[str] = job["execution_ids"]
    warmup: int = job["warmup"]
    rounds: int = job["rounds"]
    pg_pids: list[int] = job["pg_pids"]

    # The worker's own loop and resources: one engine, Redis client and checkpointer pool.
    loop = tasks._event_loop()
    resources = loop.run_until_complete(tasks._get_resources())
    text: str = job["text"]
    definition = AgentDefinition.model_validate(chain_definition(nodes, text))
    run_settings = tasks.run_settings(job["agent_settings"])
    services = EngineServices(
        router=lambda ctx: tasks._router(resources, ctx.org_id),
        egress_allowed_hosts=tuple(resources.settings.egress_allowed_hosts),
    )
    memory_saver = InMemorySaver()

    # Newer engines hand the store the run's event sink (it emits the step events itself).
    store_takes_sink = "events" in inspect.signature(MemoryExecutionStore).parameters

    class StampingStore:
        """The in-memory store, marking when each node's step starts: consecutive marks are one
        node's full cycle. A wrapper, not a subclass: it works with either store interface."""

        def __init__(self, events: MemoryEventSink) -> None:
            self.inner = MemoryExecutionStore(events) if store_takes_sink else MemoryExecutionStore()  # type: ignore[call-arg]
            self.stamps: list[float] = []

        async def step_started(self, *args: Any, **kwargs: Any) -> Any:
            self.stamps.append(time.perf_counter())
            return await self.inner.step_started(*args, **kwargs)

        async def step_finished(self, *args: Any, **kwargs: Any) -> Any:
            # Newer engines start the next node's step along with this finish (`then_start`).
            if kwargs.get("then_start") is not None:
                self.stamps.append(time.perf_counter())
            return await self.inner.step_finished(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    def engine_in_memory(checkpointer: Any) -> list[float]:
        events = MemoryEventSink()
        store: Any = StampingStore(events)
        ctx = RunContext(
            execution_id=uuid.uuid4(),
            org_id=org_id,
            agent_id=uuid.uuid4(),
            agent_version=1,
            trigger={},
            started_at=dt.datetime.now(dt.UTC),
            settings=run_settings,
            cache_key="bench-chain",  # the worker caches by version id: compiled once, like there
        )
        outcome = loop.run_until_complete(
            run_execution(definition, ctx, store=store, events=events, services=services, checkpointer=checkpointer)
        )
        stamps: list[float] = store.stamps
        if outcome.status != "completed" or len(stamps) != nodes:
            raise RuntimeError(f"in-memory engine run: {outcome.status} after {len(stamps)} nodes")
        return stamps

    stamps_now: list[float] = []

    def trivial(name: str) -> Any:
        async def node(state: PlainState) -> dict[str, Any]:
            stamps_now.append(time.perf_counter())
            return {"outputs": {name: {"text": text}}}

        return node

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(PlainState)
    names = [f"n{i:02d}" for i in range(nodes)]
    for name in names:
        builder.add_node(name, trivial(name))
    builder.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        builder.add_edge(a, b)
    builder.add_edge(names[-1], END)
    plain_pg = builder.compile(checkpointer=resources.checkpointer)
    plain_none = builder.compile()

    def langgraph(graph: Any) -> list[float]:
        stamps_now.clear()
        config = {"configurable": {"thread_id": str(uuid.uuid4())}}
        # durability only with a checkpointer: LangGraph 1.2 warns and then fails without one.
        extra = {"durability": "sync"} if graph.checkpointer is not None else {}
        loop.run_until_complete(graph.ainvoke({"outputs": {}}, config, **extra))
        if len(stamps_now) != nodes:
            raise RuntimeError(f"LangGraph run: {len(stamps_now)} nodes")
        return list(stamps_now)

    pending_worker = list(worker_ids)

    def worker_path() -> list[float]:
        execution_id = pending_worker.pop(0)
        # The registered Celery task, run in this process (eager): the worker's own code path,
        # minus the broker.
        status = tasks.run.apply(args=[execution_id, str(org_id)], throw=True).get()
        if status != "completed":
            raise RuntimeError(f"execution {execution_id}: {status}")
        return []  # its step marks are the step rows' started_at, read back below

    variants: dict[str, Callable[[], list[float]]] = {
        ENGINE_WORKER: worker_path,
        ENGINE_MEM_PG: lambda: engine_in_memory(resources.checkpointer),
        ENGINE_MEM: lambda: engine_in_memory(memory_saver),
        LG_PG: lambda: langgraph(plain_pg),
        LG_NONE: lambda: langgraph(plain_none),
    }
    variants = {name: call for name, call in variants.items() if name in job["variants"]}
    results: dict[str, dict[str, list[float]]] = {
        name: {"intervals_ms": [], "wall_ms": [], "cpu_ms": [], "pg_cpu_ms": []} for name in variants
    }
    measured_ids: list[str] = []
    for round_no in range(warmup + rounds):
        measured = round_no >= warmup
        if round_no == warmup and job.get("warm"):
            # A profiled pass: warmed up (lazy imports, graph compiles); wait for py-spy to attach.
            Path(job["warm"]).touch()
            while not Path(job["go"]).exists():
                time.sleep(0.05)
        for name, call in variants.items():
            if name == ENGINE_WORKER and measured:
                measured_ids.append(pending_worker[0])
            pg_before = sum(_tree_cpu(pid, True) for pid in pg_pids)
            cpu_before = time.process_time()
            started = time.perf_counter()
            stamps = call()
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_before
            pg_cpu = sum(_tree_cpu(pid, True) for pid in pg_pids) - pg_before
            if not measured:
                continue
            out = results[name]
            out["wall_ms"].append(wall * 1000)
            out["cpu_ms"].append(cpu * 1000)
            out["pg_cpu_ms"].append(pg_cpu * 1000)
            out["intervals_ms"] += [(b - a) * 1000 for a, b in itertools.pairwise(stamps)]
        if measured and (round_no - warmup + 1) % 10 == 0:
            print(f"    engine: {round_no - warmup + 1}/{rounds} rounds", flush=True)

    # Write transactions per node (each commit waits for a WAL flush): the next transaction id
    # before and after, in a separate untimed pass. Nothing else writes meanwhile; reading it
    # assigns no id. (pg_stat_database's counters lag by up to 10 s: no use here.)
    count_runs: int = job["count_runs"]
    with psycopg.connect(libpq_url(job["owner_url"]), autocommit=True) as stats:

        def transactions() -> int:
            row = stats.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").fetchone()
            return int(row[0]) if row else 0

        for name, call in variants.items():
            if not count_runs or name in (ENGINE_MEM, LG_NONE):  # these never reach PostgreSQL
                results[name]["transactions_per_node"] = [0.0] if count_runs else []
                continue
            before = transactions()
            for _ in range(count_runs):
                call()
            results[name]["transactions_per_node"] = [(transactions() - before) / (count_runs * nodes)]

    # The worker path's node starts, from its step rows (written with datetime.now in this process).
    with psycopg.connect(libpq_url(job["owner_url"]), autocommit=True) as conn:
        conn.execute("SELECT set_config('app.org_id', %s, false)", (str(org_id),))
        for execution_id in measured_ids:
            rows = conn.execute(
                "SELECT started_at FROM execution_steps WHERE execution_id = %s ORDER BY step_order",
                (execution_id,),
            ).fetchall()
            if len(rows) != nodes:
                raise RuntimeError(f"execution {execution_id}: {len(rows)} step rows, expected {nodes}")
            starts = [row[0].timestamp() for row in rows]
            results[ENGINE_WORKER]["intervals_ms"] += [(b - a) * 1000 for a, b in itertools.pairwise(starts)]
    out_path = Path(job["out"])
    out_path.with_suffix(".tmp").write_text(json.dumps(results))
    out_path.with_suffix(".tmp").rename(out_path)
    # Stay up (connections open) until the parent has read the CPU counters: an exited process's
    # CPU time, and that of the PostgreSQL backends serving it, can no longer be read.
    release = Path(job["release"])
    while not release.exists():
        time.sleep(0.05)
    loop.run_until_complete(resources.pool.close())
    return 0


@dataclass
class EngineRow:
    name: str
    intervals_ms: list[float]
    wall_ms: list[float]
    cpu_ms: list[float]
    pg_cpu_ms: list[float]
    transactions_per_node: list[float] = field(default_factory=list)


def run_engine_child(
    stack: Any,
    workdir: Path,
    env: dict[str, str],
    base_url: str,
    world: World,
    meter: CpuMeter,
    *,
    name: str,
    nodes: int,
    rounds: int,
    warmup: int,
    variants: Sequence[str],
    count_runs: int = 0,
    profile: ProfileSpec | None = None,
) -> tuple[dict[str, Any], CpuUse]:
    """Executions made through the API (no worker is running, so they stay `pending`) are run in
    a child process by the worker's own task; the Celery messages the API queued are dropped after."""
    from agentflow.embedded.runtime import read_pid

    with httpx.Client(base_url=base_url + API, timeout=30.0, headers=world.headers) as client:
        runs = warmup + rounds + count_runs
        ids = [execute(client, world.chain_agent) for _ in range(runs)] if ENGINE_WORKER in variants else []
    out, release = workdir / f"{name}.json", workdir / f"{name}.release"
    job = {
        "nodes": nodes,
        "text": world.text,
        "org_id": world.org_id,
        "execution_ids": ids,
        "rounds": rounds,
        "warmup": warmup,
        "count_runs": count_runs,
        "variants": list(variants),
        "agent_settings": world.agent_settings,
        "owner_url": stack.owner_url,
        "pg_pids": [read_pid(stack.postgres.pgdata / "postmaster.pid")],
        "out": str(out),
        "release": str(release),
        **({"warm": str(workdir / f"{name}.warm"), "go": str(workdir / f"{name}.go")} if profile else {}),
    }
    job_path = workdir / f"{name}-job.json"
    job_path.write_text(json.dumps(job))
    child = Server(
        name, [sys.executable, __file__, "--engine-child", str(job_path)], env, workdir, workdir / f"{name}.log"
    )
    meter.groups["engine child"] = ([child.pid], True)
    spy = None
    try:
        with meter.measure() as use:
            deadline = time.monotonic() + 120 + (warmup + rounds) * 15
            while not out.exists():
                if profile is not None and spy is None and Path(job["warm"]).exists():
                    spy = profile.start(name, [child.pid])
                    Path(job["go"]).touch()
                if child.proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {child.proc.returncode}:\n{child.log_tail(60)}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not finish:\n{child.log_tail()}")
                time.sleep(0.1)
        release.touch()
        child.proc.wait(timeout=30)
    finally:
        if spy is not None:
            spy.stop()
        child.stop()
        meter.groups.pop("engine child", None)
    drop_queued_tasks(stack)
    return json.loads(out.read_text()), use[0]


def run_engine_part(
    stack: Any,
    workdir: Path,
    env: dict[str, str],
    base_url: str,
    world: World,
    args: argparse.Namespace,
    meter: CpuMeter,
) -> tuple[list[EngineRow], CpuUse]:
    raw, use = run_engine_child(
        stack,
        workdir,
        env,
        base_url,
        world,
        meter,
        name="engine",
        nodes=args.nodes,
        rounds=args.rounds,
        warmup=args.warmup_rounds,
        variants=ENGINE_VARIANTS,
        count_runs=2,
    )
    return [EngineRow(name, **raw[name]) for name in ENGINE_VARIANTS], use


def drop_queued_tasks(stack: Any) -> None:
    """The part-1 executions' Celery messages are still queued (no worker ran); they are finished
    now, and a worker would only claim and skip them, inside the latency measurements."""
    import redis

    client = redis.Redis.from_url(stack.redis_url)
    try:
        client.delete("executions")
    finally:
        client.close()


def engine_table(rows: list[EngineRow], nodes: int) -> list[str]:
    by_name = {row.name: row for row in rows}
    lg_pg = p50(by_name[LG_PG].intervals_ms)
    lg_none = p50(by_name[LG_NONE].intervals_ms)
    lines = [
        f"| path ({nodes}-node chain) | per node p50 ms | per node p99 ms | run p50 ms | process CPU ms/node "
        "| PostgreSQL CPU ms/node | PostgreSQL write transactions/node | p50 vs LangGraph + PG saver "
        "| p50 vs LangGraph, no saver |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        median = p50(row.intervals_ms)
        runs = len(row.wall_ms) * nodes
        # CPU as totals over all runs: per-process counters tick in 10 ms steps, too coarse per run.
        transactions = f"{row.transactions_per_node[0]:.1f}" if row.transactions_per_node else "n/a"
        lines.append(
            f"| {row.name} | {median:.3f} | {p99(row.intervals_ms):.3f} | {p50(row.wall_ms):.1f} "
            f"| {sum(row.cpu_ms) / runs:.3f} | {sum(row.pg_cpu_ms) / runs:.3f} | {transactions} "
            f"| {median / lg_pg:.1f}x | {median / lg_none:.1f}x |"
        )
    return lines


# --- API data ------------------------------------------------------------------------------------


@dataclass
class World:
    token: str
    org_id: str
    chain_agent: str
    single_agent: str
    agent_settings: dict[str, Any] = field(default_factory=dict)
    text: str = "constant text"
    """What each node of the chain agent outputs."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _check(response: httpx.Response, expected: int) -> dict[str, Any]:
    if response.status_code != expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


def set_up_data(base_url: str, nodes: int, text: str = "constant text") -> World:
    """An owner and org, and the two published agents — through the API, as a person would."""
    settings = {"concurrency_limit": 1000}  # admission control must not queue bench runs
    with httpx.Client(base_url=base_url + API, timeout=30.0) as client:
        owner = _check(
            client.post(
                "/auth/signup",
                json={"email": "owner@bench.example.com", "password": PASSWORD, "name": "Bench", "org_name": "Bench"},
            ),
            201,
        )
        headers = {"Authorization": f"Bearer {owner['access_token']}"}
        agents = {}
        for name, definition in (("chain", chain_definition(nodes, text)), ("single", chain_definition(1))):
            agent = _check(
                client.post(
                    "/agents",
                    headers=headers,
                    json={"name": f"bench {name}", "definition": definition, "settings": settings},
                ),
                201,
            )
            _check(client.post(f"/agents/{agent['id']}/publish", headers=headers, json={}), 201)
            agents[name] = _check(client.get(f"/agents/{agent['id']}", headers=headers), 200)
    return World(
        token=owner["access_token"],
        org_id=owner["org"]["id"],
        chain_agent=agents["chain"]["id"],
        single_agent=agents["single"]["id"],
        agent_settings=agents["chain"]["settings"],  # as stored: what the worker reads
        text=text,
    )


def execute(client: httpx.Client, agent_id: str) -> str:
    body = _check(client.post(f"/agents/{agent_id}/execute", json={"input": {}}), 202)
    return str(body["execution_id"])


class OwnerDb:
    """Reads the bench org's rows as the schema owner (for timestamps the API does not show)."""

    def __init__(self, owner_url: str, org_id: str) -> None:
        import psycopg

        from agentflow.kit.db import libpq_url

        self.conn = psycopg.connect(libpq_url(owner_url), autocommit=True)
        self.conn.execute("SELECT set_config('app.org_id', %s, false)", (org_id,))

    def statuses(self, ids: list[str]) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT status, count(*) FROM executions WHERE id = ANY(%s::uuid[]) GROUP BY status", (ids,)
        ).fetchall()
        return {str(status): int(count) for status, count in rows}

    def timestamps(self, ids: list[str]) -> dict[str, tuple[float, float, float]]:
        """created_at, started_at, completed_at (epoch seconds) per execution."""
        rows = self.conn.execute(
            "SELECT id, created_at, started_at, completed_at FROM executions WHERE id = ANY(%s::uuid[])", (ids,)
        ).fetchall()
        return {
            str(row[0]): (row[1].timestamp(), row[2].timestamp(), row[3].timestamp())
            for row in rows
            if row[2] and row[3]
        }

    def close(self) -> None:
        self.conn.close()


# --- workers -------------------------------------------------------------------------------------


def start_worker(name: str, env: dict[str, str], workdir: Path) -> Server:
    celery = str(Path(sys.executable).with_name("celery"))
    cmd = [celery, "-A", "agentflow.worker", "worker", "-Q", "default,executions", "--pool", "solo", "-c", "1"]
    return Server(name, [*cmd, "-n", f"{name}@%h"], env, workdir, workdir / f"{name}.log")


def wait_workers(celery: Any, workers: list[Server], timeout: float = 90.0) -> None:
    """Until every worker answers a broadcast ping (each has connected and is consuming)."""
    wanted = {f"{w.name}@{platform.node()}" for w in workers}
    deadline = time.monotonic() + timeout
    while True:
        for worker in workers:
            if worker.proc.poll() is not None:
                raise RuntimeError(f"{worker.name} exited:\n{worker.log_tail()}")
        replies = celery.control.ping(timeout=1.0) or []
        answered = {name for reply in replies for name in reply}
        if wanted <= answered:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers not ready after {timeout:.0f} s: {sorted(answered)}")


def bench_celery(redis_url: str) -> Any:
    """A Celery client configured like the app's (queues, routes, serializers)."""
    from agentflow.settings import Settings
    from agentflow.worker import create_celery

    return create_celery(Settings(_env_file=None, redis_url=redis_url))


# --- part 2: latency -----------------------------------------------------------------------------


@dataclass
class LatencySample:
    execution_id: str
    sent: float  # epoch seconds, client
    accepted: float  # 202 received
    event: float  # execution.completed received on Valkey
    observed: float  # GET /executions/{id} first said completed


class EventWatcher:
    """One pattern subscription to `execution:*`: when each execution's final event arrived."""

    def __init__(self, redis_url: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(redis_url)
        self.pubsub = self.redis.pubsub()
        self.finished: dict[str, tuple[str, float]] = {}
        self._waiters: dict[str, asyncio.Future[tuple[str, float]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.pubsub.psubscribe("execution:*")
        self._task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        import orjson

        while True:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None or message.get("type") != "pmessage":
                continue
            event = orjson.loads(message["data"])
            kind = event.get("type", "")
            if kind not in ("execution.completed", "execution.failed", "execution.cancelled"):
                continue
            execution_id = str(event.get("execution_id"))
            self.finished[execution_id] = (kind, time.time())
            waiter = self._waiters.pop(execution_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(self.finished[execution_id])

    async def wait(self, execution_id: str, limit: float) -> tuple[str, float]:
        if execution_id in self.finished:
            return self.finished[execution_id]
        waiter = self._waiters[execution_id] = asyncio.get_running_loop().create_future()
        async with asyncio.timeout(limit):
            kind, at = await waiter
        return kind, at

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.pubsub.aclose()
        await self.redis.aclose()


async def latency_runs(base_url: str, redis_url: str, world: World, runs: int, warmup: int) -> list[LatencySample]:
    watcher = EventWatcher(redis_url)
    await watcher.start()
    samples: list[LatencySample] = []
    try:
        async with httpx.AsyncClient(base_url=base_url + API, headers=world.headers, timeout=30.0) as client:
            for index in range(warmup + runs):
                sent = time.time()
                response = await client.post(f"/agents/{world.chain_agent}/execute", json={"input": {}})
                accepted = time.time()
                if response.status_code != 202:
                    raise RuntimeError(f"execute: {response.status_code} {response.text}")
                execution_id = str(response.json()["execution_id"])
                kind, event_at = await watcher.wait(execution_id, limit=60)
                if kind != "execution.completed":
                    raise RuntimeError(f"execution {execution_id}: {kind}")
                # The worker publishes the outcome event after committing it, so the API agrees by
                # the time the event arrives; the loop re-reads only if it ever did not.
                while True:
                    body = (await client.get(f"/executions/{execution_id}")).json()
                    if body["status"] in FINISHED:
                        break
                    await asyncio.sleep(0.002)
                observed = time.time()
                if body["status"] != "completed":
                    raise RuntimeError(f"execution {execution_id}: {body['status']} {body.get('error_message')}")
                if index >= warmup:
                    samples.append(LatencySample(execution_id, sent, accepted, event_at, observed))
                await asyncio.sleep(0.05)  # let the worker go back to waiting on the broker
    finally:
        await watcher.close()
    return samples


def latency_table(samples: list[LatencySample], stamps: dict[str, tuple[float, float, float]]) -> list[str]:
    def row(name: str, values: list[float]) -> str:
        return f"| {name} | {p50(values):.1f} | {p99(values):.1f} | {statistics.fmean(values):.1f} |"

    total = [(s.observed - s.sent) * 1000 for s in samples]
    event = [(s.event - s.sent) * 1000 for s in samples]
    known = [s for s in samples if s.execution_id in stamps]
    return [
        "| POST /execute → completed (40-node chain, one at a time) | p50 ms | p99 ms | mean ms |",
        "| --- | ---: | ---: | ---: |",
        row("**POST → GET /executions/{id} says `completed`**", total),
        row("POST → `execution.completed` event received", event),
        row("phase: POST → 202 response", [(s.accepted - s.sent) * 1000 for s in samples]),
        row(
            "phase: 202 → worker claimed it (`started_at`)",
            [(stamps[s.execution_id][1] - s.accepted) * 1000 for s in known],
        ),
        row(
            "phase: claimed → outcome recorded (`completed_at`)",
            [(stamps[s.execution_id][2] - stamps[s.execution_id][1]) * 1000 for s in known],
        ),
        row("phase: recorded → the API shows it", [(s.observed - stamps[s.execution_id][2]) * 1000 for s in known]),
    ]


# --- part 3: throughput --------------------------------------------------------------------------


@dataclass
class ThroughputResult:
    name: str
    count: int
    wall: float
    failures: int
    use: CpuUse
    submit_wall: float = 0.0  # executions: first POST sent → last 202 received

    @property
    def rate(self) -> float:
        return self.count / self.wall if self.wall > 0 else 0.0


def ping_round(celery: Any, count: int, meter: CpuMeter) -> ThroughputResult:
    with meter.measure() as use:
        started = time.time()
        results = [celery.send_task("system.ping") for _ in range(count)]
        failures = 0
        for result in results:
            try:
                if result.get(timeout=120) != "pong":
                    failures += 1
            except Exception:
                failures += 1
        wall = time.time() - started
    # A pending result unsubscribes when it is collected, which needs Valkey: collect them now,
    # not at interpreter exit after the stack has stopped.
    del results
    gc.collect()
    return ThroughputResult("baseline: Celery `system.ping` round trip", count, wall, failures, use[0])


async def submit_executions(
    base_url: str, world: World, count: int, concurrency: int
) -> tuple[list[str], int, float, float]:
    """POST /execute `count` times from `concurrency` clients at once: ids, errors, first send, last 202."""
    ids: list[str] = []
    errors = 0
    remaining = iter(range(count))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url + API, headers=world.headers, timeout=60.0, limits=limits) as client:

        async def submitter() -> None:
            nonlocal errors
            for _ in remaining:
                try:
                    response = await client.post(f"/agents/{world.single_agent}/execute", json={"input": {}})
                except httpx.HTTPError:
                    errors += 1
                    continue
                if response.status_code == 202:
                    ids.append(str(response.json()["execution_id"]))
                else:
                    errors += 1

        started = time.time()
        await asyncio.gather(*(submitter() for _ in range(concurrency)))
        submitted = time.time()
    return ids, errors, started, submitted


def execution_round(
    base_url: str, world: World, db: OwnerDb, count: int, concurrency: int, meter: CpuMeter, timeout: float
) -> ThroughputResult:
    with meter.measure() as use:
        ids, errors, started, submitted = asyncio.run(submit_executions(base_url, world, count, concurrency))
        deadline = time.monotonic() + timeout
        while True:
            counts = db.statuses(ids)
            if sum(counts.get(s, 0) for s in FINISHED) >= len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    stamps = db.timestamps(ids)
    last = max((completed for _, _, completed in stamps.values()), default=time.time())
    failures = errors + len(ids) - counts.get("completed", 0)
    return ThroughputResult(
        "1-node executions through the API", count, last - started, failures, use[0], submitted - started
    )


def median_round(results: list[ThroughputResult]) -> ThroughputResult:
    """The round with the median rate (the upper one of two middle rounds): one real round's numbers."""
    return sorted(results, key=lambda r: r.rate)[len(results) // 2]


def throughput_table(pings: list[ThroughputResult], runs: list[ThroughputResult], workers: int) -> list[str]:
    base = median_round(pings).rate
    lines = [
        f"| workload ({workers} worker processes) | N | per s | wall s | failures | vs ping baseline "
        "| CPU ms each: workers | API | PostgreSQL | Valkey | bench client | machine CPU % | others' CPU % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for results in (pings, runs):
        if not results:
            continue
        median = median_round(results)

        def ms(group: str, r: ThroughputResult = median) -> str:
            return f"{r.use.groups.get(group, 0.0) / r.count * 1000:.2f}"

        lines.append(
            f"| {median.name} | {median.count} | {median.rate:.0f} | {median.wall:.2f} "
            f"| {sum(r.failures for r in results)} | {median.rate / base:.2f} "
            f"| {ms('workers')} | {ms('API')} | {ms('PostgreSQL')} | {ms('Valkey')} | {ms('bench client')} "
            f"| {median.use.percent(median.use.machine_busy):.0f} | {median.use.percent(median.use.foreign):.0f} |"
        )
    return lines


# --- report --------------------------------------------------------------------------------------


def machine_facts(pg_version: str) -> list[str]:
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    versions = []
    for module in ("celery", "kombu", "redis", "langgraph", "sqlalchemy", "psycopg", "uvicorn", "fastapi"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions.append(f"{module} {version(module)}")
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        versions.append(f"langgraph-checkpoint-postgres {version('langgraph-checkpoint-postgres')}")
    return [
        f"- nproc: {os.cpu_count()} ({cpu_model}), memory {psutil.virtual_memory().total / 2**30:.0f} GiB",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()} ({sys.executable})",
        f"- PostgreSQL {pg_version} (embedded, default `synchronous_commit = on`), Valkey (embedded)",
        f"- {', '.join(versions)}",
    ]


def verdict(met: bool) -> str:
    return "**MET**" if met else "**NOT MET**"


def use_line(name: str, use: CpuUse) -> str:
    groups = ", ".join(f"{group} {seconds:.1f} s" for group, seconds in use.groups.items() if seconds >= 0.05)
    return (
        f"- {name}: {use.wall:.1f} s wall; CPU {groups}; machine {use.percent(use.machine_busy):.0f}% busy, "
        f"of which others' processes {use.percent(use.foreign):.0f}%"
    )


# --- main ----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=40, help="nodes in the chain graph (default 40)")
    parser.add_argument(
        "--output-bytes",
        type=int,
        default=0,
        help="parts 1-2: each chain node outputs this many bytes of text (default: 13, 'constant text')",
    )
    parser.add_argument("--rounds", type=int, default=40, help="part 1: measured runs per engine path (default 40)")
    parser.add_argument("--warmup-rounds", type=int, default=5, help="part 1: discarded runs per path (default 5)")
    parser.add_argument("--latency-runs", type=int, default=60, help="part 2: measured executions (default 60)")
    parser.add_argument("--latency-warmup", type=int, default=5, help="part 2: discarded executions (default 5)")
    parser.add_argument("--executions", type=int, default=1000, help="part 3: executions per round (default 1000)")
    parser.add_argument("--concurrency", type=int, default=32, help="part 3: concurrent submitting clients")
    parser.add_argument("--throughput-rounds", type=int, default=3, help="part 3: rounds (default 3; median)")
    parser.add_argument("--workers", type=int, default=2, help="part 3: Celery worker processes (default 2)")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn workers for the API (default 1)")
    parser.add_argument(
        "--only", choices=("engine", "latency", "throughput"), action="append", help="run only these parts"
    )
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results_engine.md", help="results file")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file alone")
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=15.0,
        help="before each part, wait while the machine is busier than this %% (default 15)",
    )
    parser.add_argument("--quiet-wait", type=float, default=120.0, help="longest wait for quiet, s (default 120)")
    parser.add_argument(
        "--app-source",
        type=Path,
        default=REPO,
        help="source tree to run (agentflow/, migrations/, alembic.ini), e.g. "
        "`git archive COMMIT agentflow migrations alembic.ini | tar -x -C DIR` (default: this repo)",
    )
    parser.add_argument(
        "--app-commit",
        metavar="COMMIT",
        help="run this commit of agentflow/, migrations/, alembic.ini (exported to a temp dir) instead of "
        "the working tree, e.g. HEAD",
    )
    parser.add_argument(
        "--profile-dir",
        type=Path,
        help="also profile with py-spy (separate, unmeasured passes): the task in part 1, the workers in part 3",
    )
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra env for API and workers")
    parser.add_argument("--engine-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine_child:
        return engine_child(args.engine_child)
    parts = set(args.only or ("engine", "latency", "throughput"))
    profile: ProfileSpec | None = None
    if args.profile_dir:
        py_spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        if py_spy is None:
            print("--profile-dir needs py-spy: .venv/bin/pip install py-spy", file=sys.stderr)
            return 2
        profile = ProfileSpec(py_spy, args.profile_dir.resolve())

    # Stop cleanly on Ctrl-C and on SIGTERM, also when started in the background (where a shell
    # leaves SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    if not args.app_commit:
        app_source = args.app_source.resolve()
        return run(args, argv, parts, profile, app_source, describe_source(app_source))
    # Several people change this working tree at once: a commit, exported, is a fixed target.
    with tempfile.TemporaryDirectory(prefix="agentflow-engine-bench-src-") as tmp:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", args.app_commit],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit, "agentflow", "migrations", "alembic.ini"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        source = f"commit `{commit}` (exported with `git archive`; uncommitted changes not included)"
        return run(args, argv, parts, profile, Path(tmp), source)


def run(
    args: argparse.Namespace,
    argv: Sequence[str] | None,
    parts: set[str],
    profile: ProfileSpec | None,
    app_source: Path,
    source: str,
) -> int:
    overrides = dict(item.split("=", 1) for item in args.env)
    profiles: dict[str, list[tuple[float, str]]] = {}
    sys.path.insert(0, str(app_source))
    from agentflow.embedded.runtime import read_pid
    from agentflow.embedded.stack import EmbeddedStack

    started_at = dt.datetime.now(dt.UTC)
    load_start = load_line()
    engine_rows: list[EngineRow] = []
    engine_use: CpuUse | None = None
    latency: list[LatencySample] = []
    latency_stamps: dict[str, tuple[float, float, float]] = {}
    latency_use: CpuUse | None = None
    pings: list[ThroughputResult] = []
    runs: list[ThroughputResult] = []
    quiet: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="agentflow-engine-bench-") as tmp:
        workdir = Path(tmp)
        print(f"starting embedded PostgreSQL + Valkey in {workdir}; {load_start}", flush=True)
        with EmbeddedStack(workdir / "data") as stack:
            import psycopg

            with psycopg.connect(stack.owner_url) as conn:
                row = conn.execute("SHOW server_version").fetchone()
                pg_version = str(row[0]) if row else "?"
            env = {
                **os.environ,
                **stack.env,
                "PYTHONPATH": str(app_source),
                "AGENTFLOW_LOG_LEVEL": "WARNING",
                "AGENTFLOW_RATE_LIMIT_ENABLED": "true",
                "AGENTFLOW_RATE_LIMIT_ORG": HIGH_LIMIT,
                "AGENTFLOW_RATE_LIMIT_API_KEY": HIGH_LIMIT,
                "AGENTFLOW_RATE_LIMIT_AUTH_IP": HIGH_LIMIT,
                "AGENTFLOW_RATE_LIMIT_AUTH_ACCOUNT": HIGH_LIMIT,
                # Runs started per org and plan (when enforced): raised like the others.
                "AGENTFLOW_RATE_LIMIT_EXECUTIONS": json.dumps(
                    {"starter": HIGH_LIMIT, "pro": HIGH_LIMIT, "enterprise": HIGH_LIMIT}
                ),
                "AGENTFLOW_ACCESS_TOKEN_TTL_SECONDS": "21600",
                **overrides,
            }
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            started: list[Server] = []
            db: OwnerDb | None = None
            celery: Any = None
            try:
                api = Server(
                    "api",
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "agentflow.app:create_app",
                        "--factory",
                        *UVICORN_FLAGS,
                        "--workers",
                        str(args.api_workers),
                        "--port",
                        str(port),
                    ],
                    env,
                    workdir,  # not the repo: a developer's .env must not leak into the benchmark
                    workdir / "api.log",
                )
                started.append(api)
                api.wait_ready(f"{base_url}/readyz")
                world = set_up_data(base_url, args.nodes, node_text(args.output_bytes))
                db = OwnerDb(stack.owner_url, world.org_id)
                pg_pid = read_pid(stack.postgres.pgdata / "postmaster.pid") or 0
                valkey_pid = read_pid(stack.valkey.pid_file) or 0
                meter = CpuMeter(
                    {
                        "API": ([api.pid], True),
                        "PostgreSQL": ([pg_pid], True),
                        "Valkey": ([valkey_pid], False),
                        "bench client": ([os.getpid()], False),
                    }
                )
                print(f"data: 1 org, agents {args.nodes}-node and 1-node (published); API pid {api.pid}", flush=True)

                if "engine" in parts:
                    quiet["engine"] = wait_for_quiet(args.quiet_threshold, args.quiet_wait)
                    print(f"part 1: engine overhead per node ({load_line()})", flush=True)
                    engine_rows, engine_use = run_engine_part(stack, workdir, env, base_url, world, args, meter)
                    print("\n".join(engine_table(engine_rows, args.nodes)), flush=True)
                    if profile is not None:
                        # A separate pass: py-spy's sampling must not touch the measured runs.
                        run_engine_child(
                            stack,
                            workdir,
                            env,
                            base_url,
                            world,
                            meter,
                            name="engine-profile",
                            nodes=args.nodes,
                            rounds=args.rounds,
                            warmup=1,
                            variants=[ENGINE_WORKER],
                            profile=profile,
                        )
                        profiles["engine"] = summarize_profile(
                            sorted(profile.directory.glob("engine-profile-*.txt")), must="Task.apply"
                        )
                        print("\n".join(profile_lines("part 1, task `executions.run`", profiles["engine"])))

                celery = bench_celery(stack.redis_url)
                workers: list[Server] = []
                if parts & {"latency", "throughput"}:
                    workers.append(start_worker("w1", env, workdir))
                    started.append(workers[-1])
                    wait_workers(celery, workers)
                    meter.groups["workers"] = ([w.pid for w in workers], True)
                if "latency" in parts:
                    quiet["latency"] = wait_for_quiet(args.quiet_threshold, args.quiet_wait)
                    print(f"part 2: latency, 1 worker ({load_line()})", flush=True)
                    with meter.measure() as use:
                        latency = asyncio.run(
                            latency_runs(base_url, stack.redis_url, world, args.latency_runs, args.latency_warmup)
                        )
                    latency_use = use[0]
                    latency_stamps = db.timestamps([s.execution_id for s in latency])
                    print("\n".join(latency_table(latency, latency_stamps)), flush=True)
                if "throughput" in parts:
                    for index in range(2, args.workers + 1):
                        workers.append(start_worker(f"w{index}", env, workdir))
                        started.append(workers[-1])
                    wait_workers(celery, workers)
                    meter.groups["workers"] = ([w.pid for w in workers], True)
                    # One small untimed round: first executions of the 1-node agent compile its graph.
                    execution_round(base_url, world, db, 20, 4, meter, 60)
                    for round_no in range(1, args.throughput_rounds + 1):
                        quiet[f"throughput {round_no}"] = wait_for_quiet(args.quiet_threshold, args.quiet_wait)
                        print(
                            f"part 3: throughput round {round_no}, {len(workers)} workers ({load_line()})", flush=True
                        )
                        ping = ping_round(celery, args.executions, meter)
                        pings.append(ping)
                        print(
                            f"  ping:       {ping.rate:7.1f} /s, {ping.failures} failures, {ping.wall:.2f} s",
                            flush=True,
                        )
                        run = execution_round(
                            base_url, world, db, args.executions, args.concurrency, meter, 120 + args.executions / 10
                        )
                        runs.append(run)
                        print(
                            f"  executions: {run.rate:7.1f} /s, {run.failures} failures, {run.wall:.2f} s "
                            f"(submitted in {run.submit_wall:.2f} s)",
                            flush=True,
                        )
                        print("  " + use_line("executions", run.use), flush=True)
                    if profile is not None:
                        spy = profile.start("workers", [w.pid for w in workers])
                        api_spy = profile.start("api", [api.pid], subprocesses=args.api_workers > 1)
                        try:
                            execution_round(
                                base_url,
                                world,
                                db,
                                args.executions,
                                args.concurrency,
                                meter,
                                120 + args.executions / 10,
                            )
                        finally:
                            spy.stop()
                            api_spy.stop()
                        profiles["throughput"] = summarize_profile(spy.outputs)
                        profiles["api"] = summarize_profile(api_spy.outputs, api=True)
                        print("\n".join(profile_lines("part 3, the workers", profiles["throughput"])))
                        print("\n".join(profile_lines("part 3, the API", profiles["api"])))
            finally:
                if db is not None:
                    db.close()
                if celery is not None:
                    with contextlib.suppress(Exception):
                        celery.close()
                for server in reversed(started):
                    server.stop()
    load_end = load_line()

    sections: list[str] = []
    goals: list[str] = []
    if engine_rows:
        worker = next(r for r in engine_rows if r.name == ENGINE_WORKER)
        lg_pg = next(r for r in engine_rows if r.name == LG_PG)
        lg_none = next(r for r in engine_rows if r.name == LG_NONE)
        median = p50(worker.intervals_ms)
        goals.append(
            f"- Engine overhead per no-op node (worker path): p50 {median:.2f} ms, "
            f"p99 {p99(worker.intervals_ms):.2f} ms "
            f"→ goal p50 ≤ {GOAL_NODE_P50_MS:g} ms {verdict(median <= GOAL_NODE_P50_MS)}; "
            f"{median / p50(lg_pg.intervals_ms):.1f}x LangGraph with the same AsyncPostgresSaver "
            f"({p50(lg_pg.intervals_ms):.2f} ms), {median / p50(lg_none.intervals_ms):.0f}x LangGraph without a "
            f"checkpointer ({p50(lg_none.intervals_ms):.3f} ms)"
        )
        sections += [
            "## 1. Engine overhead per node (in process, no Celery)",
            "",
            *engine_table(engine_rows, args.nodes),
            "",
            f"{len(worker.wall_ms)} measured runs per path after {args.warmup_rounds} discarded, paths interleaved "
            "run by run, in one child process on the worker's own event loop and resources "
            "(`tasks._get_resources()`). Per node = time between consecutive nodes' starts (the worker path: "
            "the step rows' `started_at`; the others: in-process marks), i.e. one node's full cycle; "
            f"{args.nodes - 1} per run. `run`: the whole call (the worker path includes claim and record). "
            "`process CPU`: the child's CPU time over all measured runs / (runs x nodes) (the worker path "
            "includes claim and record); `PostgreSQL CPU`: the same for all PostgreSQL processes; "
            "`write transactions/node`: transaction ids PostgreSQL assigned (each one a commit that waits for "
            "a WAL flush) over 2 extra runs / (2 x nodes). Ratios: per-node p50 over the baseline's per-node p50.",
            "",
        ]
        if engine_use is not None:
            sections += [use_line("part 1", engine_use), ""]
    if latency:
        total = [(s.observed - s.sent) * 1000 for s in latency]
        goals.append(
            f"- POST /execute → `completed` ({args.nodes}-node chain, 1 worker): p50 {p50(total):.1f} ms, "
            f"p99 {p99(total):.1f} ms → goal p50 ≤ {GOAL_LATENCY_P50_MS:g} ms "
            f"{verdict(p50(total) <= GOAL_LATENCY_P50_MS)}"
        )
        sections += [
            "## 2. End-to-end latency (API + 1 Celery worker)",
            "",
            *latency_table(latency, latency_stamps),
            "",
            f"{len(latency)} executions one after another (after {args.latency_warmup} discarded), 50 ms apart. "
            "Phases from the execution row's `started_at` / `completed_at` (same clock).",
            "",
        ]
        if latency_use is not None:
            sections += [use_line("part 2", latency_use), ""]
    if runs:
        median_run = median_round(runs)
        failures = sum(r.failures for r in runs)
        met = median_run.rate >= GOAL_THROUGHPUT and failures == 0
        goals.append(
            f"- Throughput of 1-node executions ({args.workers} workers): {median_run.rate:.0f}/s, {failures} failures "
            f"→ goal ≥ {GOAL_THROUGHPUT:g}/s with 0 failures {verdict(met)}; Celery ping baseline "
            f"{median_round(pings).rate:.0f}/s ({median_run.rate / median_round(pings).rate:.2f}x)"
        )
        sections += [
            f"## 3. Throughput ({args.workers} Celery workers, {args.api_workers} uvicorn worker(s))",
            "",
            *throughput_table(pings, runs, args.workers),
            "",
            f"Median round of {len(runs)} (failures: all rounds). {args.executions} executions per round submitted by "
            f"{args.concurrency} concurrent clients; wall = first POST → last `completed_at`. The ping baseline sends "
            f"{args.executions} `system.ping` tasks from one thread, then waits for every result. `CPU ms each`: CPU "
            "seconds of those processes over the round divided by N. `others' CPU %`: processes this bench did not "
            "start (of both cores).",
            "",
            *(
                f"- round {i}: ping {p.rate:.0f}/s; executions {r.rate:.0f}/s ({r.failures} failures, submitted in "
                f"{r.submit_wall:.2f} s); machine {r.use.percent(r.use.machine_busy):.0f}% busy, others "
                f"{r.use.percent(r.use.foreign):.0f}%"
                for i, (p, r) in enumerate(zip(pings, runs, strict=False), start=1)
            ),
            "",
        ]
    if profiles:
        sections += [
            "## Profiles (py-spy, separate unmeasured passes)",
            "",
            f"Share of samples at {profile.rate if profile else 0} Hz by where the time went (`profile_category`).",
            "",
        ]
        titles = {
            "engine": f"part 1: task `executions.run`, {args.nodes}-node chain",
            "throughput": "part 3: the workers (1-node executions)",
            "api": "part 3: the API process (POST /execute)",
        }
        for key, shares in profiles.items():
            sections += [*profile_lines(titles[key], shares), ""]
    print()
    print("\n".join(sections))
    print("\n".join(goals))

    if not args.no_write:
        invocation = shlex.join([".venv/bin/python", "bench/engine_bench.py", *(argv or sys.argv[1:])])
        doc = [
            "# Engine benchmark results",
            "",
            f"Measured {started_at:%Y-%m-%d %H:%M} UTC by `{invocation}`, code: {source}.",
            "",
            "## Goals",
            "",
            *goals,
            "",
            *sections,
            "## Machine load",
            "",
            f"- at start: {load_start}; at end: {load_end}",
            *(f"- busy just before {part}: {busy:.0f}%" for part, busy in quiet.items()),
            "",
            "## Setup",
            "",
            "- API: `uvicorn agentflow.app:create_app --factory "
            f"{' '.join(UVICORN_FLAGS)} --workers {args.api_workers}`"
            + ("" if app_source == REPO or args.app_commit else f", `agentflow` imported from `{app_source}`")
            + ".",
            "- Workers: `celery -A agentflow.worker worker -Q default,executions --pool solo -c 1 -n wN@%h`.",
            "- Rate limits ENABLED with every limit raised to "
            f"`{HIGH_LIMIT}`; agents have `concurrency_limit` 1000. `AGENTFLOW_LOG_LEVEL=WARNING`.",
            *(f"- Extra environment: `{k}={v}`." for k, v in overrides.items()),
            f"- Graphs: `trigger.manual` + {args.nodes - 1} `transform.template` in a line, each output "
            + ("`constant text`" if args.output_bytes <= 0 else f"{args.output_bytes} bytes of random letters")
            + "; "
            "the 1-node agent is `trigger.manual` alone.",
            "",
            "## Machine",
            "",
            *machine_facts(pg_version),
            "",
        ]
        args.output.write_text("\n".join(doc))
        print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; everything started was stopped", file=sys.stderr)
        sys.exit(130)
