"""Sliding-window rate limits in Redis (spec §8.4): at most one round trip per limit and request.

The algorithm is the sliding window counter of the `limits` library (which still parses the rules,
e.g. "1000/minute"): a counter for the current fixed window and one for the previous window, whose
count is weighted by the share of it still inside the sliding window. `limits` needs two round
trips per limit (count the hit, then read the state for the headers); the Lua script below does
both atomically in one.

Leases. That round trip was the largest single cost of an authenticated request left
(bench/api_bench.py: ~125-150 µs of CPU, ~13 % of `GET /org/members`). A process that sees one
key often now counts several of its hits in Redis at once and hands them out itself: the lease
doubles while each one is used up within `LEASE_SECONDS`, halves when one expires unused, and
never exceeds 1/`LEASE_SHARE` of the limit (so small limits, such as the login limits, stay exact,
one round trip per hit). Leased hits are counted in Redis before any is handed out, so every
process together never admits more than the limit: a leased hit left unused (at most one lease per
key and process) counts as if it had been made, i.e. the limit only gets stricter. The price is
`X-RateLimit-Remaining`, which a process reports as of its last lease (less its own hits since).
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from redis.asyncio import Redis

from agentflow.kit.errors import TooManyRequests

# KEYS: previous window, current window. ARGV: limit, window length in seconds, hits wanted.
# Returns: hits granted (as many of those wanted as fit, 0 when none does), previous count,
# previous TTL (ms), current count, current TTL (ms): the state after the hits, as `limits`'
# hit + get_window_stats would read it.
_HIT_SCRIPT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2]) * 1000
local wanted = tonumber(ARGV[3])

-- A counter lives for two windows; once it is in its second one, it becomes the previous window.
local current_ttl = redis.call('pttl', KEYS[2])
if current_ttl > 0 and current_ttl < window then
    redis.call('rename', KEYS[2], KEYS[1])
    redis.call('set', KEYS[2], 0, 'PX', current_ttl + window)
end

local function state()
    local previous = tonumber(redis.call('get', KEYS[1])) or 0
    local previous_ttl = math.max(redis.call('pttl', KEYS[1]), 0)
    local current = tonumber(redis.call('get', KEYS[2])) or 0
    return previous, previous_ttl, current, math.max(redis.call('pttl', KEYS[2]), 0)
end

local previous, previous_ttl, current = state()
local granted = math.max(0, math.min(wanted, limit - math.floor(previous * previous_ttl / window) - current))
if granted > 0 then
    if redis.call('exists', KEYS[2]) == 1 then
        redis.call('incrby', KEYS[2], granted)
    else
        redis.call('set', KEYS[2], granted, 'PX', window * 2)
    end
end
local previous_after, previous_ttl_after, current_after, current_ttl_after = state()
return {granted, previous_after, previous_ttl_after, current_after, current_ttl_after}
"""

# How long leased hits stay usable. Short: leased hits left over when it ends stay counted.
LEASE_SECONDS = 0.25
# A lease holds at most 1/LEASE_SHARE of the limit, and never more than MAX_LEASE hits.
LEASE_SHARE = 100
MAX_LEASE = 64
# Leases remembered per process before the expired ones are dropped (keys are orgs and API keys).
MAX_LEASES = 10_000

_parse = functools.lru_cache(maxsize=64)(parse)


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_at: float

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }


