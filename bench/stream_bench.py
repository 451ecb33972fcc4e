"""Live execution stream fan-out: publish → 500 WebSocket subscribers, against a bare Redis
pub/sub round trip measured in the same run.

    .venv/bin/python bench/stream_bench.py                        # 3 rounds, 500 subscribers
    .venv/bin/python bench/stream_bench.py --rounds 1 --no-write  # a quick look

What it does:
1. Starts an `EmbeddedStack` (real PostgreSQL + Valkey, migrated) in a temporary data dir, and ONE
   uvicorn worker serving `agentflow.app:create_app --factory` (same flags as api_bench.py).
2. Through the API: signs up, creates and publishes an agent, starts one execution (there is no
   Celery worker, so it stays `pending` and nothing else publishes on its channel).
3. Opens N WebSocket subscribers to `WS /api/v1/executions/{id}/stream` (JWT as the `bearer.`
   subprotocol) from this process and waits for each one's snapshot.
4. Publishes events on `execution:{id}` exactly as `RedisEventSink` does (same JSON, contiguous
   seq), but without its INSERT: what is measured is the stream, not the database. Each
   event carries its publish time; each subscriber records receive time minus publish time.
   - paced: R events/s for D seconds (R x N deliveries/s): latency at a steady rate;
   - burst: B events back to back: how fast all N subscribers get all B (deliveries/s).
5. Baseline: the same paced publishing to one bare redis-py subscriber in this process (a Redis
   pub/sub round trip, no API in between).
6. Prints p50/p99 per scenario with the ratio to the baseline, the load average and the API
   process's CPU, checks the goals, and writes bench/results_stream.md (unless `--no-write`).

Publisher and subscribers share this process (one event loop, one clock): a subscriber's latency
includes waiting behind the other subscribers' messages in this process as well as in the server.
Everything started here is stopped at the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
from api_bench import UVICORN_FLAGS, Server, _raise_interrupt, free_port
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
API = "/api/v1"
PASSWORD = "bench password 123"  # noqa: S105 - throwaway account in a temp database
HIGH_LIMIT = "100000000/minute"
GOAL_P50_MS = 5.0
GOAL_P99_MS = 20.0
GOAL_DELIVERIES_PER_S = 5000.0


# --- setup -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def api_server(stack_env: dict[str, str], workdir: Path) -> Iterator[tuple[Server, str]]:
    port = free_port()
    env = {
        **os.environ,
        **stack_env,
        "PYTHONPATH": str(REPO),
        "AGENTFLOW_LOG_LEVEL": "WARNING",
        "AGENTFLOW_RATE_LIMIT_ORG": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_API_KEY": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_AUTH_IP": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_AUTH_ACCOUNT": HIGH_LIMIT,
        "AGENTFLOW_ACCESS_TOKEN_TTL_SECONDS": "21600",
    }
    command = [sys.executable, "-m", "uvicorn", "agentflow.app:create_app", "--factory", *UVICORN_FLAGS]
    server = Server("app", [*command, "--port", str(port)], env, workdir, workdir / "app.log")
    try:
        url = f"http://127.0.0.1:{port}"
        server.wait_ready(f"{url}/readyz")
        yield server, url
    finally:
        server.stop()


def _ok(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


def pending_execution(base_url: str) -> tuple[str, str]:
    """(access token, execution id) of a fresh org's execution that nothing will run."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        signed_up = _ok(
            client.post(
                f"{API}/auth/signup",
                json={"email": "bench@example.com", "password": PASSWORD, "name": "Bench", "org_name": "Bench"},
            ),
            201,
        )
        headers = {"Authorization": f"Bearer {signed_up['access_token']}"}
        definition = {
            "schema_version": 1,
            "nodes": [
                {"id": "start", "type": "trigger", "subtype": "manual", "config": {}},
                {"id": "greet", "type": "transform", "subtype": "template", "config": {"template": "hi"}},
            ],
            "edges": [{"id": "e1", "source": "start", "source_handle": "out", "target": "greet"}],
        }
        body = {"name": "bench", "definition": definition}
        agent = _ok(client.post(f"{API}/agents", headers=headers, json=body), 201)
        _ok(client.post(f"{API}/agents/{agent['id']}/publish", headers=headers, json={}), 201)
        started = _ok(client.post(f"{API}/agents/{agent['id']}/execute", headers=headers, json={"input": {}}), 202)
        return signed_up["access_token"], started["execution_id"]


