from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from agentflow.kit.repository import TenantRepository
from agentflow.models.agents import Agent, AgentEdge, AgentNode, AgentVersion


class AgentRepository(TenantRepository[Agent]):
    model = Agent

    async def list(
        self,
        *,
        cursor: str | None,
        limit: int,
        status: str | None,
        trigger_type: str | None,
        search: str | None,
        include_archived: bool,
        sort: str,
        descending: bool,
    ) -> tuple[list[Any], str | None]:
        stmt = self.select()
        if status:
            stmt = stmt.where(Agent.status == status)
        elif not include_archived:
            stmt = stmt.where(Agent.status != "archived")
        if trigger_type:
            stmt = stmt.where(Agent.trigger_type == trigger_type)
        if search:
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(Agent.name.ilike(f"%{escaped}%", escape="\\"))
        return await self.page(stmt, cursor=cursor, limit=limit, sort=sort, descending=descending)

    async def runnable(self, agent_id: uuid.UUID) -> Agent | None:
        """The agent as a run starts from it, without its draft: a run uses a published version,
        and the draft is often the largest column (its JSON costs ~1 ms to parse per 100 KB, on
        every execute, webhook and schedule fire). Reading the draft from this row raises."""
        stmt = self.select().where(Agent.id == agent_id).options(defer(Agent.draft_definition, raiseload=True))
        agent: Agent | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return agent


class VersionRepository(TenantRepository[AgentVersion]):
    model = AgentVersion

    async def list_for(self, agent_id: uuid.UUID, *, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
        stmt = select(
            AgentVersion,
            func.jsonb_array_length(AgentVersion.definition["nodes"]).label("node_count"),
            func.jsonb_array_length(AgentVersion.definition["edges"]).label("edge_count"),
        ).where(AgentVersion.org_id == self.org_id, AgentVersion.agent_id == agent_id)
        return await self.page(stmt, cursor=cursor, limit=limit, sort="version")

    async def by_number(self, agent_id: uuid.UUID, version: int) -> AgentVersion | None:
        stmt = self.select().where(AgentVersion.agent_id == agent_id, AgentVersion.version == version)
        row: AgentVersion | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def add_graph(self, version: AgentVersion, nodes: list[AgentNode], edges: list[AgentEdge]) -> None:
        """Store the version's nodes and edges as rows too (queryable, referenced by steps)."""
        for row in nodes:
            row.org_id, row.agent_version_id = self.org_id, version.id
        for row_edge in edges:
            row_edge.org_id, row_edge.agent_version_id = self.org_id, version.id
        self.session.add_all(nodes)
        await self.session.flush()
        self.session.add_all(edges)
        await self.session.flush()
