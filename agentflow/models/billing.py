"""Subscriptions and usage metering (spec §3.2)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from agentflow.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin


class Subscription(IdMixin, TenantMixin, CreatedAtMixin, Base):
    __tablename__ = "subscriptions"

    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    plan: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(50), server_default="active")
    current_period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UsageRecord(IdMixin, TenantMixin, Base):
    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_records_org_recorded", "org_id", "recorded_at"),)

    execution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("executions.id", ondelete="SET NULL"), index=True)
    record_type: Mapped[str] = mapped_column(String(50))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 8))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class UsageDaily(IdMixin, TenantMixin, Base):
    __tablename__ = "usage_daily"
    __table_args__ = (UniqueConstraint("org_id", "date", name="uq_usage_daily_org_date"),)

    date: Mapped[date] = mapped_column(Date)
    total_runs: Mapped[int] = mapped_column(Integer, server_default="0")
    total_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    total_cost: Mapped[Decimal] = mapped_column(Numeric(12, 4), server_default="0")
