from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, EmailStr, Field, StringConstraints, field_validator

from agentflow.kit.schemas import RequestModel
from agentflow.models.orgs import Role

MAX_SETTINGS_BYTES = 16_384


class OrgDetailOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    plan: str
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class OrgUpdateIn(RequestModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    settings: dict[str, Any] | None = None

    @field_validator("settings")
    @classmethod
    def _bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        import orjson

        if value is None:
            return None
        try:
            size = len(orjson.dumps(value))
        except orjson.JSONEncodeError as exc:  # e.g. integers beyond 64 bits, nesting deeper than 255
            raise ValueError(f"settings cannot be stored as JSON: {exc}") from exc
        if size > MAX_SETTINGS_BYTES:
            raise ValueError(f"settings must be at most {MAX_SETTINGS_BYTES} bytes of JSON")
        return value


class MemberOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str | None
    role: Role
    joined_at: datetime


class RoleChangeIn(RequestModel):
    role: Role


class InviteIn(RequestModel):
    email: EmailStr = Field(max_length=255)
    role: Role = Role.VIEWER


class InvitationOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    status: str
    expires_at: datetime
    created_at: datetime


class OutboxEmailOut(BaseModel):
    id: uuid.UUID
    to: str
    subject: str
    body: str
    created_at: datetime
