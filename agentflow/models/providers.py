"""Per-org bring-your-own LLM provider keys; the key itself exists only as vault ciphertext."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from agentflow.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin, UpdatedAtMixin


class ProviderCredential(IdMixin, TenantMixin, CreatedAtMixin, UpdatedAtMixin, Base):
    __tablename__ = "provider_credentials"
    __table_args__ = (UniqueConstraint("org_id", "provider", name="uq_provider_credentials_org_provider"),)

    provider: Mapped[str] = mapped_column(String(50))
    # Vault envelope (agentflow.kit.vault): ciphertext, wrapped data key, key id, bound to org + row.
    secret_envelope: Mapped[str] = mapped_column(Text)
    # A masked hint of the key ("sk-…a1b2") so people can tell keys apart; never the key.
    key_hint: Mapped[str] = mapped_column(String(32))
    # Non-secret connection settings: base_url for OpenAI-compatible servers, api_version, …
    settings: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    verified: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