# --- measuring -------------------------------------------------------------------------------------


@dataclass
class Phase:
    """What the subscribers record for one scenario."""

    expected: int
    latencies_ns: list[int] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    last_at: int = 0

    def record(self, sent_ns: int) -> None:
        now = time.perf_counter_ns()
        self.latencies_ns.append(now - sent_ns)
        self.last_at = now
        if len(self.latencies_ns) >= self.expected:
            self.done.set()


@dataclass
class Result:
    scenario: str
    subscribers: int
    events: int
    seconds: float
    latencies_ns: list[int]
    load_before: float
    server_cpu_percent: float | None = None

    @property
    def deliveries_per_s(self) -> float:
        return len(self.latencies_ns) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_ns)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


class Subscribers:
    def __init__(self) -> None:
        self.phase: Phase | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.connections: list[ClientConnection] = []
        self.errors = 0

    async def open(self, ws_url: str, token: str, count: int) -> None:
        gate = asyncio.Semaphore(50)

        async def one() -> ClientConnection:
            async with gate:
                ws = await connect(
                    ws_url,
                    subprotocols=[Subprotocol("agentflow.v1"), Subprotocol(f"bearer.{token}")],
                    compression=None,
                    open_timeout=60,
                    max_queue=None,
                )
                snapshot = orjson.loads(await ws.recv())
                if snapshot.get("type") != "snapshot":
                    raise RuntimeError(f"expected a snapshot, got {snapshot}")
                return ws

        self.connections = list(await asyncio.gather(*(one() for _ in range(count))))
        self.tasks = [asyncio.create_task(self._read(ws)) for ws in self.connections]

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            message = orjson.loads(raw)
            if message.get("type") == "error":
                self.errors += 1
                continue
            if self.phase is not None:
                self.phase.record(message["data"]["t"])

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self.connections), return_exceptions=True)


class Publisher:
    """`RedisEventSink.emit`'s message and channel, without its INSERT."""

    def __init__(self, redis: Redis, execution_id: str) -> None:
        self.redis = redis
        self.execution_id = execution_id
        self.channel = f"execution:{execution_id}"
        self.seq = 0

    async def emit(self) -> None:
        self.seq += 1
        message = {
            "seq": self.seq,
            "type": "step.token",
            "execution_id": self.execution_id,
            "at": dt.datetime.now(dt.UTC).isoformat(),
            "data": {"node_id": "chat", "delta": "token ", "t": time.perf_counter_ns()},
        }
        await self.redis.publish(self.channel, orjson.dumps(message))


async def paced(emit: Any, rate: float, count: int) -> float:
    """Call `emit` `count` times at `rate` per second; the seconds it took."""
    started = time.perf_counter()
    for i in range(count):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await emit()
    return time.perf_counter() - started


