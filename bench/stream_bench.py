"""Live execution stream fan-out: publish → 500 WebSocket subscribers, against a bare Redis
pub/sub round trip measured in the same run.

    .venv/bin/python bench/stream_bench.py                        # 3 rounds, 500 subscribers
    .venv/bin/python bench/stream_bench.py --rounds 1 --no-write  # a quick look

What it does:
1. Starts an `EmbeddedStack` (real PostgreSQL + Valkey, migrated) in a temporary data dir, and ONE
   uvicorn worker serving `agentflow.app:create_app --factory` (same flags as api_bench.py).
2. Through the API: signs up, creates and publishes an agent, starts executions (there is no
   Celery worker, so they stay `pending` and nothing else publishes on their channels).
3. Opens N WebSocket subscribers to `WS /api/v1/executions/{id}/stream` (JWT as the `bearer.`
   subprotocol) from this process and waits for each one's snapshot. Each subscriber is
   websockets' sans-I/O client protocol read straight from `data_received` (see `Subscriber`).
4. Publishes events on `execution:{id}` exactly as `RedisEventSink` does (same JSON, contiguous
   seq), but without its INSERT: what is measured is the stream, not the database. Each
   event carries its publish time; each subscriber records receive time minus publish time.
   - paced: R events/s for D seconds to ONE execution all N subscribers watch (R x N
     deliveries/s): the worst case, every event fanned out N times; the goals are judged here;
   - burst: B events back to back to that execution: how fast all N get all B (deliveries/s);
   - spread: the N subscribers over S executions (N/S each), R events/s on each: the same
     deliveries/s, shaped like many users each watching their own runs.
5. Baseline: the same paced publishing to one bare redis-py subscriber in this process (a Redis
   pub/sub round trip, no API in between).
6. Prints p50/p99 per scenario with the ratio to the baseline, the load average and the CPU per
   delivery of the API process and of this one, checks the goals, and writes
   bench/results_stream.md (unless `--no-write`).

Publisher and subscribers share this process (one event loop, one clock): a subscriber's latency
includes waiting behind the other subscribers' messages in this process as well as in the server.
The API runs on core 0 and this process on core 1 (`--no-pin` lets them share): browsers watch
from their own machines, and on one host the scheduler otherwise often runs the subscribers on
the API's core, the two taking turns on it.
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
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import orjson
import psutil
import uvloop
from api_bench import UVICORN_FLAGS, Server, _raise_interrupt, free_port
from redis.asyncio import Redis
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

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


def pending_executions(base_url: str, count: int) -> tuple[str, list[str]]:
    """(access token, execution ids) of `count` executions of a fresh org that nothing will run."""
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
        url = f"{API}/agents/{agent['id']}/execute"
        ids = [_ok(client.post(url, headers=headers, json={"input": {}}), 202)["execution_id"] for _ in range(count)]
        return signed_up["access_token"], ids


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
    expected: int  # deliveries: events x the subscribers of each event's execution
    seconds: float
    latencies_ns: list[int]
    load_before: float
    server_cpu_s: float | None = None  # the API process's CPU seconds during the scenario
    client_cpu_s: float | None = None  # this process's (subscribers and publisher)

    def cpu_us_per_delivery(self, cpu_s: float | None) -> str:
        return f"{cpu_s / len(self.latencies_ns) * 1e6:.1f}" if cpu_s is not None and self.latencies_ns else "-"

    @property
    def deliveries_per_s(self) -> float:
        return len(self.latencies_ns) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_ns)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


class Subscriber(asyncio.Protocol):
    """One WebSocket subscriber: websockets' sans-I/O client protocol fed straight from
    `data_received`. The library's asyncio client adds a queue and a task wake-up per message
    (~28 µs of this process's CPU per delivery, more than the API spends sending it); here a
    message costs its frame parsing and one JSON decode, so the bench measures the server more
    than itself. Handshake, framing, pings and the close are still the library's."""

    def __init__(self, uri: str, subprotocols: list[Subprotocol], on_message: Callable[[bytes], None]) -> None:
        self.protocol = ClientProtocol(parse_uri(uri), subprotocols=subprotocols, max_size=None)
        self.on_message = on_message
        loop = asyncio.get_running_loop()
        self.first_message: asyncio.Future[bytes] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                message = bytes(event.data)
                if not event.fin:
                    raise RuntimeError("the API fragments no messages; this subscriber reads whole frames only")
                if self.first_message.done():
                    self.on_message(message)
                else:
                    self.first_message.set_result(message)
        if self.protocol.handshake_exc is not None and not self.first_message.done():
            self.first_message.set_exception(self.protocol.handshake_exc)
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.first_message.done():
            self.first_message.set_exception(exc or ConnectionError("closed before the snapshot"))
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.protocol.send_close()
            self._flush()
            self.transport.close()

    def _flush(self) -> None:
        assert self.transport is not None
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()


class Subscribers:
    def __init__(self) -> None:
        self.phase: Phase | None = None
        self.connections: list[Subscriber] = []
        self.errors = 0

    async def open(self, ws_urls: list[str], token: str) -> None:
        """One subscriber per URL (the same URL again: another subscriber of that execution)."""
        gate = asyncio.Semaphore(50)
        url = urlsplit(ws_urls[0])
        host, port = url.hostname or "127.0.0.1", url.port or 80
        subprotocols = [Subprotocol("agentflow.v1"), Subprotocol(f"bearer.{token}")]
        loop = asyncio.get_running_loop()

        async def one(ws_url: str) -> Subscriber:
            async with gate, asyncio.timeout(60):
                _, subscriber = await loop.create_connection(
                    lambda: Subscriber(ws_url, subprotocols, self._record), host, port
                )
                snapshot = orjson.loads(await subscriber.first_message)
                if snapshot.get("type") != "snapshot":
                    raise RuntimeError(f"expected a snapshot, got {snapshot}")
                return subscriber

        self.connections = list(await asyncio.gather(*(one(ws_url) for ws_url in ws_urls)))

    def _record(self, raw: bytes) -> None:
        message = orjson.loads(raw)
        if message.get("type") == "error":
            self.errors += 1
        elif self.phase is not None:
            self.phase.record(message["data"]["t"])

    async def close(self) -> None:
        for subscriber in self.connections:
            subscriber.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*(s.closed for s in self.connections))
        self.connections = []


