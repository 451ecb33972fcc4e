"""Database engine, sessions and the tenant context that row-level security reads.

Every transaction that touches tenant data first runs `set_config('app.org_id', …, true)` —
the transaction-local form of `SET LOCAL` — so the PostgreSQL policies see only that org's rows.
With no context set, the policies compare against NULL and every tenant table looks empty:
forgetting the context fails closed instead of leaking.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

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
    """One engine and session factory per process."""

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=False,
            pool_recycle=1800,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(
        self, *, org_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None
    ) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on success, with the tenant context set."""
        async with self.sessionmaker() as session, session.begin():
            await set_tenant_context(session, org_id=org_id, user_id=user_id)
            yield session


async def set_tenant_context(session: AsyncSession, *, org_id: uuid.UUID | None, user_id: uuid.UUID | None) -> None:
    """Set (or change) the tenant context for the rest of the current transaction only."""
    await session.execute(
        _SET_CONTEXT,
        {"org_id": str(org_id) if org_id else "", "user_id": str(user_id) if user_id else ""},
    )