async def wait_phase(phase: Phase, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await phase.done.wait()


async def baseline(redis_url: str, rate: float, count: int) -> Result:
    load = os.getloadavg()[0]
    publisher = Redis.from_url(redis_url)
    subscriber = Redis.from_url(redis_url)
    pubsub = subscriber.pubsub()
    await pubsub.subscribe("bench:baseline")
    phase = Phase(expected=count)

    async def listen() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                phase.record(orjson.loads(message["data"])["t"])

    listener = asyncio.create_task(listen())

    async def emit() -> None:
        await publisher.publish("bench:baseline", orjson.dumps({"seq": 1, "data": {}, "t": time.perf_counter_ns()}))

    try:
        seconds = await paced(emit, rate, count)
        await wait_phase(phase, 10)
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await subscriber.aclose()
        await publisher.aclose()
    return Result("baseline: Redis pub/sub round trip", 1, count, seconds, phase.latencies_ns, load)


async def fan_out(
    subscribers: Subscribers, publisher: Publisher, server_pid: int, *, rate: float | None, events: int
) -> Result:
    n = len(subscribers.connections)
    load = os.getloadavg()[0]
    phase = Phase(expected=n * events)
    subscribers.phase = phase
    server = psutil.Process(server_pid)
    cpu_before = sum(server.cpu_times()[:2])
    started = time.perf_counter()
    if rate is None:
        for _ in range(events):
            await publisher.emit()
    else:
        await paced(publisher.emit, rate, events)
    await wait_phase(phase, 60)
    finished = (phase.last_at / 1e9) if phase.last_at else time.perf_counter()
    seconds = max(finished - started, 1e-9)
    cpu = (sum(server.cpu_times()[:2]) - cpu_before) / seconds * 100
    subscribers.phase = None
    name = f"paced {rate:g} events/s" if rate is not None else f"burst of {events} events"
    return Result(name, n, events, seconds, phase.latencies_ns, load, cpu)


# --- report ----------------------------------------------------------------------------------------


def table(results: list[Result], baseline_p50: float, baseline_p99: float) -> list[str]:
    lines = [
        "| scenario | subscribers | deliveries | deliveries/s | p50 ms | p99 ms | p50 / baseline | p99 / baseline "
        "| API CPU % | load avg before |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        cpu = f"{r.server_cpu_percent:.0f}" if r.server_cpu_percent is not None else "-"
        lines.append(
            f"| {r.scenario} | {r.subscribers} | {len(r.latencies_ns)} / {r.subscribers * r.events} "
            f"| {r.deliveries_per_s:,.0f} | {r.percentile_ms(0.5):.2f} | {r.percentile_ms(0.99):.2f} "
            f"| {r.percentile_ms(0.5) / baseline_p50:.1f}x | {r.percentile_ms(0.99) / baseline_p99:.1f}x "
            f"| {cpu} | {r.load_before:.2f} |"
        )
    return lines


def median_of(results: list[Result], scenario: str, what: str) -> float:
    values = [
        r.percentile_ms(0.5) if what == "p50" else r.percentile_ms(0.99) if what == "p99" else r.deliveries_per_s
        for r in results
        if r.scenario == scenario
    ]
    return statistics.median(values)


async def run(args: argparse.Namespace, stack: Any, server: Server, base_url: str) -> list[Result]:
    token, execution_id = pending_execution(base_url)
    ws_url = base_url.replace("http://", "ws://") + f"{API}/executions/{execution_id}/stream"
    redis = Redis.from_url(stack.redis_url)
    subscribers = Subscribers()
    results: list[Result] = []
    try:
        opened = time.perf_counter()
        await subscribers.open(ws_url, token, args.subscribers)
        print(f"{args.subscribers} subscribers connected in {time.perf_counter() - opened:.1f} s", flush=True)
        publisher = Publisher(redis, execution_id)
        paced_events = int(args.rate * args.duration)
        for round_no in range(1, args.rounds + 1):
            for scenario in (
                lambda: baseline(stack.redis_url, args.baseline_rate, int(args.baseline_rate * args.duration)),
                lambda: fan_out(subscribers, publisher, server.pid, rate=args.rate, events=paced_events),
                lambda: fan_out(subscribers, publisher, server.pid, rate=None, events=args.burst),
            ):
                result = await scenario()
                results.append(result)
                print(
                    f"round {round_no}: {result.scenario:<36} {len(result.latencies_ns):>7} deliveries "
                    f"{result.deliveries_per_s:>9,.0f}/s  p50 {result.percentile_ms(0.5):7.2f} ms  "
                    f"p99 {result.percentile_ms(0.99):7.2f} ms  load {result.load_before:.2f}",
                    flush=True,
                )
                await asyncio.sleep(1)
        if subscribers.errors:
            print(f"WARNING: {subscribers.errors} subscribers were told to resume (TOO_SLOW)", flush=True)
    finally:
        await subscribers.close()
        await redis.aclose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--rate", type=float, default=10.0, help="paced events/s (x subscribers = deliveries/s)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of paced publishing per round")
    parser.add_argument("--burst", type=int, default=100, help="events published back to back")
    parser.add_argument("--baseline-rate", type=float, default=100.0, help="baseline publishes per second")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results_stream.md")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    sys.path.insert(0, str(REPO))
    from agentflow.embedded.stack import EmbeddedStack

    started_at = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="agentflow-stream-bench-") as tmp:
        workdir = Path(tmp)
        print(f"starting embedded PostgreSQL + Valkey in {workdir}", flush=True)
        with EmbeddedStack(workdir / "data") as stack, api_server(stack.env, workdir) as (server, base_url):
            results = asyncio.run(run(args, stack, server, base_url))

    base = "baseline: Redis pub/sub round trip"
    paced_name = next(r.scenario for r in results if r.scenario.startswith("paced"))
    burst_name = next(r.scenario for r in results if r.scenario.startswith("burst"))
    b50, b99 = median_of(results, base, "p50"), median_of(results, base, "p99")
    p50, p99 = median_of(results, paced_name, "p50"), median_of(results, paced_name, "p99")
    paced_rate, burst_rate = median_of(results, paced_name, "rate"), median_of(results, burst_name, "rate")
    goals = [
        (f"p50 ≤ {GOAL_P50_MS:g} ms ({paced_name})", p50 <= GOAL_P50_MS, f"{p50:.2f} ms"),
        (f"p99 ≤ {GOAL_P99_MS:g} ms ({paced_name})", p99 <= GOAL_P99_MS, f"{p99:.2f} ms"),
        (
            f"≥ {GOAL_DELIVERIES_PER_S:,.0f} deliveries/s fanned out (paced, and burst capacity)",
            paced_rate >= GOAL_DELIVERIES_PER_S * 0.98 and burst_rate >= GOAL_DELIVERIES_PER_S,
            f"paced {paced_rate:,.0f}/s, burst {burst_rate:,.0f}/s",
        ),
    ]
    lines = [
        "# Live execution stream: fan-out benchmark",
        "",
        f"Run {started_at:%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} cores, Python "
        f"{platform.python_version()}), `bench/stream_bench.py` with {args.rounds} rounds, "
        f"{args.subscribers} WebSocket subscribers, paced {args.rate:g} events/s for {args.duration:g} s, bursts of "
        f"{args.burst}. Medians over rounds:",
        "",
        "| scenario | subscribers | p50 ms | p99 ms | p50 / baseline | p99 / baseline | deliveries/s "
        "| load avg before |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in (base, paced_name, burst_name):
        runs = [r for r in results if r.scenario == name]
        m50, m99 = median_of(results, name, "p50"), median_of(results, name, "p99")
        lines.append(
            f"| {name} | {runs[0].subscribers} | {m50:.2f} | {m99:.2f} | {m50 / b50:.1f}x | {m99 / b99:.1f}x "
            f"| {median_of(results, name, 'rate'):,.0f} | {statistics.median(r.load_before for r in runs):.2f} |"
        )
    lines += ["", "Goals:", ""]
    lines += [f"- {'met' if ok else 'NOT met'}: {name}: {value}" for name, ok, value in goals]
    lines += ["", "Every round:", "", *table(results, b50, b99), ""]
    print("\n".join(lines))
    if not args.no_write:
        previous = (BENCH_DIR / "results_stream.md").read_text() if (BENCH_DIR / "results_stream.md").exists() else ""
        notes = previous.split("<!-- notes -->", 1)[1] if "<!-- notes -->" in previous else "\n"
        (BENCH_DIR / "results_stream.md").write_text("\n".join(lines) + "\n<!-- notes -->" + notes)
        print("wrote bench/results_stream.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
