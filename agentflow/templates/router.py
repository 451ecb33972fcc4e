"""/api/v1/templates: the template gallery."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from agentflow.agents import service as agents
from agentflow.agents.schemas import AgentOut
from agentflow.auth.dependencies import requires
from agentflow.kit.deps import SessionDep
from agentflow.kit.pagination import Page
from agentflow.kit.params import DEFAULT_PAGE_SIZE, Cursor, Limit
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal
from agentflow.templates import service
from agentflow.templates.schemas import TemplateInstallIn, TemplateOut, TemplatePublishIn, TemplateSummaryOut

router = APIRouter(prefix="/templates", tags=["templates"])

Reader = Annotated[Principal, requires(Permission.AGENTS_READ)]
Writer = Annotated[Principal, requires(Permission.AGENTS_WRITE)]
NoNul = r"^[^\x00]*$"


@router.get("")
async def list_templates(
    principal: Reader,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    category: Annotated[str | None, Query(max_length=100, pattern=NoNul)] = None,
    q: Annotated[str | None, Query(max_length=255, pattern=NoNul, description="Search name and description")] = None,
    official: bool | None = None,
    mine: bool = False,
) -> Page[TemplateSummaryOut]:
    """Public templates (official ones included) and your org's private ones, by name."""
    return await service.list_templates(
        session, principal, cursor=cursor, limit=limit, category=category, search=q, official=official, mine=mine
    )


@router.get("/{template_id}")
async def get_template(template_id: uuid.UUID, principal: Reader, session: SessionDep) -> TemplateOut:
    return await service.get_template(session, principal, template_id)


@router.post("/{template_id}/install", status_code=status.HTTP_201_CREATED)
async def install_template(
    template_id: uuid.UUID, principal: Writer, session: SessionDep, body: TemplateInstallIn | None = None
) -> AgentOut:
    """Create an agent from the template; its graph becomes the new agent's draft."""
    agent = await service.install(session, principal, template_id, body or TemplateInstallIn())
    return agents.agent_out(agent)


@router.post("", status_code=status.HTTP_201_CREATED)
async def publish_template(body: TemplatePublishIn, principal: Writer, session: SessionDep) -> TemplateOut:
    """Make a template from one of your agent's published versions; private to your org unless
    `visibility` is `public` (admins only)."""
    return await service.publish(session, principal, body)
