"""Agents, their drafts and their immutable published versions (spec §4.2, §1.2 principle 5)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.agents.repository import AgentRepository, VersionRepository
from agentflow.agents.schemas import (
    AgentCreateIn,
    AgentOut,
    AgentSettings,
    AgentStatus,
    AgentUpdateIn,
    DraftIn,
    DraftOut,
    IssueOut,
    PublishIn,
    ValidationOut,
    VersionOut,
    VersionSummaryOut,
)
from agentflow.audit import service as audit
from agentflow.engine.diff import structural_diff
from agentflow.engine.spec import AgentDefinition
from agentflow.engine.validation import ValidationIssue, validate_definition
from agentflow.kit.errors import Conflict, NotFound, Unprocessable
from agentflow.kit.pagination import Page
from agentflow.kit.principal import Principal
from agentflow.models.agents import Agent, AgentEdge, AgentNode, AgentVersion
from agentflow.triggers import schedules

EMPTY_DEFINITION: dict[str, Any] = AgentDefinition().model_dump(mode="json")
SORTABLE = ("created_at", "updated_at", "name")


def agent_out(agent: Agent) -> AgentOut:
    return AgentOut(
        id=agent.id,
        name=agent.name,
        description=agent.description,
        status=AgentStatus(agent.status),
        trigger_type=agent.trigger_type,
        trigger_config=agent.trigger_config,
        settings=agent.settings,
        latest_version=agent.latest_version,
        draft_revision=agent.draft_revision,
        template_id=agent.template_id,
        created_by=agent.created_by,
        created_at=agent.created_at,
        updated_at=agent.updated_at,
    )


def issues_out(issues: Sequence[ValidationIssue]) -> list[IssueOut]:
    return [IssueOut(code=i.code, message=i.message, node_id=i.node_id, edge_id=i.edge_id, path=i.path) for i in issues]


def invalid_definition(issues: Sequence[ValidationIssue]) -> Unprocessable:
    count = len(issues)
    return Unprocessable(
        f"The agent definition has {count} problem{'s' if count != 1 else ''}",
        code="INVALID_DEFINITION",
        details={"issues": [i.model_dump(exclude_none=True) for i in issues_out(issues)]},
    )


def parse_structure(raw: dict[str, Any]) -> tuple[dict[str, Any], list[ValidationIssue]]:
    """Accept any definition the builder can hold (semantic problems are reported, not refused);
    refuse one whose structure is broken. Returns the normalized JSON and the issues."""
    definition, issues = validate_definition(raw)
    if definition is None:
        raise invalid_definition(issues)
    return definition.model_dump(mode="json"), issues


def require_valid(raw: dict[str, Any]) -> AgentDefinition:
    definition, issues = validate_definition(raw)
    if definition is None or issues:
        raise invalid_definition(issues)
    return definition


async def load(session: AsyncSession, principal: Principal, agent_id: uuid.UUID, *, for_update: bool = False) -> Agent:
    agent = await AgentRepository(session, principal.org_id).get(agent_id, for_update=for_update)
    if agent is None:
        raise NotFound("Agent not found", code="AGENT_NOT_FOUND")
    return agent


async def load_runnable(session: AsyncSession, principal: Principal, agent_id: uuid.UUID) -> Agent:
    """The agent a run of its published version starts from (`AgentRepository.runnable`)."""
    agent = await AgentRepository(session, principal.org_id).runnable(agent_id)
    if agent is None:
        raise NotFound("Agent not found", code="AGENT_NOT_FOUND")
    return agent


async def load_editable(session: AsyncSession, principal: Principal, agent_id: uuid.UUID) -> Agent:
    agent = await load(session, principal, agent_id, for_update=True)
    if agent.status == AgentStatus.ARCHIVED:
        raise Conflict("This agent is archived; restore it before changing it", code="AGENT_ARCHIVED")
    return agent


async def list_agents(
    session: AsyncSession,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int,
    status: AgentStatus | None,
    trigger_type: str | None,
    search: str | None,
    include_archived: bool,
    sort: str,
    descending: bool,
) -> Page[AgentOut]:
    rows, next_cursor = await AgentRepository(session, principal.org_id).list(
        cursor=cursor,
        limit=limit,
        status=status.value if status else None,
        trigger_type=trigger_type,
        search=search,
        include_archived=include_archived,
        sort=sort,
        descending=descending,
    )
    return Page(items=[agent_out(row[0]) for row in rows], next_cursor=next_cursor)


async def create_agent(
    session: AsyncSession,
    principal: Principal,
    data: AgentCreateIn,
    *,
    template_id: uuid.UUID | None = None,
    action: str = "agent.created",
) -> Agent:
    draft, _ = parse_structure(data.definition) if data.definition is not None else (EMPTY_DEFINITION, [])
    agent = Agent(
        name=data.name,
        description=data.description,
        settings=data.settings.model_dump(),
        draft_definition=draft,
        draft_updated_at=datetime.now(UTC),
        draft_updated_by=principal.user_id,
        created_by=principal.user_id,
        template_id=template_id,
    )
    _sync_trigger(agent, draft)
    await AgentRepository(session, principal.org_id).add(agent)
    await session.refresh(agent)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action=action,
        resource_type="agent",
        resource_id=agent.id,
        details={"name": agent.name, **({"template_id": str(template_id)} if template_id else {})},
    )
    return agent


def _sync_trigger(agent: Agent, definition: dict[str, Any]) -> None:
    """Mirror the trigger node onto the agent (list filters, schedulers and webhooks read it)."""
    trigger = next((n for n in definition.get("nodes", []) if n.get("type") == "trigger"), None)
    agent.trigger_type = trigger.get("subtype") if trigger else None
    agent.trigger_config = trigger.get("config", {}) if trigger else {}


async def update_agent(session: AsyncSession, principal: Principal, agent_id: uuid.UUID, data: AgentUpdateIn) -> Agent:
    agent = await load_editable(session, principal, agent_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if data.name is not None:
        agent.name = data.name
    if data.description is not None:
        agent.description = data.description
    if data.settings is not None:
        agent.settings = data.settings.model_dump()
    await session.flush()
    await session.refresh(agent)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="agent.updated",
        resource_type="agent",
        resource_id=agent.id,
        details={"fields": sorted(changes)},
    )
    return agent


async def archive_agent(session: AsyncSession, principal: Principal, agent_id: uuid.UUID) -> None:
    agent = await load(session, principal, agent_id, for_update=True)
    if agent.status == AgentStatus.ARCHIVED:
        return
    previous = agent.status
    agent.status = AgentStatus.ARCHIVED.value
    agent.archived_at = datetime.now(UTC)
    await session.flush()
    await schedules.sync(session, agent)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="agent.archived",
        resource_type="agent",
        resource_id=agent.id,
        details={"previous_status": previous},
    )


async def set_status(session: AsyncSession, principal: Principal, agent_id: uuid.UUID, status: str) -> Agent:
    """Activate or pause; also how an archived agent comes back (paused or active)."""
    agent = await load(session, principal, agent_id, for_update=True)
    if status == AgentStatus.ACTIVE and agent.latest_version is None:
        raise Conflict("Publish a version before activating this agent", code="NOT_PUBLISHED")
    previous = agent.status
    agent.status = status
    agent.archived_at = None
    await session.flush()
    await schedules.sync(session, agent)
    await session.refresh(agent)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="agent.status_changed",
        resource_type="agent",
        resource_id=agent.id,
        details={"from": previous, "to": status},
    )
    return agent


def draft_out(agent: Agent, issues: Sequence[ValidationIssue] | None = None) -> DraftOut:
    if issues is None:
        _, issues = validate_definition(agent.draft_definition)
    return DraftOut(
        definition=agent.draft_definition,
        revision=agent.draft_revision,
        updated_at=agent.draft_updated_at,
        updated_by=agent.draft_updated_by,
        issues=issues_out(issues),
    )


async def save_draft(session: AsyncSession, principal: Principal, agent_id: uuid.UUID, data: DraftIn) -> DraftOut:
    agent = await load_editable(session, principal, agent_id)
    if data.revision != agent.draft_revision:
        raise Conflict(
            "Someone else saved this draft since you loaded it; reload to see their changes",
            code="DRAFT_CONFLICT",
            details={"current_revision": agent.draft_revision, "your_revision": data.revision},
        )
    draft, issues = parse_structure(data.definition)
    await _replace_draft(session, principal, agent, draft, action="agent.draft_saved")
    return draft_out(agent, issues)


async def _replace_draft(
    session: AsyncSession,
    principal: Principal,
    agent: Agent,
    draft: dict[str, Any],
    *,
    action: str,
    details: dict[str, Any] | None = None,
) -> None:
    agent.draft_definition = draft
    agent.draft_revision += 1
    agent.draft_updated_at = datetime.now(UTC)
    agent.draft_updated_by = principal.user_id
    if agent.latest_version is None:
        _sync_trigger(agent, draft)
    await session.flush()
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action=action,
        resource_type="agent",
        resource_id=agent.id,
        details={"revision": agent.draft_revision, **(details or {})},
    )


async def validate(
    session: AsyncSession, principal: Principal, agent_id: uuid.UUID, definition: dict[str, Any] | None
) -> ValidationOut:
    agent = await load(session, principal, agent_id)
    require_valid(definition if definition is not None else agent.draft_definition)
    return ValidationOut(valid=True, issues=[])


async def publish(session: AsyncSession, principal: Principal, agent_id: uuid.UUID, data: PublishIn) -> VersionOut:
    agent = await load_editable(session, principal, agent_id)  # the row lock serializes publishes
    if data.definition is None and data.draft_revision is not None and data.draft_revision != agent.draft_revision:
        raise Conflict(
            "The draft changed since you reviewed it; review it again before publishing",
            code="DRAFT_CONFLICT",
            details={"current_revision": agent.draft_revision, "your_revision": data.draft_revision},
        )
    definition = require_valid(data.definition if data.definition is not None else agent.draft_definition)
    document = definition.model_dump(mode="json")
    number = (agent.latest_version or 0) + 1
    versions = VersionRepository(session, principal.org_id)
    version = await versions.add(
        AgentVersion(
            agent_id=agent.id,
            version=number,
            definition=document,
            change_message=data.change_message,
            created_by=principal.user_id,
            is_published=True,
        )
    )
    nodes = {
        node.id: AgentNode(
            id=uuid.uuid4(),
            node_key=node.id,
            node_type=node.type,
            node_subtype=node.subtype,
            label=node.label,
            config=node.config,
            position_x=node.position.x,
            position_y=node.position.y,
        )
        for node in definition.nodes
    }
    edges = [
        AgentEdge(
            edge_key=edge.id,
            source_node_id=nodes[edge.source].id,
            target_node_id=nodes[edge.target].id,
            source_handle=edge.source_handle,
            label=edge.label,
        )
        for edge in definition.edges
    ]
    await versions.add_graph(version, list(nodes.values()), edges)
    agent.latest_version = number
    _sync_trigger(agent, document)
    if agent.status == AgentStatus.DRAFT:
        agent.status = AgentStatus.ACTIVE.value  # the first publish puts the agent live
    await session.flush()
    await schedules.sync(session, agent)
    await session.refresh(version)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="agent.version_published",
        resource_type="agent",
        resource_id=agent.id,
        details={"version": number, "change_message": data.change_message},
    )
    return _version_out(version)


def _version_out(version: AgentVersion) -> VersionOut:
    return VersionOut(
        id=version.id,
        version=version.version,
        change_message=version.change_message,
        created_by=version.created_by,
        created_at=version.created_at,
        node_count=len(version.definition.get("nodes", [])),
        edge_count=len(version.definition.get("edges", [])),
        definition=version.definition,
    )


async def list_versions(
    session: AsyncSession, principal: Principal, agent_id: uuid.UUID, *, cursor: str | None, limit: int
) -> Page[VersionSummaryOut]:
    await load(session, principal, agent_id)
    rows, next_cursor = await VersionRepository(session, principal.org_id).list_for(
        agent_id, cursor=cursor, limit=limit
    )
    return Page(
        items=[
            VersionSummaryOut(
                id=v.id,
                version=v.version,
                change_message=v.change_message,
                created_by=v.created_by,
                created_at=v.created_at,
                node_count=nodes or 0,
                edge_count=edges or 0,
            )
            for v, nodes, edges in rows
        ],
        next_cursor=next_cursor,
    )


async def load_version(session: AsyncSession, principal: Principal, agent_id: uuid.UUID, number: int) -> AgentVersion:
    await load(session, principal, agent_id)
    version = await VersionRepository(session, principal.org_id).by_number(agent_id, number)
    if version is None:
        raise NotFound(f"Version {number} not found", code="VERSION_NOT_FOUND")
    return version


async def get_version(session: AsyncSession, principal: Principal, agent_id: uuid.UUID, number: int) -> VersionOut:
    return _version_out(await load_version(session, principal, agent_id, number))


async def diff(
    session: AsyncSession, principal: Principal, agent_id: uuid.UUID, old: int | None, new: int | None
) -> dict[str, Any]:
    """Structural diff between two versions; `None` stands for the current draft."""

    async def definition_of(number: int | None) -> AgentDefinition:
        if number is None:
            raw = (await load(session, principal, agent_id)).draft_definition
        else:
            raw = (await load_version(session, principal, agent_id, number)).definition
        return AgentDefinition.model_validate(raw)

    changes = structural_diff(await definition_of(old), await definition_of(new))
    return {"from": old if old is not None else "draft", "to": new if new is not None else "draft", **changes}


async def restore(session: AsyncSession, principal: Principal, agent_id: uuid.UUID, number: int) -> DraftOut:
    """Copy an old version into the draft; publishing it then makes a new version."""
    version = await load_version(session, principal, agent_id, number)
    agent = await load_editable(session, principal, agent_id)
    await _replace_draft(
        session, principal, agent, version.definition, action="agent.version_restored", details={"version": number}
    )
    return draft_out(agent)


def settings_of(agent: Agent) -> AgentSettings:
    return AgentSettings.model_validate(agent.settings)
