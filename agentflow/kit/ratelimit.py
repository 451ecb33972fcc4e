"""Sliding-window rate limits in Redis (spec §8.4): one round trip per limit.

The algorithm is the sliding window counter of the `limits` library (which still parses the rules,
e.g. "1000/minute"): a counter for the current fixed window and one for the previous window, whose
count is weighted by the share of it still inside the sliding window. `limits` needs two round
trips per limit (count the hit, then read the state for the headers); the Lua script below does
both atomically in one, and every request that authenticates pays it (bench/api_bench.py).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from redis.asyncio import Redis

from agentflow.kit.errors import TooManyRequests

# KEYS: previous window, current window. ARGV: limit, window length in seconds.
# Returns: allowed (1/0), previous count, previous TTL (ms), current count, current TTL (ms),
# the state after the hit, as `limits`' hit + get_window_stats would read it.
_HIT_SCRIPT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2]) * 1000

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
local allowed = math.floor(previous * previous_ttl / window) + current + 1 <= limit
if allowed then
    if redis.call('exists', KEYS[2]) == 1 then
        redis.call('incrby', KEYS[2], 1)
    else
        redis.call('set', KEYS[2], 1, 'PX', window * 2)
    end
end
local previous_after, previous_ttl_after, current_after, current_ttl_after = state()
return {allowed and 1 or 0, previous_after, previous_ttl_after, current_after, current_ttl_after}
"""

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


class RateLimiter:
    def __init__(self, redis: Redis, *, enabled: bool = True) -> None:
        self.enabled = enabled
        # EVALSHA, falling back to loading the script once per server (redis-py's Script).
        self._hit = redis.register_script(_HIT_SCRIPT)

    async def hit(self, rule: str, *identifiers: str) -> RateLimitState | None:
        """Count one request against `rule` for these identifiers; raise 429 when over."""
        if not self.enabled:
            return None
        item = _parse(rule)
        allowed, previous, previous_ttl_ms, current, current_ttl_ms = await self._hit(
            keys=window_keys(rule, *identifiers), args=[item.amount, item.get_expiry()]
        )
        state = _state(item, int(previous), previous_ttl_ms / 1000, int(current), current_ttl_ms / 1000)
        if not allowed:
            retry_after = max(1, math.ceil(state.reset_at - time.time()))
            raise TooManyRequests(
                "Too many requests; slow down and retry later",
                details={"retry_after_seconds": retry_after},
                headers={**state.headers(), "Retry-After": str(retry_after)},
            )
        return state


def window_keys(rule: str, *identifiers: str) -> list[str]:
    """The Redis keys of the previous and the current window of one limit."""
    # Braces: both keys hash to the same Redis Cluster slot, as a script's keys must.
    current = f"ratelimit:{{{_parse(rule).key_for(*identifiers)}}}"
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
