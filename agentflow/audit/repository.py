from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from agentflow.kit.repository import TenantRepository
from agentflow.models.audit import AuditLog


class AuditLogRepository(TenantRepository[AuditLog]):
    model = AuditLog

    async def list(
        self,
        *,
        cursor: str | None,
        limit: int,
        user_id: uuid.UUID | None = None,
        api_key_id: uuid.UUID | None = None,
        action: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[list[Any], str | None]:
        stmt = self.select()
        if user_id:
            stmt = stmt.where(AuditLog.user_id == user_id)
        if api_key_id:
            stmt = stmt.where(AuditLog.api_key_id == api_key_id)
        if action:
            # "agent." matches every agent action; anything else matches exactly.
            stmt = stmt.where(AuditLog.action.startswith(action) if action.endswith(".") else AuditLog.action == action)
        if resource_type:
            stmt = stmt.where(AuditLog.resource_type == resource_type)
        if resource_id:
            stmt = stmt.where(AuditLog.resource_id == resource_id)
        if since:
            stmt = stmt.where(AuditLog.created_at >= since)
        if until:
            stmt = stmt.where(AuditLog.created_at < until)
        return await self.page(stmt, cursor=cursor, limit=limit)
