"""Repository base for tenant-owned models: every query it builds is scoped to one org.

Row-level security enforces the same rule in the database; scoping here as well keeps queries
selective (the planner uses the org indexes) and makes the intent visible in code.
"""

from __future__ import annotations

import uuid
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.kit.pagination import decode_cursor, encode_cursor
from agentflow.models.base import Base

M = TypeVar("M", bound=Base)


class TenantRepository(Generic[M]):
    model: type[M]

    def __init__(self, session: AsyncSession, org_id: uuid.UUID) -> None:
        self.session = session
        self.org_id = org_id

    def select(self) -> Select[M]:
        return select(self.model).where(self._col("org_id") == self.org_id)

    async def get(self, row_id: uuid.UUID, *, for_update: bool = False) -> M | None:
        stmt = self.select().where(self._col("id") == row_id)
        if for_update:
            stmt = stmt.with_for_update()
        row: M | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def add(self, row: M) -> M:
        row.org_id = self.org_id  # type: ignore[attr-defined]
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, row: M) -> None:
        await self.session.delete(row)
        await self.session.flush()

    async def page(self, stmt: Any, *, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
        """Newest first, keyset-paginated on (created_at, id)."""
        created, row_id = self._col("created_at"), self._col("id")
        if cursor:
            after_created, after_id = decode_cursor(cursor)
            stmt = stmt.where(or_(created < after_created, and_(created == after_created, row_id < after_id)))
        stmt = stmt.order_by(created.desc(), row_id.desc()).limit(limit + 1)
        rows = list((await self.session.execute(stmt)).all())
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1][0]
            next_cursor = encode_cursor(last.created_at, last.id)
        return rows, next_cursor

    def _col(self, name: str) -> Any:
        return getattr(self.model, name)
