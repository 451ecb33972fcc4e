from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from agentflow.models.audit import AuditLog


class AuditLogOut(BaseModel):
    id: uuid.UUID
    action: str
    actor_type: str
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    resource_type: str | None
    resource_id: str | None
    details: dict[str, Any]
    ip_address: str | None
    user_agent: str | None
    request_id: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: AuditLog) -> AuditLogOut:
        return cls(
            id=row.id,
            action=row.action,
            actor_type="api_key" if row.api_key_id else ("user" if row.user_id else "system"),
            user_id=row.user_id,
            api_key_id=row.api_key_id,
            resource_type=row.resource_type,
            resource_id=row.resource_id,
            details=row.details,
            ip_address=str(row.ip_address) if row.ip_address else None,
            user_agent=row.user_agent,
            request_id=row.request_id,
            created_at=row.created_at,
        )
