from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from agentflow.engine.spec import NodeId, check_json_value
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


def _storable_json(value: Any) -> Any:
    # Integers beyond 64 bits parse, but neither our JSON encoder nor an export can write them.
    # Size is bounded by the request body limit, so the walk's own limits are set out of the way.
    check_json_value(value, max_depth=10_000, max_elements=100_000_000)
    return value


StorableJson = Annotated[Any, AfterValidator(_storable_json)]
TriggerData = Annotated[dict[str, Any], AfterValidator(_storable_json)]


class ExecuteIn(RequestModel):
    input: TriggerData = Field(default_factory=dict, description="The trigger data (`{{trigger.data.…}}`)")
    version: int | None = Field(None, ge=1, le=1_000_000, description="Run this version; default: the latest")


class PinnedOutput(RequestModel):
    output: StorableJson = Field(
        description="What the node's step returns instead of running (e.g. a sample API answer)"
    )
    handle: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        None, description="The output handle to continue on (if/else: true/false, …); default: the main one"
    )


class TestRunIn(RequestModel):
    input: TriggerData = Field(default_factory=dict, description="The trigger data (`{{trigger.data.…}}`)")
    pinned_outputs: dict[NodeId, PinnedOutput] = Field(
        default_factory=dict,
        max_length=500,
        description="Nodes not to run, by node id, with the output to use instead (skip real side effects)",
    )


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
    is_test: bool = Field(description="A dry run of the draft (POST /agents/{id}/test): not billed")
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


class EventOut(BaseModel):
    """One event of an execution, exactly as the live stream sends it."""

    seq: int = Field(description="Per-execution sequence number: 1, 2, 3, … without gaps")
    type: str = Field(description="execution.started, step.started, step.token, step.completed, …")
    execution_id: uuid.UUID
    at: datetime
    data: dict[str, Any]


class StreamTicketOut(BaseModel):
    ticket: str = Field(
        description="Pass as `?ticket=` to WS /executions/{id}/stream or GET /executions/{id}/events; "
        "valid once, for this execution only"
    )
    expires_in: int = Field(description="Seconds until the ticket expires unused")
