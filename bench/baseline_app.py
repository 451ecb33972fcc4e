"""The baseline for bench/api_bench.py: the least an HTTP endpoint backed by PostgreSQL can cost.

One Starlette route that checks out a connection from a psycopg 3 async pool in autocommit mode,
runs `SELECT 1` and answers a small JSON body. Served by uvicorn with the same flags as the app:

    AGENTFLOW_DATABASE_URL=postgresql://... uvicorn --app-dir bench baseline_app:create_app --factory

It reads the database URL and pool size from `agentflow.settings.Settings`, exactly as the app
does, and builds its pool with the same options as the one `agentflow.kit.db.Database` serves its
reads outside a session from (authentication, `GET /auth/me`, `GET /org/members`); nothing else
comes from agentflow: it measures the stack (uvicorn + Starlette + the pool + one PostgreSQL round
trip), not the app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agentflow.kit.db import libpq_url
from agentflow.settings import Settings


def create_app() -> Starlette:
    settings = Settings()
    if not settings.database_url:
        raise RuntimeError("set AGENTFLOW_DATABASE_URL")
    pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
        libpq_url(settings.database_url),
        min_size=1,
        max_size=settings.db_pool_size,
        kwargs={"autocommit": True},
        max_lifetime=1800,
        open=False,
    )

    async def baseline(request: Request) -> Response:
        async with pool.connection() as conn:
            row = await (await conn.execute("SELECT 1")).fetchone()
        return Response(orjson.dumps({"ok": row[0] if row else None}), media_type="application/json")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await pool.open()
        try:
            yield
        finally:
            await pool.close()

    return Starlette(routes=[Route("/baseline", baseline)], lifespan=lifespan)
