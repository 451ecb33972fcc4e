"""Request-scoped dependencies shared by every router: database session, Redis, settings.

Every dependency here is `async def` even when it awaits nothing: FastAPI runs a plain `def`
dependency in the thread pool, and that hop (a thread wake-up plus an event-loop wake-up) costs
more than the attribute lookups themselves (bench/api_bench.py). For the same reason the
authentication dependencies read settings and the limiter from `app.state` directly instead of
declaring them: each declared dependency costs FastAPI's resolution on every request.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.kit.db import Database
from agentflow.kit.principal import RequestMeta
from agentflow.kit.ratelimit import RateLimiter
from agentflow.settings import Settings


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


async def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (scope="function").

    The session begins its transaction on first use. One never used has nothing to commit or
    release, and skipping that spares SQLAlchemy's async bookkeeping (~0.1 ms of CPU): e.g.
    `GET /auth/me` with a JWT reads without a session.
    """
    db: Database = request.app.state.db
    session = db.sessionmaker()
    try:
        yield session
        if session.in_transaction():
            await session.commit()
    finally:
        if session.in_transaction():  # an exception reached here: roll back, return the connection
            await session.close()


async def request_meta(request: Request) -> RequestMeta:
    settings: Settings = request.app.state.settings
    ip = request.client.host if request.client else None
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            ip = forwarded.split(",")[0].strip()
    return RequestMeta(
        ip=_valid_ip(ip),
        user_agent=(request.headers.get("user-agent") or "")[:500] or None,
        request_id=getattr(request.state, "request_id", None),
    )


@functools.lru_cache(maxsize=4096)  # parsing costs ~3% of a light request's CPU; few distinct clients
def _valid_ip(value: str | None) -> str | None:
    """Forwarded headers are client-controlled: keep only a real address."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
RequestMetaDep = Annotated[RequestMeta, Depends(request_meta)]
