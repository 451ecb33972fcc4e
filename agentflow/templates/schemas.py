from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from agentflow.agents.schemas import Description, Name
from agentflow.kit.schemas import RequestModel

Category = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Icon = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,50}$")]


class TemplateSummaryOut(BaseModel):
    id: uuid.UUID
    slug: str | None
    name: str
    description: str | None
    category: str | None
    icon: str | None
    is_official: bool
    is_public: bool
    mine: bool = Field(description="Published by your org")
    install_count: int
    node_count: int
    created_at: datetime


class TemplateOut(TemplateSummaryOut):
    definition: dict[str, Any]
    settings: dict[str, Any]


class TemplatePublishIn(RequestModel):
    agent_id: uuid.UUID
    version: int | None = Field(
        None, ge=1, le=1_000_000, description="Which published version; the latest when omitted"
    )
    name: Name | None = None
    description: Description | None = None
    category: Category = "General"
    icon: Icon | None = None
    visibility: Literal["org", "public"] = Field("org", description="'org': your org only; 'public': everyone")


class TemplateInstallIn(RequestModel):
    name: Name | None = Field(None, description="Name of the new agent; the template's when omitted")
