"""Executions, their steps and logs (spec §3.2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from agentflow.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin


class Execution(IdMixin, TenantMixin, CreatedAtMixin, Base):
    __tablename__ = "executions"
    __table_args__ = (
        Index("idx_executions_agent", "agent_id"),
        Index("idx_executions_status", "status"),
        Index("idx_executions_created", text("created_at DESC")),
        Index("ix_executions_org_created", "org_id", text("created_at DESC")),
        Index("ix_executions_org_agent_created", "org_id", "agent_id", text("created_at DESC")),
        Index(
            "uq_executions_org_idempotency_key",
            "org_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        Index("ix_executions_wake_at", "wake_at", postgresql_where=text("status IN ('parked', 'waiting_approval')")),
        Index("ix_executions_agent_active", "agent_id", postgresql_where=text("status IN ('pending', 'running')")),
        Index("ix_executions_agent_queued", "agent_id", "created_at", postgresql_where=text("status = 'queued'")),
    )

    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    agent_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent_versions.id"))
    triggered_by: Mapped[str | None] = mapped_column(String(50))
    trigger_data: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(50), server_default="pending")
    is_test: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error_message: Mapped[str | None] = mapped_column(Text)
    total_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    total_cost: Mapped[Decimal] = mapped_column(Numeric(12, 6), server_default="0")
    # "metadata" is reserved on declarative classes; the column keeps the spec's name.
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=text("'{}'::jsonb"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    """The client's `Idempotency-Key` (unique per org while set; cleared after 24 h on reuse)."""
    request_hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the request that created it under `idempotency_key`."""
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    """The worker process running it (while `running`)."""
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Refreshed by that worker while it runs; a stale one means the worker died (the sweeper requeues)."""
    wake_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the sweeper acts on a parked run (its delay ends) or a waiting approval (it times out)."""
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Last time a run task was sent for it; a `pending` run not picked up for long is sent again."""


class ExecutionStep(IdMixin, TenantMixin, Base):
    __tablename__ = "execution_steps"
    __table_args__ = (Index("ix_execution_steps_execution_order", "execution_id", "step_order"),)

    execution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    node_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent_nodes.id"))
    node_key: Mapped[str | None] = mapped_column(String(100))
    step_order: Mapped[int | None] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, server_default="1")
    status: Mapped[str] = mapped_column(String(50), server_default="pending")
    input_data: Mapped[dict[str, Any] | None]
    output_data: Mapped[dict[str, Any] | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    tokens_used: Mapped[int] = mapped_column(Integer, server_default="0")
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 6), server_default="0")
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ExecutionLog(IdMixin, TenantMixin, CreatedAtMixin, Base):
    __tablename__ = "execution_logs"
    __table_args__ = (Index("ix_execution_logs_execution_created", "execution_id", "created_at"),)

    execution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    step_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("execution_steps.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(20), server_default="info")
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None]


class ExecutionEvent(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """Every event published on `execution:{id}`, kept so a client can reconnect and replay."""

    __tablename__ = "execution_events"
    __table_args__ = (UniqueConstraint("execution_id", "seq", name="uq_execution_events_execution_seq"),)

    execution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
