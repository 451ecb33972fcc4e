from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from agentflow.kit.permissions import ALL_SCOPES, DEFAULT_SCOPES
from agentflow.kit.schemas import RequestModel


class ApiKeyCreateIn(RequestModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_SCOPES), max_length=len(ALL_SCOPES))
    expires_at: datetime | None = None

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(ALL_SCOPES))
        if unknown:
            raise ValueError(f"unknown scopes {unknown}; valid scopes: {list(ALL_SCOPES)}")
        if not value:
            raise ValueError("at least one scope is required")
        return sorted(set(value))

    @field_validator("expires_at")
    @classmethod
    def _in_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("expires_at needs a timezone (e.g. 2027-01-01T00:00:00Z)")
        if value <= datetime.now(UTC):
            raise ValueError("expires_at must be in the future")
        return value


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_by: uuid.UUID | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    status: str


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The secret key. Shown once; store it now.")
