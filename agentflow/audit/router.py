"""/api/v1/org/audit-logs: the org's audit trail, newest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from agentflow.audit import service
from agentflow.audit.schemas import AuditLogOut
from agentflow.auth.dependencies import requires
from agentflow.kit.deps import SessionDep
from agentflow.kit.pagination import Page
from agentflow.kit.params import DEFAULT_PAGE_SIZE, Cursor, Limit
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal

router = APIRouter(prefix="/org/audit-logs", tags=["audit"])

_NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold U+0000: a 422, not a database error


@router.get("")
async def list_audit_logs(
    principal: Annotated[Principal, requires(Permission.AUDIT_READ)],
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    actor_id: Annotated[uuid.UUID | None, Query(description="User who acted")] = None,
    action: Annotated[
        str | None, Query(max_length=100, pattern=_NO_NUL, description="Exact action, or a prefix ending in '.'")
    ] = None,
    resource_type: Annotated[str | None, Query(max_length=50, pattern=_NO_NUL)] = None,
    resource_id: Annotated[str | None, Query(max_length=100, pattern=_NO_NUL)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[AuditLogOut]:
    return await service.list_audit_logs(
        session,
        principal,
        cursor=cursor,
        limit=limit,
        actor_id=actor_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        since=since,
        until=until,
    )
