"""Writing and reading the audit trail.

`record` is called by services inside the same transaction as the change it describes, so an
audit row exists exactly when the change committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.audit.repository import AuditLogRepository
from agentflow.audit.schemas import AuditLogOut
from agentflow.kit.pagination import Page
from agentflow.kit.principal import Principal, RequestMeta
from agentflow.models.audit import AuditLog


async def record(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    action: str,
    actor: Principal | None = None,
    user_id: uuid.UUID | None = None,
    meta: RequestMeta | None = None,
    resource_type: str | None = None,
    resource_id: uuid.UUID | str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    meta = meta or (actor.meta if actor else RequestMeta())
    row = AuditLog(
        org_id=org_id,
        user_id=actor.user_id if actor else user_id,
        api_key_id=actor.api_key_id if actor else None,
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id) if resource_id else None,
        details=details or {},
        ip_address=meta.ip,
        user_agent=meta.user_agent,
        request_id=meta.request_id,
    )
    session.add(row)
    await session.flush()


async def list_audit_logs(
    session: AsyncSession,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int,
    actor_id: uuid.UUID | None,
    action: str | None,
    resource_type: str | None,
    resource_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Page[AuditLogOut]:
    repo = AuditLogRepository(session, principal.org_id)
    rows, next_cursor = await repo.list(
        cursor=cursor,
        limit=limit,
        user_id=actor_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        since=since,
        until=until,
    )
    return Page(items=[AuditLogOut.from_row(row[0]) for row in rows], next_cursor=next_cursor)
