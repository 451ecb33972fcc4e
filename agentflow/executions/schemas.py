from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from agentflow.kit.schemas import RequestModel


class ExecutionStatus(enum.StrEnum):
    QUEUED = "queued"
    """Over the agent's concurrency limit: starts when one of its runs ends."""
    PENDING = "pending"
    RUNNING = "running"
    WAITING_APPROVAL = "waiting_approval"
    PARKED = "parked"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED})


class ExecuteIn(RequestModel):
    input: dict[str, Any] = Field(default_factory=dict, description="The trigger data (`{{trigger.data.…}}`)")
    version: int | None = Field(None, ge=1, le=1_000_000, description="Run this version; default: the latest")


class ExecuteOut(BaseModel):
    execution_id: uuid.UUID
    status: ExecutionStatus


class ApprovalIn(RequestModel):
    decision: Literal["approve", "reject"]
    comment: str | None = Field(None, max_length=2000)


class ExecutionOut(BaseModel):
    id: uuid.UUID
    agent_id: uuid.UUID
    agent_version_id: uuid.UUID | None
    agent_version: int | None
    status: ExecutionStatus
    triggered_by: str | None
    trigger_data: dict[str, Any]
    started_at: datetime | None
    completed_at: datetime | None
    error_message: str | None
    total_tokens: int
    total_cost: Decimal
    output: Any = None
    approval: dict[str, Any] | None = Field(None, description="The pending approval's request (waiting_approval)")
    wake_at: datetime | None = Field(
        None, description="parked: when the run continues; waiting_approval: when the approval times out"
    )
    created_at: datetime


class StepOut(BaseModel):
    id: uuid.UUID
    node_key: str | None
    step_order: int | None
    attempt: int
    status: str
    input: dict[str, Any] | None
    output: dict[str, Any] | None
    error_message: str | None
    tokens_used: int
    cost: Decimal
    duration_ms: int | None
    started_at: datetime | None
    completed_at: datetime | None


class LogOut(BaseModel):
    id: uuid.UUID
    step_id: uuid.UUID | None
    level: str
    message: str
    data: dict[str, Any] | None
    created_at: datetime
