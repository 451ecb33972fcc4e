"""What a published agent's trigger needs beyond its definition: a webhook's URL token and signing
secret (vault ciphertext; only the token's hash is searchable) and a schedule's next fire time."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from agentflow.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin, UpdatedAtMixin


class AgentTrigger(IdMixin, TenantMixin, CreatedAtMixin, UpdatedAtMixin, Base):
    __tablename__ = "agent_triggers"
    __table_args__ = (
        CheckConstraint("kind IN ('webhook', 'schedule')", name="kind_valid"),
        UniqueConstraint("agent_id", "kind", name="uq_agent_triggers_agent_kind"),
        UniqueConstraint("token_hash", name="uq_agent_triggers_token_hash"),
        Index("ix_agent_triggers_next_fire_at", "next_fire_at", postgresql_where=text("next_fire_at IS NOT NULL")),
    )

    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the webhook URL's token: what an incoming request is matched on."""
    secret_envelope: Mapped[str | None] = mapped_column(Text)
    """Vault envelope of {"token", "signing_secret"} (purpose `webhook`, bound to org and row)."""
    cron: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str | None] = mapped_column(String(64))
    missed_fires: Mapped[str | None] = mapped_column(String(20))
    next_fire_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When beat fires the schedule next; NULL while the agent is paused or not on a schedule."""
    last_fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
