"""Sliding-window rate limits in Valkey: per org, per API key, and on auth per IP and per account."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from limits import parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import Redis

from agentflow.app import create_app
from agentflow.kit import ratelimit
from agentflow.kit.errors import TooManyRequests
from agentflow.kit.ratelimit import RateLimiter, window_keys
from tests.api_fixtures import API, client_for, create_api_key, settings_for, signup


@pytest.fixture(scope="module")
async def strict_app(stack) -> AsyncIterator[FastAPI]:
    settings = settings_for(
        stack.env,
        rate_limit_org="5/minute",
        rate_limit_api_key="3/minute",
        rate_limit_auth_ip="4/minute",
        rate_limit_auth_account="2/minute",
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def _ip() -> str:
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


async def test_org_limit_counts_down_then_answers_429(client: httpx.AsyncClient, strict_app: FastAPI) -> None:
    owner = await signup(client)
    async with client_for(strict_app, ip=_ip()) as strict:
        remaining = []
        for _ in range(5):
            ok = await strict.get(f"{API}/org", headers=owner.headers)
            assert ok.status_code == 200
            assert ok.headers["x-ratelimit-limit"] == "5"
            remaining.append(int(ok.headers["x-ratelimit-remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        limited = await strict.get(f"{API}/org", headers=owner.headers)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["x-ratelimit-remaining"] == "0"


async def test_api_key_limit_is_separate_from_the_org(client: httpx.AsyncClient, strict_app: FastAPI) -> None:
    owner = await signup(client)
    key = (await create_api_key(client, owner, scopes=["org:read"]))["key"]
    async with client_for(strict_app, ip=_ip()) as strict:
        statuses = [(await strict.get(f"{API}/org", headers={"X-API-Key": key})).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        # The org still has budget for its people.
        assert (await strict.get(f"{API}/org", headers=owner.headers)).status_code == 200


async def test_login_is_limited_per_ip(client: httpx.AsyncClient, strict_app: FastAPI) -> None:
    ip = _ip()
    async with client_for(strict_app, ip=ip) as attacker, client_for(strict_app, ip=_ip()) as bystander:
        statuses = []
        for i in range(5):
            response = await attacker.post(
                f"{API}/auth/login", json={"email": f"nobody{i}-{uuid.uuid4().hex[:6]}@example.com", "password": "x"}
            )
            statuses.append(response.status_code)
        assert statuses == [401, 401, 401, 401, 429]
        other = await bystander.post(f"{API}/auth/login", json={"email": "someone@example.com", "password": "x"})
        assert other.status_code == 401


async def test_login_is_limited_per_account_across_ips(client: httpx.AsyncClient, strict_app: FastAPI) -> None:
    victim = await signup(client)
    statuses = []
    for _ in range(3):
        async with client_for(strict_app, ip=_ip()) as bot:
            response = await bot.post(f"{API}/auth/login", json={"email": victim.email, "password": "wrong-guess"})
            statuses.append(response.status_code)
    assert statuses == [401, 401, 429]


# -- the limiter itself, against the real Valkey ----------------------------------------------------

RULE = "8/minute"


@pytest.fixture
async def redis(stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def _outcome(limiter: RateLimiter, rule: str, identifier: str) -> tuple[bool, int, float]:
    """(allowed, remaining, reset_at) of one hit, as the response headers would report them."""
    try:
        state = await limiter.hit(rule, "test", identifier)
    except TooManyRequests as exc:
        headers = exc.headers or {}
        return False, int(headers["X-RateLimit-Remaining"]), float(headers["X-RateLimit-Reset"])
    assert state is not None
    return True, state.remaining, state.reset_at


def _count_commands(redis: Redis, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    commands: list[object] = []
    execute = redis.execute_command

    async def counted(*args: object, **options: object) -> object:
        commands.append(args[0])
        return await execute(*args, **options)

    monkeypatch.setattr(redis, "execute_command", counted)
    return commands


async def _sequential_hits(
    redis: Redis, monkeypatch: pytest.MonkeyPatch, rule: str, count: int
) -> tuple[list[tuple[bool, int, float]], list[object], str]:
    """`count` hits one after another by a new limiter on a new identifier: their outcomes, the
    Redis commands they sent, and the identifier."""
    limiter = RateLimiter(redis)
    await limiter.hit(RULE, "test", uuid.uuid4().hex)  # loads the script on the server
    commands = _count_commands(redis, monkeypatch)
    identifier = uuid.uuid4().hex
    return [await _outcome(limiter, rule, identifier) for _ in range(count)], commands, identifier


async def test_each_hit_is_one_round_trip(redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes, commands, _ = await _sequential_hits(redis, monkeypatch, "3/minute", 4)
    assert [(allowed, remaining) for allowed, remaining, _ in outcomes] == [(True, 2), (True, 1), (True, 0), (False, 0)]
    assert commands == ["EVALSHA"] * 4


# Window states to start from, as (count, TTL in ms) of the previous and the current window's
# counter (None: no key). A counter lives for two windows: TTL > 60 s means its window is current.
STATES = {
    "fresh": (None, None),
    "previous window half-way out": ((10, 30_500), (0, 90_500)),
    "current window just ended": (None, (7, 59_000)),
    "both windows counted": ((3, 10_000), (2, 100_000)),
}


@pytest.mark.parametrize("state", list(STATES), ids=list(STATES))
async def test_same_sliding_window_as_the_limits_library(redis: Redis, stack, state: str) -> None:
    """The one-round-trip script must decide and report exactly what `limits`' sliding window
    counter (the implementation it replaces, two round trips per hit) does from the same state."""
    previous, current = STATES[state]
    item = parse(RULE)
    ours, theirs = RateLimiter(redis), SlidingWindowCounterRateLimiter(RedisStorage("async+" + stack.redis_url))
    identifier = uuid.uuid4().hex
    theirs_current = f"LIMITS:{{{item.key_for('test', identifier)}}}"  # limits' own key layout
    for keys in (window_keys(RULE, "test", identifier), [f"{theirs_current}/-1", theirs_current]):
        for key, window in zip(keys, (previous, current), strict=True):
            if window is not None:
                await redis.set(key, window[0], px=window[1])

    for _ in range(8):
        allowed, remaining, reset_at = await _outcome(ours, RULE, identifier)
        expected_allowed = await theirs.hit(item, "test", identifier)
        # `limits` takes the current counter's TTL modulo the window, so read in the millisecond
        # the counter was created (TTL exactly two windows) it reports a reset 0 s away instead of
        # a whole window (see `_state`). Step past that millisecond.
        await asyncio.sleep(0.002)
        stats = await theirs.get_window_stats(item, "test", identifier)
        assert (allowed, remaining) == (expected_allowed, stats.remaining)
        assert reset_at == pytest.approx(stats.reset_time, abs=1.0)  # the header is whole seconds


async def test_previous_window_counts_in_proportion_to_its_overlap(redis: Redis) -> None:
    limiter = RateLimiter(redis)
    identifier = uuid.uuid4().hex
    previous_key, current_key = window_keys(RULE, "test", identifier)
    # 10 requests in the previous minute, which still overlaps the sliding window by half: they
    # count as 5, so 3 of the limit of 8 are left.
    await redis.set(previous_key, 10, px=30_500)
    await redis.set(current_key, 0, px=90_500)
    outcomes = [await _outcome(limiter, RULE, identifier) for _ in range(4)]
    assert [(allowed, remaining) for allowed, remaining, _ in outcomes] == [(True, 2), (True, 1), (True, 0), (False, 0)]
    # One of the previous window's requests leaves the sliding window every 6 s: the next in 0.5 s.
    assert outcomes[-1][2] == pytest.approx(time.time() + 0.5, abs=1.0)
    assert await redis.get(current_key) == "3"


# -- leases: a busy key's hits counted in Redis several at a time --------------------------------


async def test_a_busy_key_takes_its_hits_from_redis_in_leases(redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes, commands, identifier = await _sequential_hits(redis, monkeypatch, "10000/minute", 300)

    assert all(allowed for allowed, _, _ in outcomes)
    # Leases of 1, 2, 4, ... up to 64 (1/100 of the limit, at most MAX_LEASE): 300 hits, 10 trips.
    assert commands == ["EVALSHA"] * 10
    # This process's view of what is left goes down by one per hit, as without leases.
    assert [remaining for _, remaining, _ in outcomes] == list(range(9999, 9699, -1))
    # Every hit handed out was counted in Redis first; what is counted beyond them is still leased.
    counted = int(await redis.get(window_keys("10000/minute", "test", identifier)[1]) or 0)
    assert 300 <= counted <= 300 + ratelimit.MAX_LEASE


async def test_processes_with_leases_never_admit_more_than_the_limit(redis: Redis) -> None:
    """Two limiters stand for two API processes; their concurrent hits overrun a limit of 300,
    taken from Redis in leases of up to 3."""
    processes = [RateLimiter(redis), RateLimiter(redis)]
    identifier = uuid.uuid4().hex
    outcomes = await asyncio.gather(*(_outcome(processes[i % 2], "300/minute", identifier) for i in range(400)))
    admitted = sum(allowed for allowed, _, _ in outcomes)
    # At most each process's last lease (3 hits) may be left unused when the load stops.
    assert 300 - 2 * 3 <= admitted <= 300
    assert int(await redis.get(window_keys("300/minute", "test", identifier)[1]) or 0) <= 300


async def test_concurrent_hits_wait_for_one_lease(redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = RateLimiter(redis)
    identifier = uuid.uuid4().hex
    for _ in range(7):  # leases of 1, 2, 4 ... grow while they are used up in time
        await limiter.hit("10000/minute", "test", identifier)
    commands = _count_commands(redis, monkeypatch)
    outcomes = await asyncio.gather(*(_outcome(limiter, "10000/minute", identifier) for _ in range(40)))
    assert all(allowed for allowed, _, _ in outcomes)
    assert len({remaining for _, remaining, _ in outcomes}) == 40
    # Without the wait, each of the 40 would lease for itself.
    assert 1 <= len(commands) <= 4


class _Clock:
    """The limiter's `time`, with a monotonic clock the test moves forward."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    def time(self) -> float:
        return time.time()


async def test_an_unused_lease_expires_and_stays_counted(redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(ratelimit, "time", clock)
    limiter = RateLimiter(redis)
    identifier = uuid.uuid4().hex
    for _ in range(4):  # leases of 1 and 2, then a lease of 4 with 3 hits left
        await limiter.hit("10000/minute", "test", identifier)
    current_key = window_keys("10000/minute", "test", identifier)[1]
    assert await redis.get(current_key) == "7"
    clock.skipped = ratelimit.LEASE_SECONDS
    commands = _count_commands(redis, monkeypatch)
    allowed, remaining, _ = await _outcome(limiter, "10000/minute", identifier)
    # The 3 left over are not handed out any more, and not given back: the limit only gets stricter.
    assert commands == ["EVALSHA"]
    assert allowed
    assert await redis.get(current_key) == "9"  # the next lease is half the last one: 2
    assert remaining == 10000 - 9 + 1
