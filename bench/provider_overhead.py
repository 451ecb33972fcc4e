"""Overhead of the provider layer (router + normalization) over a bare `openai` SDK call, same run.

    .venv/bin/python bench/provider_overhead.py                 # 20 rounds x 200 calls per path
    .venv/bin/python bench/provider_overhead.py --rounds 5 --calls 100 --no-write

What it does:
1. Starts the fake OpenAI server of the test suite (tests/engine/providers/fakes.py, the same wire
   format the tests use) in a SEPARATE process on 127.0.0.1, so its CPU does not share our GIL.
2. Measures, interleaved round by round so drift hits both alike, after a discarded warm-up:
   - `bare SDK`: `AsyncOpenAI(max_retries=0).chat.completions.create(...)` on one reused client;
   - `router`: `ProviderRouter.chat(ChatRequest(...))` → OpenAIProvider → the same SDK and server,
     including credential lookup, route resolution, circuit breaker, request translation, response
     normalization and Decimal cost.
   It also times the router over the offline scripted provider (no HTTP at all) to show the cost
   of the layer itself.
3. Prints median and p99 per call for each path and the added milliseconds at p50 (goal ≤ 1 ms),
   and writes bench/results_provider_overhead.md (date, command, nproc, table).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import openai

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agentflow.engine.providers import (  # noqa: E402 - after making the repo importable
    ChatMessage,
    ChatRequest,
    CircuitBreakers,
    ProviderCredentials,
    ProviderRouter,
    StaticCredentials,
    build_providers,
    default_catalog,
)

GOAL_ADDED_P50_MS = 1.0
RESULTS = REPO / "bench" / "results_provider_overhead.md"
KEY = "sk-bench-0123456789abcdef"
MESSAGES = [ChatMessage.system("You are terse."), ChatMessage.user("Summarize the quarterly report in one line.")]


def serve(port_file: Path) -> None:
    """Child process: run the fake OpenAI server until killed, announcing its port in a file."""
    from tests.engine.providers.fakes import FakeOpenAI

    server = FakeOpenAI().start()
    port_file.write_text(str(server.port))
    while True:
        time.sleep(3600)


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port_file = Path(f"/tmp/provider-bench-{os.getpid()}.port")  # noqa: S108 - a throwaway rendezvous file
    port_file.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file)], cwd=REPO)
    for _ in range(500):
        if port_file.exists() and port_file.read_text():
            break
        time.sleep(0.02)
    else:
        process.kill()
        raise RuntimeError("the fake server did not start")
    base_url = f"http://127.0.0.1:{port_file.read_text()}/v1"
    port_file.unlink()
    httpx.get(f"{base_url}/models", timeout=5).raise_for_status()
    return process, base_url


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def timed(call: Callable[[], Awaitable[object]], count: int, into: list[float]) -> None:
    for _ in range(count):
        started = time.perf_counter()
        await call()
        into.append((time.perf_counter() - started) * 1000)


async def measure(base_url: str, rounds: int, calls: int, warmup: int) -> dict[str, list[float]]:
    bare_client = openai.AsyncOpenAI(api_key=KEY, base_url=base_url, max_retries=0)

    async def bare() -> object:
        return await bare_client.chat.completions.create(
            model="gpt-4o",
            messages=[
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": MESSAGES[1].content},
            ],
            timeout=10,
        )

    credentials = StaticCredentials({"openai": ProviderCredentials(api_key=KEY, base_url=base_url)})
    providers = build_providers()
    catalog = default_catalog()
    breakers = CircuitBreakers()

    async def routed() -> object:
        # A router per call, as the engine builds one per execution: its setup is part of the cost.
        router = ProviderRouter(providers, catalog, credentials, circuit_breakers=breakers)
        return await router.chat(ChatRequest(model="gpt-4o", messages=MESSAGES, timeout_seconds=10))

    async def scripted() -> object:
        router = ProviderRouter(providers, catalog, credentials, circuit_breakers=breakers)
        return await router.chat(ChatRequest(model="scripted-echo", messages=MESSAGES))

    paths = {"bare SDK": bare, "router": routed, "router, no HTTP (scripted)": scripted}
    for call in paths.values():
        await timed(call, warmup, [])
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, call in paths.items():
            await timed(call, calls, samples[name])
    await bare_client.close()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--calls", type=int, default=200, help="calls per path per round")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file alone")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0

    process, base_url = start_server()
    try:
        samples = asyncio.run(measure(base_url, args.rounds, args.calls, args.warmup))
    finally:
        process.terminate()
        process.wait(timeout=10)

    stats = {name: (statistics.median(v), percentile(v, 0.99), len(v)) for name, v in samples.items()}
    bare_p50, bare_p99, _ = stats["bare SDK"]
    router_p50, router_p99, _ = stats["router"]
    added_p50 = router_p50 - bare_p50
    added_p99 = router_p99 - bare_p99
    verdict = "met" if added_p50 <= GOAL_ADDED_P50_MS else "MISSED"

    rows = ["| path | calls | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    for name, (p50, p99, count) in stats.items():
        rows.append(f"| {name} | {count} | {p50:.3f} | {p99:.3f} |")
    summary = (
        f"Added by the router at p50: **{added_p50:.3f} ms** (goal ≤ {GOAL_ADDED_P50_MS:.0f} ms: {verdict}); "
        f"at p99: {added_p99:.3f} ms."
    )
    print("\n".join(rows))
    print(summary)

    if not args.no_write:
        command = ".venv/bin/python bench/provider_overhead.py" + (
            " " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""
        )
        RESULTS.write_text(
            "\n".join(
                [
                    "# Provider layer overhead",
                    "",
                    f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
                    f"- command: `{command}`",
                    f"- machine: nproc={os.cpu_count()}, {platform.machine()}, Python {platform.python_version()},"
                    f" openai {openai.__version__}",
                    "- server: the test suite's fake OpenAI server (uvicorn, one process) on 127.0.0.1;"
                    " client: one asyncio loop, calls one at a time",
                    f"- {args.rounds} rounds x {args.calls} calls per path, interleaved, after {args.warmup}"
                    " warm-up calls per path",
                    "",
                    *rows,
                    "",
                    summary,
                    "",
                    "`router` = ProviderRouter.chat → OpenAIProvider → the same SDK and server as `bare SDK`"
                    " (credential lookup, route resolution, circuit breaker, request translation, an SDK client"
                    " built on the shared connection pool, response normalization, Decimal cost). The scripted"
                    " row is the router with no HTTP at all.",
                    "",
                ]
            )
        )
        print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
