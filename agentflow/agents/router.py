"""/api/v1/agents: agents, drafts, versions, validation, import/export; /api/v1/node-types."""

from __future__ import annotations

import functools
import uuid
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request, Response, status

from agentflow.agents import portability, service
from agentflow.agents.schemas import (
    AgentCreateIn,
    AgentOut,
    AgentStatus,
    AgentStatusIn,
    AgentUpdateIn,
    DraftIn,
    DraftOut,
    PublishIn,
    ValidateIn,
    ValidationOut,
    VersionOut,
    VersionSummaryOut,
)
from agentflow.auth.dependencies import requires
from agentflow.engine.nodes import describe_catalog
from agentflow.kit.deps import SessionDep
from agentflow.kit.pagination import Page
from agentflow.kit.params import DEFAULT_PAGE_SIZE, Cursor, Limit
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal

router = APIRouter(tags=["agents"])

Reader = Annotated[Principal, requires(Permission.AGENTS_READ)]
Writer = Annotated[Principal, requires(Permission.AGENTS_WRITE)]
Deleter = Annotated[Principal, requires(Permission.AGENTS_DELETE)]
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]
VersionRef = Annotated[str, Query(pattern=r"^(draft|[1-9][0-9]{0,6})$", description="A version number or 'draft'")]


@functools.cache
def _node_types_json() -> bytes:
    # The catalog is fixed for the life of the process, and generating its JSON Schemas takes ~15 ms
    # of CPU: every builder load used to pay it, on the path to showing the graph.
    return orjson.dumps(describe_catalog())


@router.get("/node-types", tags=["node types"], response_model=list[dict[str, Any]])
async def list_node_types(principal: Reader) -> Response:
    """Every node type the builder offers, with its config as JSON Schema, its handles and icon."""
    return Response(_node_types_json(), media_type="application/json")


@router.get("/agents")
async def list_agents(
    principal: Reader,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    status_filter: Annotated[AgentStatus | None, Query(alias="status")] = None,
    trigger_type: Annotated[str | None, Query(max_length=50, pattern=r"^[a-z_]+$")] = None,
    q: Annotated[str | None, Query(max_length=255, pattern=r"^[^\x00]*$", description="Search by name")] = None,
    include_archived: bool = False,
    sort: Literal["created_at", "updated_at", "name"] = "created_at",
    order: Literal["asc", "desc"] = "desc",
) -> Page[AgentOut]:
    """Archived agents are hidden unless `include_archived=true` or `status=archived`."""
    return await service.list_agents(
        session,
        principal,
        cursor=cursor,
        limit=limit,
        status=status_filter,
        trigger_type=trigger_type,
        search=q,
        include_archived=include_archived,
        sort=sort,
        descending=order == "desc",
    )


@router.post("/agents", status_code=status.HTTP_201_CREATED)
async def create_agent(body: AgentCreateIn, principal: Writer, session: SessionDep) -> AgentOut:
    return service.agent_out(await service.create_agent(session, principal, body))


@router.post("/agents/import", status_code=status.HTTP_201_CREATED)
async def import_agent(request: Request, principal: Writer, session: SessionDep) -> AgentOut:
    """Create an agent from an exported document (YAML or JSON body, see docs/agent-format.md).
    The graph becomes the new agent's draft."""
    document = portability.parse(await request.body(), request.headers.get("content-type"))
    agent = await service.create_agent(
        session, principal, portability.as_create_request(document), action="agent.imported"
    )
    return service.agent_out(agent)


@router.get("/agents/{agent_id}")
async def get_agent(agent_id: uuid.UUID, principal: Reader, session: SessionDep) -> AgentOut:
    return service.agent_out(await service.load(session, principal, agent_id))


@router.put("/agents/{agent_id}")
async def update_agent(agent_id: uuid.UUID, body: AgentUpdateIn, principal: Writer, session: SessionDep) -> AgentOut:
    return service.agent_out(await service.update_agent(session, principal, agent_id, body))


