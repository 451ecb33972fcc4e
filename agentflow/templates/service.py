"""Templates: browse, install into an agent, and publish an agent as a template (spec §4.2)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.agents import service as agents
from agentflow.agents.schemas import AgentCreateIn, AgentSettings
from agentflow.audit import service as audit
from agentflow.kit.errors import Conflict, Forbidden, NotFound
from agentflow.kit.pagination import Page
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal
from agentflow.kit.repository import TenantRepository
from agentflow.models.agents import Agent, AgentTemplate
from agentflow.templates.schemas import TemplateInstallIn, TemplateOut, TemplatePublishIn, TemplateSummaryOut


class TemplateRepository(TenantRepository[AgentTemplate]):
    """Templates visible to an org: every public one plus its own private ones (row-level
    security says the same: `is_public OR author_org_id = current org`)."""

    model = AgentTemplate

    def select(self) -> Any:
        return select(AgentTemplate).where(
            or_(AgentTemplate.is_public.is_(True), AgentTemplate.author_org_id == self.org_id)
        )

    async def add(self, row: AgentTemplate) -> AgentTemplate:
        row.author_org_id = self.org_id
        self.session.add(row)
        await self.session.flush()
        return row


def _summary(row: AgentTemplate, org_id: uuid.UUID) -> dict[str, Any]:
    return {
        "id": row.id,
        "slug": row.slug,
        "name": row.name,
        "description": row.description,
        "category": row.category,
        "icon": row.icon,
        "is_official": row.is_official,
        "is_public": row.is_public,
        "mine": row.author_org_id == org_id,
        "install_count": row.install_count,
        "node_count": len(row.definition.get("nodes", [])),
        "created_at": row.created_at,
    }


async def list_templates(
    session: AsyncSession,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int,
    category: str | None,
    search: str | None,
    official: bool | None,
    mine: bool,
) -> Page[TemplateSummaryOut]:
    repo = TemplateRepository(session, principal.org_id)
    stmt = repo.select()
    if category:
        stmt = stmt.where(AgentTemplate.category == category)
    if official is not None:
        stmt = stmt.where(AgentTemplate.is_official.is_(official))
    if mine:
        stmt = stmt.where(AgentTemplate.author_org_id == principal.org_id)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(AgentTemplate.name.ilike(pattern, escape="\\"), AgentTemplate.description.ilike(pattern, escape="\\"))
        )
    rows, next_cursor = await repo.page(stmt, cursor=cursor, limit=limit, sort="name", descending=False)
    return Page(items=[TemplateSummaryOut(**_summary(r, principal.org_id)) for (r,) in rows], next_cursor=next_cursor)


async def _load(session: AsyncSession, principal: Principal, template_id: uuid.UUID) -> AgentTemplate:
    repo = TemplateRepository(session, principal.org_id)
    row: AgentTemplate | None = (
        await session.execute(repo.select().where(AgentTemplate.id == template_id))
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("Template not found", code="TEMPLATE_NOT_FOUND")
    return row


async def get_template(session: AsyncSession, principal: Principal, template_id: uuid.UUID) -> TemplateOut:
    row = await _load(session, principal, template_id)
    return TemplateOut(**_summary(row, principal.org_id), definition=row.definition, settings=row.settings)


async def install(
    session: AsyncSession, principal: Principal, template_id: uuid.UUID, data: TemplateInstallIn
) -> Agent:
    """Create an agent whose draft is the template's graph, and count the install."""
    template = await _load(session, principal, template_id)
    agent = await agents.create_agent(
        session,
        principal,
        AgentCreateIn(
            name=data.name or template.name,
            description=template.description,
            settings=AgentSettings.model_validate(template.settings or {}),
            definition=template.definition,
        ),
        template_id=template.id,
        action="template.installed",
    )
    # The template row is usually not ours; the count_install policy lets exactly this row's
    # counter move, and only while this transaction names it.
    await session.execute(text("SELECT set_config('app.installing_template', :t, true)"), {"t": str(template.id)})
    await session.execute(
        text("UPDATE agent_templates SET install_count = install_count + 1 WHERE id = :t"), {"t": template.id}
    )
    return agent


async def publish(session: AsyncSession, principal: Principal, data: TemplatePublishIn) -> TemplateOut:
    if data.visibility == "public" and not principal.can(Permission.ORG_MANAGE):
        raise Forbidden("Only admins can publish templates for everyone", code="FORBIDDEN")
    agent = await agents.load(session, principal, data.agent_id)
    number = data.version or agent.latest_version
    if number is None:
        raise Conflict("Publish a version of this agent first; templates are made from versions", code="NOT_PUBLISHED")
    version = await agents.load_version(session, principal, agent.id, number)
    template = await TemplateRepository(session, principal.org_id).add(
        AgentTemplate(
            name=data.name or agent.name,
            description=data.description if data.description is not None else agent.description,
            category=data.category,
            icon=data.icon,
            definition=version.definition,
            settings=agent.settings,
            is_public=data.visibility == "public",
            is_official=False,
        )
    )
    await session.refresh(template)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="template.published",
        resource_type="template",
        resource_id=template.id,
        details={"agent_id": str(agent.id), "version": number, "visibility": data.visibility},
    )
    return TemplateOut(
        **_summary(template, principal.org_id), definition=template.definition, settings=template.settings
    )
