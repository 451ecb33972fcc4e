"""All SQLAlchemy models, imported here so Alembic and the app see one complete metadata."""

from agentflow.models.agents import Agent, AgentEdge, AgentNode, AgentTemplate, AgentVersion
from agentflow.models.audit import AuditLog
from agentflow.models.auth import ApiKey, RefreshToken
from agentflow.models.base import Base
from agentflow.models.billing import Subscription, UsageDaily, UsageRecord
from agentflow.models.executions import Execution, ExecutionEvent, ExecutionLog, ExecutionStep
from agentflow.models.integrations import Integration
from agentflow.models.knowledge import Document, DocumentChunk, KnowledgeBase
from agentflow.models.orgs import (
    Invitation,
    Organization,
    OrgMembership,
    OutboxEmail,
    Role,
    Team,
    TeamMembership,
    User,
)
from agentflow.models.providers import ProviderCredential
from agentflow.models.triggers import AgentTrigger

__all__ = [
    "Agent",
    "AgentEdge",
    "AgentNode",
    "AgentTemplate",
    "AgentTrigger",
    "AgentVersion",
    "ApiKey",
    "AuditLog",
    "Base",
    "Document",
    "DocumentChunk",
    "Execution",
    "ExecutionEvent",
    "ExecutionLog",
    "ExecutionStep",
    "Integration",
    "Invitation",
    "KnowledgeBase",
    "OrgMembership",
    "Organization",
    "OutboxEmail",
    "ProviderCredential",
    "RefreshToken",
    "Role",
    "Subscription",
    "Team",
    "TeamMembership",
    "UsageDaily",
    "UsageRecord",
    "User",
]