@router.delete("/agents/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def archive_agent(agent_id: uuid.UUID, principal: Deleter, session: SessionDep) -> Response:
    """Archive (soft delete): the agent and its history stay; it is hidden and cannot run."""
    await service.archive_agent(session, principal, agent_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/agents/{agent_id}/status")
async def set_agent_status(
    agent_id: uuid.UUID, body: AgentStatusIn, principal: Writer, session: SessionDep
) -> AgentOut:
    return service.agent_out(await service.set_status(session, principal, agent_id, body.status))


@router.get("/agents/{agent_id}/draft")
async def get_draft(agent_id: uuid.UUID, principal: Reader, session: SessionDep, response: Response) -> DraftOut:
    """The working copy the builder edits, with its revision (send it back when saving)."""
    draft = service.draft_out(await service.load(session, principal, agent_id))
    response.headers["ETag"] = f'"{draft.revision}"'
    return draft


@router.put("/agents/{agent_id}/draft")
async def save_draft(
    agent_id: uuid.UUID, body: DraftIn, principal: Writer, session: SessionDep, response: Response
) -> DraftOut:
    """Save the draft. `revision` must be the one you loaded: if someone saved in between, the
    answer is 409 DRAFT_CONFLICT and nothing is overwritten. Invalid graphs are saved too (the
    builder autosaves work in progress); their problems come back in `issues`."""
    draft = await service.save_draft(session, principal, agent_id, body)
    response.headers["ETag"] = f'"{draft.revision}"'
    return draft


@router.post("/agents/{agent_id}/validate")
async def validate_agent(
    agent_id: uuid.UUID, principal: Reader, session: SessionDep, body: ValidateIn | None = None
) -> ValidationOut:
    """Validate the draft (or the given definition): 200 when valid, else 422 INVALID_DEFINITION
    with every problem in `details.issues` (node or edge id, field path, code, message)."""
    return await service.validate(session, principal, agent_id, body.definition if body else None)


@router.post("/agents/{agent_id}/publish", status_code=status.HTTP_201_CREATED)
async def publish_agent(agent_id: uuid.UUID, body: PublishIn, principal: Writer, session: SessionDep) -> VersionOut:
    """Publish the draft (or the given definition) as the next immutable version."""
    return await service.publish(session, principal, agent_id, body)


@router.get("/agents/{agent_id}/versions")
async def list_versions(
    agent_id: uuid.UUID, principal: Reader, session: SessionDep, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE_SIZE
) -> Page[VersionSummaryOut]:
    return await service.list_versions(session, principal, agent_id, cursor=cursor, limit=limit)


@router.get("/agents/{agent_id}/versions/{version}")
async def get_version(
    agent_id: uuid.UUID, version: VersionNumber, principal: Reader, session: SessionDep
) -> VersionOut:
    return await service.get_version(session, principal, agent_id, version)


@router.post("/agents/{agent_id}/versions/{version}/restore")
async def restore_version(
    agent_id: uuid.UUID, version: VersionNumber, principal: Writer, session: SessionDep
) -> DraftOut:
    """Copy this version into the draft (publishing it then makes a new version)."""
    return await service.restore(session, principal, agent_id, version)


def _version_ref(value: str) -> int | None:
    return None if value == "draft" else int(value)


@router.get("/agents/{agent_id}/diff")
async def diff_versions(
    agent_id: uuid.UUID,
    principal: Reader,
    session: SessionDep,
    from_: Annotated[str, Query(alias="from", pattern=r"^(draft|[1-9][0-9]{0,6})$")],
    to: VersionRef = "draft",
) -> dict[str, Any]:
    """What changed between two versions (or a version and the draft): nodes and edges added,
    removed and changed, with the fields that changed."""
    return await service.diff(session, principal, agent_id, _version_ref(from_), _version_ref(to))


@router.get("/agents/{agent_id}/export", response_class=Response)
async def export_agent(
    agent_id: uuid.UUID,
    principal: Reader,
    session: SessionDep,
    format: Literal["yaml", "json"] = "yaml",
    version: VersionRef = "draft",
) -> Response:
    """Download the agent as a document (docs/agent-format.md). Never contains secrets."""
    agent = await service.load(session, principal, agent_id)
    number = _version_ref(version)
    if number is None:
        definition = agent.draft_definition
    else:
        definition = (await service.load_version(session, principal, agent_id, number)).definition
    document = portability.to_document(
        name=agent.name, description=agent.description, settings=agent.settings, definition=definition
    )
    content, media_type = portability.render(document, format)
    filename = portability.export_filename(agent.name, agent.id, format)
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
