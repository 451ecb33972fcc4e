from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import array

from agentflow.kit.db import TenantReader
from agentflow.kit.repository import TenantRepository
from agentflow.models.executions import Execution, ExecutionEvent, ExecutionLog, ExecutionStep


class ExecutionRepository(TenantRepository[Execution]):
    model = Execution

    async def by_idempotency_key(self, key: str) -> Execution | None:
        stmt = self.select().where(Execution.idempotency_key == key).with_for_update()
        row: Execution | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def list(
        self,
        *,
        cursor: str | None,
        limit: int,
        agent_id: uuid.UUID | None = None,
        status: str | None = None,
        triggered_by: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        approvers: list[str] | None = None,
    ) -> tuple[list[Any], str | None]:
        stmt = self.select()
        if agent_id is not None:
            stmt = stmt.where(Execution.agent_id == agent_id)
        if status is not None:
            stmt = stmt.where(Execution.status == status)
        if triggered_by is not None:
            stmt = stmt.where(Execution.triggered_by == triggered_by)
        if created_after is not None:
            stmt = stmt.where(Execution.created_at >= created_after)
        if created_before is not None:
            stmt = stmt.where(Execution.created_at < created_before)
        if approvers is not None:
            named = Execution.metadata_["approval"]["approvers"]
            stmt = stmt.where(
                Execution.status == "waiting_approval",
                or_(
                    named.is_(None),
                    func.jsonb_array_length(named) == 0,
                    named.has_any(array(approvers)),
                ),
            )
        return await self.page(stmt, cursor=cursor, limit=limit)


class ExecutionRow(NamedTuple):
    """An execution as `GET /executions/{id}` shows it, read without the ORM (`execution_by_id`);
    named like `Execution`'s attributes."""

    id: uuid.UUID
    agent_id: uuid.UUID
    agent_version_id: uuid.UUID | None
    status: str
    triggered_by: str | None
    is_test: bool
    trigger_data: dict[str, Any]
    started_at: datetime | None
    completed_at: datetime | None
    error_message: str | None
    total_tokens: int
    total_cost: Decimal
    metadata_: dict[str, Any]
    wake_at: datetime | None
    created_at: datetime


_EXECUTION_BY_ID = """
SELECT id, agent_id, agent_version_id, status, triggered_by, is_test, trigger_data, started_at,
       completed_at, error_message, total_tokens, total_cost, metadata, wake_at, created_at
FROM executions WHERE org_id = %(org_id)s AND id = %(execution_id)s"""


async def execution_by_id(reader: TenantReader, execution_id: uuid.UUID) -> ExecutionRow | None:
    """One execution, read outside any session in one round trip: clients poll it while a run
    goes on, so it costs what a session's BEGIN, context and COMMIT would not (bench/engine_bench.py)."""
    rows = await reader.fetch(_EXECUTION_BY_ID, {"execution_id": execution_id})
    return ExecutionRow(*rows[0]) if rows else None


class StepRepository(TenantRepository[ExecutionStep]):
    model = ExecutionStep

    async def for_execution(
        self, execution_id: uuid.UUID, *, cursor: str | None, limit: int
    ) -> tuple[list[Any], str | None]:
        stmt = self.select().where(ExecutionStep.execution_id == execution_id)
        return await self.page(stmt, cursor=cursor, limit=limit, sort="step_order", descending=False)


class LogRepository(TenantRepository[ExecutionLog]):
    model = ExecutionLog

    async def for_execution(
        self, execution_id: uuid.UUID, *, cursor: str | None, limit: int
    ) -> tuple[list[Any], str | None]:
        stmt = self.select().where(ExecutionLog.execution_id == execution_id)
        return await self.page(stmt, cursor=cursor, limit=limit, descending=False)


class EventRepository(TenantRepository[ExecutionEvent]):
    """The stored events of an execution, in sequence order (the unique (execution_id, seq)
    index serves every query here)."""

    model = ExecutionEvent

    async def for_execution(
        self, execution_id: uuid.UUID, *, after: int, cursor: str | None, limit: int
    ) -> tuple[list[Any], str | None]:
        stmt = self.select().where(ExecutionEvent.execution_id == execution_id, ExecutionEvent.seq > after)
        return await self.page(stmt, cursor=cursor, limit=limit, sort="seq", descending=False)

    async def after(self, execution_id: uuid.UUID, seq: int, *, limit: int) -> list[ExecutionEvent]:
        stmt = (
            self.select()
            .where(ExecutionEvent.execution_id == execution_id, ExecutionEvent.seq > seq)
            .order_by(ExecutionEvent.seq)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def last(self, execution_id: uuid.UUID) -> tuple[int, str] | None:
        """(seq, type) of the newest stored event."""
        stmt = (
            select(ExecutionEvent.seq, ExecutionEvent.type)
            .where(ExecutionEvent.org_id == self.org_id, ExecutionEvent.execution_id == execution_id)
            .order_by(ExecutionEvent.seq.desc())
            .limit(1)
        )
        row = (await self.session.execute(stmt)).first()
        return (int(row[0]), str(row[1])) if row else None
