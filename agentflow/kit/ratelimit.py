"""Sliding-window rate limits in Redis, through the `limits` library (spec §8.4)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from agentflow.kit.errors import TooManyRequests


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
    def __init__(self, redis_url: str, *, enabled: bool = True) -> None:
        self.enabled = enabled
        # limits' async Redis storage speaks to any Redis-protocol server (Valkey here).
        self._storage = RedisStorage("async+" + redis_url, implementation="redispy")
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)

    async def hit(self, rule: str, *identifiers: str) -> RateLimitState | None:
        """Count one request against `rule` for these identifiers; raise 429 when over."""
        if not self.enabled:
            return None
        item = parse(rule)
        allowed = await self._limiter.hit(item, *identifiers)
        stats = await self._limiter.get_window_stats(item, *identifiers)
        state = RateLimitState(limit=item.amount, remaining=stats.remaining, reset_at=stats.reset_time)
        if not allowed:
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise TooManyRequests(
                "Too many requests; slow down and retry later",
                details={"retry_after_seconds": retry_after},
                headers={**state.headers(), "Retry-After": str(retry_after)},
            )
        return state

    async def reset(self) -> None:
        await self._storage.reset()