class Publisher:
    """`RedisEventSink.emit`'s message and channel, without its INSERT: one event per call, taking
    the executions in turn, each with its own contiguous seq."""

    def __init__(self, redis: Redis, execution_ids: list[str]) -> None:
        self.redis = redis
        self.execution_ids = execution_ids
        self.seqs = dict.fromkeys(execution_ids, 0)
        self.calls = 0

    async def emit(self) -> None:
        execution_id = self.execution_ids[self.calls % len(self.execution_ids)]
        self.calls += 1
        self.seqs[execution_id] += 1
        message = {
            "seq": self.seqs[execution_id],
            "type": "step.token",
            "execution_id": execution_id,
            "at": dt.datetime.now(dt.UTC).isoformat(),
            "data": {"node_id": "chat", "delta": "token ", "t": time.perf_counter_ns()},
        }
        await self.redis.publish(f"execution:{execution_id}", orjson.dumps(message))


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
    name: str, subscribers: Subscribers, publisher: Publisher, server_pid: int, *, rate: float | None, events: int
) -> Result:
    """Publish `events` (paced at `rate` per second, or back to back) and wait for every delivery."""
    n = len(subscribers.connections)
    load = os.getloadavg()[0]
    phase = Phase(expected=events * n // len(publisher.execution_ids))
    subscribers.phase = phase
    server = psutil.Process(server_pid)
    cpu_before = sum(server.cpu_times()[:2])
    client_cpu_before = time.process_time()
    started = time.perf_counter()
    if rate is None:
        for _ in range(events):
            await publisher.emit()
    else:
        await paced(publisher.emit, rate, events)
    await wait_phase(phase, 60)
    finished = (phase.last_at / 1e9) if phase.last_at else time.perf_counter()
    seconds = max(finished - started, 1e-9)
    cpu = sum(server.cpu_times()[:2]) - cpu_before
    client_cpu = time.process_time() - client_cpu_before
    subscribers.phase = None
    return Result(name, n, phase.expected, seconds, phase.latencies_ns, load, cpu, client_cpu)


# --- report ----------------------------------------------------------------------------------------


def table(results: list[Result], baseline_p50: float, baseline_p99: float) -> list[str]:
    lines = [
        "| scenario | subscribers | deliveries | deliveries/s | p50 ms | p99 ms | p50 / baseline | p99 / baseline "
        "| API CPU µs / delivery | subscribers' CPU µs / delivery | load avg before |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        cpu, client_cpu = r.cpu_us_per_delivery(r.server_cpu_s), r.cpu_us_per_delivery(r.client_cpu_s)
        lines.append(
            f"| {r.scenario} | {r.subscribers} | {len(r.latencies_ns)} / {r.expected} "
            f"| {r.deliveries_per_s:,.0f} | {r.percentile_ms(0.5):.2f} | {r.percentile_ms(0.99):.2f} "
            f"| {r.percentile_ms(0.5) / baseline_p50:.1f}x | {r.percentile_ms(0.99) / baseline_p99:.1f}x "
            f"| {cpu} | {client_cpu} | {r.load_before:.2f} |"
        )
    return lines


def median_of(results: list[Result], scenario: str, what: str) -> float:
    values = [
        r.percentile_ms(0.5) if what == "p50" else r.percentile_ms(0.99) if what == "p99" else r.deliveries_per_s
        for r in results
        if r.scenario == scenario
    ]
    return statistics.median(values)


def scenario_names(args: argparse.Namespace) -> tuple[str, str, str]:
    """Paced on one execution (what the goals are judged on: every event goes to all subscribers),
    the burst, and paced with the subscribers spread over several executions."""
    return (
        f"paced {args.rate:g} events/s",
        f"burst of {args.burst} events",
        f"paced {args.rate:g} events/s on each of {args.spread} executions",
    )


async def run(args: argparse.Namespace, stack: Any, server: Server, base_url: str) -> list[Result]:
    token, execution_ids = pending_executions(base_url, args.spread)
    stream_url = base_url.replace("http://", "ws://") + f"{API}/executions/{{}}/stream"
    redis = Redis.from_url(stack.redis_url)
    results: list[Result] = []
    if args.pin:
        # Browsers watch from their own machines. On one host, Linux's wake-affine scheduling
        # tends to run this process on the API's core as each message wakes it: the two then
        # take turns on one core (p50 ~1.6x, bench/results_stream.md). Keep them apart.
        if len(os.sched_getaffinity(0)) < 2:
            raise SystemExit("--pin needs two cores; run with --no-pin")
        first, second, *_ = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(server.pid, {first})
        os.sched_setaffinity(0, {second})
    paced_events = int(args.rate * args.duration)
    one, burst, spread = scenario_names(args)

    async def report(round_no: int, scenario: Awaitable[Result]) -> None:
        result = await scenario
        results.append(result)
        print(
            f"round {round_no}: {result.scenario:<52} {len(result.latencies_ns):>7} deliveries "
            f"{result.deliveries_per_s:>9,.0f}/s  p50 {result.percentile_ms(0.5):7.2f} ms  "
            f"p99 {result.percentile_ms(0.99):7.2f} ms  CPU µs/delivery: "
            f"API {result.cpu_us_per_delivery(result.server_cpu_s)} "
            f"subscribers {result.cpu_us_per_delivery(result.client_cpu_s)}  load {result.load_before:.2f}",
            flush=True,
        )
        await asyncio.sleep(1)

    async def with_subscribers(ws_urls: list[str], body: Callable[[Subscribers], Awaitable[None]]) -> None:
        subscribers = Subscribers()
        try:
            opened = time.perf_counter()
            await subscribers.open(ws_urls, token)
            print(f"{len(ws_urls)} subscribers connected in {time.perf_counter() - opened:.1f} s", flush=True)
            await body(subscribers)
            if subscribers.errors:
                print(f"WARNING: {subscribers.errors} subscribers were told to resume (TOO_SLOW)", flush=True)
        finally:
            await subscribers.close()

    async def on_one_execution(subscribers: Subscribers) -> None:
        publisher = Publisher(redis, execution_ids[:1])
        for round_no in range(1, args.rounds + 1):
            base_count = int(args.baseline_rate * args.duration)
            await report(round_no, baseline(stack.redis_url, args.baseline_rate, base_count))
            await report(
                round_no, fan_out(one, subscribers, publisher, server.pid, rate=args.rate, events=paced_events)
            )
            await report(round_no, fan_out(burst, subscribers, publisher, server.pid, rate=None, events=args.burst))

    async def spread_out(subscribers: Subscribers) -> None:
        publisher = Publisher(redis, execution_ids)
        rate, events = args.rate * args.spread, paced_events * args.spread
        for round_no in range(1, args.rounds + 1):
            await report(round_no, fan_out(spread, subscribers, publisher, server.pid, rate=rate, events=events))

    try:
        await with_subscribers([stream_url.format(execution_ids[0])] * args.subscribers, on_one_execution)
        if args.spread > 1:
            urls = [stream_url.format(execution_ids[i % args.spread]) for i in range(args.subscribers)]
            await with_subscribers(urls, spread_out)
    finally:
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
    parser.add_argument(
        "--spread", type=int, default=100, help="executions the subscribers share in the spread scenario (1: skip it)"
    )
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="let the API and the subscribers share cores as they may"
    )
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results_stream.md")
    args = parser.parse_args(argv)
    if args.spread < 1 or args.subscribers % args.spread:
        parser.error("--spread must divide --subscribers: each execution gets as many subscribers")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    sys.path.insert(0, str(REPO))
    from agentflow.embedded.stack import EmbeddedStack

    started_at = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="agentflow-stream-bench-") as tmp:
        workdir = Path(tmp)
        print(f"starting embedded PostgreSQL + Valkey in {workdir}", flush=True)
        with EmbeddedStack(workdir / "data") as stack, api_server(stack.env, workdir) as (server, base_url):
            results = uvloop.run(run(args, stack, server, base_url))

    base = "baseline: Redis pub/sub round trip"
    paced_name, burst_name, spread_name = scenario_names(args)
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
        f"{args.burst}, {'the API and the subscribers on separate cores' if args.pin else 'cores shared'}. "
        "Medians over rounds:",
        "",
        "| scenario | subscribers | p50 ms | p99 ms | p50 / baseline | p99 / baseline | deliveries/s "
        "| load avg before |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in (base, paced_name, burst_name, *([spread_name] if args.spread > 1 else [])):
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
