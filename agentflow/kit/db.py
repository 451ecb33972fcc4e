"""Database engine, sessions and the tenant context that row-level security reads.

Every transaction that touches tenant data first runs `set_config('app.org_id', …, true)` —
the transaction-local form of `SET LOCAL` — so the PostgreSQL policies see only that org's rows.
With no context set, the policies compare against NULL and every tenant table looks empty:
forgetting the context fails closed instead of leaking.

Hot paths (authentication, `GET /auth/me`) send the context and their first read as ONE message
(`fetch_in_context`): each statement through SQLAlchemy costs several times a PostgreSQL round
trip in worker CPU, and these run on every request (bench/api_bench.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_SET_CONTEXT_SQL = "SELECT set_config('app.org_id', %(org_id)s, true), set_config('app.user_id', %(user_id)s, true)"
_SET_CONTEXT = text("SELECT set_config('app.org_id', :org_id, true), set_config('app.user_id', :user_id, true)")


def async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and point SQLAlchemy at the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError("database URL must start with postgresql://")


def libpq_url(url: str) -> str:
    """The same URL in the form libpq and psycopg accept directly."""
    return "postgresql://" + async_url(url)[len("postgresql+psycopg://") :]


class Database:
    """One engine and session factory per process, and a pool for reads outside any session."""

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=False,
            pool_recycle=1800,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # Autocommit connections straight from psycopg, for the per-request reads outside any
        # session (authentication, the busiest lists) and the API's engine events. Through the
        # engine (checkout, isolation level set and reset, greenlet hops) the same one-message read
        # costs ~350 µs of CPU against ~150 µs here. Opened on first use: most processes that make
        # a Database never need it.
        self._autocommit_pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            libpq_url(url),
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True},
            max_lifetime=1800,
            open=False,
        )
        self._autocommit_pool_used = False

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._autocommit_pool_used:
            await self._autocommit_pool.close()

    @asynccontextmanager
    async def autocommit_connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection outside any transaction. PostgreSQL runs the statements of one
        simple-protocol message sent on it as a single implicit transaction, so a tenant context
        set by `fetch_in_context` applies to that message's query and ends with it."""
        if not self._autocommit_pool_used:
            self._autocommit_pool_used = True
            await self._autocommit_pool.open()  # safe to repeat if two requests race here
        async with self._autocommit_pool.connection() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(
        self, *, org_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None
    ) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on success, with the tenant context set."""
        async with self.sessionmaker() as session, session.begin():
            await set_tenant_context(session, org_id=org_id, user_id=user_id)
            yield session

    async def read_in_context(
        self, query: str, params: Mapping[str, Any], *, org_id: uuid.UUID | None, user_id: uuid.UUID | None
    ) -> list[tuple[Any, ...]]:
        """One read outside any session: the tenant context and `query` in one round trip."""
        async with self.autocommit_connection() as conn:
            return await fetch_in_context(conn, query, params, org_id=org_id, user_id=user_id)


class TenantReader(Protocol):
    """Reads for one caller outside any session, each in the caller's tenant context (the API's is
    `agentflow.auth.dependencies.TenantReads`)."""

    async def fetch(self, query: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]: ...


async def session_connection(session: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The session's connection as the driver sees it, inside the session's transaction."""
    raw = await (await session.connection()).get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    return driver


async def fetch_in_context(
    conn: psycopg.AsyncConnection[Any],
    query: str,
    params: Mapping[str, Any],
    *,
    org_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
) -> list[tuple[Any, ...]]:
    """Set the tenant context for the rest of the transaction and return `query`'s rows.

    `query` is plain SQL with `%(name)s` placeholders and may also use `%(org_id)s` and
    `%(user_id)s`. Within a session pass `await session_connection(session)`: the context then
    holds for the session's later statements too, exactly like `set_tenant_context`.
    """
    context = {"org_id": str(org_id) if org_id else "", "user_id": str(user_id) if user_id else ""}
    return await fetch_last(conn, f"{_SET_CONTEXT_SQL};\n{query}", {**params, **context})


async def fetch_last(
    conn: psycopg.AsyncConnection[Any], statements: str, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Send `statements` (separated by `;`) as one message; return the rows of the last one."""
    return (await fetch_each(conn, statements, params))[-1]


async def fetch_each(
    conn: psycopg.AsyncConnection[Any], statements: str, params: Mapping[str, Any]
) -> list[list[tuple[Any, ...]]]:
    """Send `statements` (separated by `;`) as one message; return the rows of each, in order.

    PostgreSQL takes several statements in one message only with the values inline, so psycopg
    binds them client-side here (it quotes each value; they are never formatted in by hand).
    """
    results: list[list[tuple[Any, ...]]] = []
    async with psycopg.AsyncClientCursor(conn) as cursor:
        await cursor.execute(statements, params)
        while True:
            results.append(await cursor.fetchall() if cursor.description is not None else [])
            if not cursor.nextset():
                return results


async def set_tenant_context(session: AsyncSession, *, org_id: uuid.UUID | None, user_id: uuid.UUID | None) -> None:
    """Set (or change) the tenant context for the rest of the current transaction only."""
    await session.execute(
        _SET_CONTEXT,
        {"org_id": str(org_id) if org_id else "", "user_id": str(user_id) if user_id else ""},
    )
