"""The baseline for bench/api_bench.py: the least an HTTP endpoint backed by PostgreSQL can cost.

One Starlette route that checks out a connection from an SQLAlchemy async engine pool (psycopg 3),
runs `SELECT 1` and answers a small JSON body. Served by uvicorn with the same flags as the app:

    AGENTFLOW_DATABASE_URL=postgresql://... uvicorn --app-dir bench baseline_app:create_app --factory

It reads the database URL and pool sizes from `agentflow.settings.Settings`, exactly as the app
does, and builds its engine with the same options as `agentflow.kit.db.Database`; nothing else
comes from agentflow: it measures the stack (uvicorn + Starlette + SQLAlchemy pool + one
PostgreSQL round trip), not the app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agentflow.kit.db import async_url
from agentflow.settings import Settings

_SELECT_1 = text("SELECT 1")


def create_app() -> Starlette:
    settings = Settings()
    if not settings.database_url:
        raise RuntimeError("set AGENTFLOW_DATABASE_URL")
    engine: AsyncEngine = create_async_engine(
        async_url(settings.database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=False,
        pool_recycle=1800,
    )

    async def baseline(request: Request) -> Response:
        async with engine.connect() as conn:
            value = (await conn.execute(_SELECT_1)).scalar_one()
        return Response(orjson.dumps({"ok": value}), media_type="application/json")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    return Starlette(routes=[Route("/baseline", baseline)], lifespan=lifespan)
