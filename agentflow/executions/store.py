"""`DbExecutionStore`: the engine's `ExecutionStore` on execution_steps / execution_logs.

Each call is its own short transaction on the app role with the org's row-level security
context: a step row is visible (to the API, to a reconnecting client) as soon as it is written,
and nothing holds a connection while a node runs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from agentflow.executions.jsonsafe import as_object
from agentflow.kit.db import Database
from agentflow.models.agents import AgentNode
from agentflow.models.executions import Execution, ExecutionLog, ExecutionStep

MAX_LOG_MESSAGE = 10_000


class DbExecutionStore:
    def __init__(
        self,
        db: Database,
        *,
        execution_id: uuid.UUID,
        org_id: uuid.UUID,
        agent_version_id: uuid.UUID | None = None,
    ) -> None:
        self.db = db
        self.execution_id = execution_id
        self.org_id = org_id
        self.agent_version_id = agent_version_id

    async def step_started(self, *, node_id: str, node_type: str, attempt: int, input: Any) -> uuid.UUID:
        step_id = uuid.uuid4()
        next_order = (
            select(func.coalesce(func.max(ExecutionStep.step_order), 0) + 1)
            .where(ExecutionStep.execution_id == self.execution_id)
            .scalar_subquery()
        )
        node_row = (
            select(AgentNode.id)
            .where(AgentNode.agent_version_id == self.agent_version_id, AgentNode.node_key == node_id)
            .limit(1)
            .scalar_subquery()
            if self.agent_version_id is not None
            else None
        )
        async with self.db.transaction(org_id=self.org_id) as session:
            session.add(
                ExecutionStep(
                    id=step_id,
                    org_id=self.org_id,
                    execution_id=self.execution_id,
                    node_id=node_row,
                    node_key=node_id,
                    step_order=next_order,
                    attempt=attempt,
                    status="running",
                    input_data=as_object(input),
                    started_at=datetime.now(UTC),
                )
            )
        return step_id

    async def step_finished(
        self,
        step_id: uuid.UUID,
        *,
        status: str,
        output: Any,
        error: dict[str, Any] | None,
        tokens: int,
        cost: Decimal,
        duration_ms: int,
    ) -> None:
        message = None
        if error is not None:
            message = str(error.get("message") or error)[:MAX_LOG_MESSAGE]
        async with self.db.transaction(org_id=self.org_id) as session:
            await session.execute(
                update(ExecutionStep)
                .where(ExecutionStep.id == step_id, ExecutionStep.org_id == self.org_id)
                .values(
                    status=status,
                    output_data=as_object(output if error is None or output is not None else {"error": error}),
                    error_message=message,
                    tokens_used=tokens,
                    cost=cost,
                    duration_ms=duration_ms,
                    completed_at=datetime.now(UTC)
                    if status not in ("running", "waiting", "waiting_approval")
                    else None,
                )
            )

    async def log(self, *, step_id: uuid.UUID | None, level: str, message: str, data: Any = None) -> None:
        async with self.db.transaction(org_id=self.org_id) as session:
            session.add(
                ExecutionLog(
                    org_id=self.org_id,
                    execution_id=self.execution_id,
                    step_id=step_id,
                    level=level[:20],
                    message=message.replace("\x00", "\ufffd")[:MAX_LOG_MESSAGE],
                    data=as_object(data),
                )
            )

    async def is_cancelled(self) -> bool:
        async with self.db.transaction(org_id=self.org_id) as session:
            status = await session.scalar(
                select(Execution.status).where(Execution.id == self.execution_id, Execution.org_id == self.org_id)
            )
        return status in (None, "cancelled")
