from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from agentflow.kit.schemas import RequestModel

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Description = Annotated[str, StringConstraints(max_length=5000)]
ChangeMessage = Annotated[str, StringConstraints(max_length=2000)]
# Definitions are parsed by the engine (agentflow.engine.spec); here they are opaque JSON objects.
DefinitionJson = dict[str, Any]


class AgentStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class AgentSettings(RequestModel):
    timeout_seconds: int = Field(300, ge=1, le=86_400, description="Longest a run may take")
    max_retries: int = Field(3, ge=0, le=10, description="Retries of a failing step")
    concurrency_limit: int = Field(5, ge=1, le=1000, description="Runs of this agent at once")
    on_concurrency_limit: Literal["queue", "reject"] = Field(
        "queue", description="Over the limit: queue the run, or answer 429"
    )


class AgentCreateIn(RequestModel):
    name: Name
    description: Description | None = None
    settings: AgentSettings = Field(default_factory=AgentSettings)
    definition: DefinitionJson | None = Field(None, description="Initial draft; empty when omitted")


class AgentUpdateIn(RequestModel):
    name: Name | None = None
    description: Description | None = None
    settings: AgentSettings | None = None


class AgentStatusIn(RequestModel):
    status: Literal["active", "paused"]


class AgentOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    status: AgentStatus
    trigger_type: str | None
    trigger_config: dict[str, Any]
    settings: dict[str, Any]
    latest_version: int | None
    draft_revision: int
    template_id: uuid.UUID | None
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class DraftOut(BaseModel):
    definition: dict[str, Any]
    revision: int
    updated_at: datetime | None
    updated_by: uuid.UUID | None
    issues: list[IssueOut] = Field(description="Validation issues of the draft as saved (empty when valid)")


class DraftIn(RequestModel):
    definition: DefinitionJson
    revision: int = Field(ge=0, description="The revision this edit started from (from GET /draft)")


class IssueOut(BaseModel):
    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    path: str | None = None


class ValidateIn(RequestModel):
    definition: DefinitionJson | None = Field(None, description="Validate this instead of the saved draft")


class ValidationOut(BaseModel):
    valid: bool
    issues: list[IssueOut]


class PublishIn(RequestModel):
    change_message: ChangeMessage | None = None
    definition: DefinitionJson | None = Field(None, description="Publish this; omit to publish the draft")
    draft_revision: int | None = Field(
        None, ge=0, description="When publishing the draft: refuse if it changed since this revision"
    )


class VersionSummaryOut(BaseModel):
    id: uuid.UUID
    version: int
    change_message: str | None
    created_by: uuid.UUID | None
    created_at: datetime
    node_count: int
    edge_count: int


class VersionOut(VersionSummaryOut):
    definition: dict[str, Any]


DraftOut.model_rebuild()