@dataclass
class _Lease:
    """Hits of one key counted in Redis and not yet handed out by this process."""

    size: int  # hits asked for; the next lease asks for double or half
    left: int
    remaining: int  # the window's remaining count right after the lease, all its hits counted
    reset_at: float
    expires: float  # monotonic

    def next_size(self, now: float, cap: int) -> int:
        if now < self.expires:
            return min(cap, self.size * 2) if self.left == 0 else self.size
        return max(1, self.size // 2) if self.left else self.size


class RateLimiter:
    def __init__(self, redis: Redis, *, enabled: bool = True) -> None:
        self.enabled = enabled
        # EVALSHA, falling back to loading the script once per server (redis-py's Script).
        self._hit = redis.register_script(_HIT_SCRIPT)
        self._leases: dict[str, _Lease] = {}
        # A lease being fetched: other requests for the same key wait for it instead of each
        # leasing for themselves.
        self._fetching: dict[str, asyncio.Future[None]] = {}

    async def hit(self, rule: str, *identifiers: str) -> RateLimitState | None:
        """Count one request against `rule` for these identifiers; raise 429 when over."""
        if not self.enabled:
            return None
        item = _parse(rule)
        key = item.key_for(*identifiers)
        cap = max(1, min(MAX_LEASE, item.amount // LEASE_SHARE))
        if cap == 1:
            return (await self._count(item, key, 1))[0]
        while True:
            lease = self._leases.get(key)
            if lease is not None and lease.left and time.monotonic() < lease.expires:
                lease.left -= 1
                return RateLimitState(item.amount, lease.remaining + lease.left, lease.reset_at)
            fetching = self._fetching.get(key)
            if fetching is None:
                break
            await asyncio.shield(fetching)
        now = time.monotonic()
        size = 1 if lease is None else lease.next_size(now, cap)
        self._fetching[key] = asyncio.get_running_loop().create_future()
        try:
            state, granted = await self._count(item, key, size)
            if len(self._leases) >= MAX_LEASES:
                self._leases = {k: v for k, v in self._leases.items() if v.expires > now}
            self._leases[key] = _Lease(size, granted - 1, state.remaining, state.reset_at, now + LEASE_SECONDS)
            return RateLimitState(item.amount, state.remaining + granted - 1, state.reset_at)
        finally:
            self._fetching.pop(key).set_result(None)

    async def _count(self, item: RateLimitItem, key: str, wanted: int) -> tuple[RateLimitState, int]:
        """Count up to `wanted` hits in Redis: the state after them and how many were granted
        (at least one; none raises 429)."""
        granted, previous, previous_ttl_ms, current, current_ttl_ms = await self._hit(
            keys=_window_keys(key), args=[item.amount, item.get_expiry(), wanted]
        )
        state = _state(item, int(previous), previous_ttl_ms / 1000, int(current), current_ttl_ms / 1000)
        if not granted:
            retry_after = max(1, math.ceil(state.reset_at - time.time()))
            raise TooManyRequests(
                "Too many requests; slow down and retry later",
                details={"retry_after_seconds": retry_after},
                headers={**state.headers(), "Retry-After": str(retry_after)},
            )
        return state, int(granted)


def window_keys(rule: str, *identifiers: str) -> list[str]:
    """The Redis keys of the previous and the current window of one limit."""
    return _window_keys(_parse(rule).key_for(*identifiers))


def _window_keys(key: str) -> list[str]:
    # Braces: both keys hash to the same Redis Cluster slot, as a script's keys must.
    current = f"ratelimit:{{{key}}}"
    return [f"{current}/previous", current]


def _state(item: RateLimitItem, previous: int, previous_ttl: float, current: int, current_ttl: float) -> RateLimitState:
    """Remaining requests and when the next one frees up, computed as `limits`' get_window_stats."""
    window = item.get_expiry()
    remaining = max(0, item.amount - math.floor(previous * previous_ttl / window + current))
    # The weighted previous count drops by one every window/previous seconds; the current
    # window's count leaves when that window ends, i.e. when its counter (made to live two
    # windows) has one window left. (`limits` takes that TTL modulo the window: the same, except
    # 0 instead of a whole window right after the counter is created.)
    resets_in = []
    if previous:
        resets_in.append(previous_ttl % (window / previous))
    if current:
        resets_in.append(max(current_ttl - window, 0.0))
    return RateLimitState(limit=item.amount, remaining=remaining, reset_at=time.time() + min(resets_in, default=0.0))
