"""Agents, their immutable published versions, and templates (spec §3.2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
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

from agentflow.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin, UpdatedAtMixin


class AgentTemplate(IdMixin, CreatedAtMixin, Base):
    """A template is visible to every org when public; author_org_id owns the private ones.
    Official templates have no author org and a stable slug, so seeding them is idempotent."""

    __tablename__ = "agent_templates"

    slug: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    definition: Mapped[dict[str, Any]]
    icon: Mapped[str | None] = mapped_column(String(50))
    is_official: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_public: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    author_org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    install_count: Mapped[int] = mapped_column(Integer, server_default="0")
    rating: Mapped[Decimal] = mapped_column(Numeric(3, 2), server_default="0")


class Agent(IdMixin, TenantMixin, CreatedAtMixin, UpdatedAtMixin, Base):
    __tablename__ = "agents"
    __table_args__ = (
        Index("ix_agents_org_status", "org_id", "status"),
        Index("ix_agents_org_created", "org_id", text("created_at DESC")),
        Index("ix_agents_org_updated", "org_id", text("updated_at DESC")),
        Index("ix_agents_org_name", "org_id", "name"),
    )

    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(50), server_default="draft")
    trigger_type: Mapped[str | None] = mapped_column(String(50))
    trigger_config: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    is_template: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    template_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent_templates.id", ondelete="SET NULL"))
    settings: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    # The builder's working copy: saved freely (even when invalid), published into versions.
    draft_definition: Mapped[dict[str, Any]] = mapped_column(
        server_default=text("""'{"schema_version": 1, "nodes": [], "edges": []}'::jsonb""")
    )
    # Optimistic-concurrency token: a save must name the revision it started from.
    draft_revision: Mapped[int] = mapped_column(Integer, server_default="0")
    draft_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    draft_updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    latest_version: Mapped[int | None] = mapped_column(Integer)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AgentVersion(IdMixin, TenantMixin, CreatedAtMixin, Base):
    __tablename__ = "agent_versions"
    __table_args__ = (UniqueConstraint("agent_id", "version", name="uq_agent_versions_agent_version"),)

    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]]
    change_message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Every row is a published, immutable version (drafts live on the agent); a trigger in the
    # database refuses UPDATE, and the app role has no DELETE.
    is_published: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class AgentNode(IdMixin, TenantMixin, Base):
    __tablename__ = "agent_nodes"
    __table_args__ = (UniqueConstraint("agent_version_id", "node_key", name="uq_agent_nodes_version_key"),)

    agent_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_versions.id", ondelete="CASCADE"), index=True)
    # The stable, human-readable id from the definition (e.g. "classify_lead").
    node_key: Mapped[str] = mapped_column(String(100))
    node_type: Mapped[str] = mapped_column(String(50))
    node_subtype: Mapped[str] = mapped_column(String(100))
    label: Mapped[str | None] = mapped_column(String(255))
    config: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    position_x: Mapped[float] = mapped_column(Float, server_default="0")
    position_y: Mapped[float] = mapped_column(Float, server_default="0")


class AgentEdge(IdMixin, TenantMixin, Base):
    __tablename__ = "agent_edges"

    agent_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_versions.id", ondelete="CASCADE"), index=True)
    edge_key: Mapped[str] = mapped_column(String(100))
    source_node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_nodes.id", ondelete="CASCADE"))
    target_node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_nodes.id", ondelete="CASCADE"))
    source_handle: Mapped[str] = mapped_column(String(100), server_default="out")
    condition: Mapped[dict[str, Any] | None]
    label: Mapped[str | None] = mapped_column(String(100))
