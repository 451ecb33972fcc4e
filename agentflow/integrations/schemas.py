"""Connected integrations (spec §3.2 `integrations`, §4.2): request and response shapes.

Secrets are write-only: they go in with `connect` and never come out of the API again; responses
carry a hint (the last characters) so people can tell two connections apart.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from agentflow.kit.schemas import RequestModel

Secret = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
# An HTTP header or query parameter name (RFC 9110 token characters).
ParamName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]


class BearerAuth(RequestModel):
    type: Literal["bearer"]
    token: Secret = Field(description="Sent as `Authorization: Bearer <token>`")


class BasicAuth(RequestModel):
    type: Literal["basic"]
    username: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    password: Secret


class HeaderAuth(RequestModel):
    type: Literal["header"]
    name: ParamName = Field(description="e.g. X-API-Key")
    value: Secret


class QueryAuth(RequestModel):
    type: Literal["query"]
    name: ParamName = Field(description="e.g. api_key")
    value: Secret


HttpCredentials = Annotated[BearerAuth | BasicAuth | HeaderAuth | QueryAuth, Field(discriminator="type")]


class ConnectIn(RequestModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]
    credentials: HttpCredentials = Field(description="Write-only: stored encrypted, never shown again")


class IntegrationOut(BaseModel):
    id: uuid.UUID
    provider: str
    name: str | None
    status: str
    auth_type: str | None = Field(description="How the secret is sent (bearer, basic, header, query)")
    hint: str = Field(description="The secret's last characters, to tell connections apart")
    connected_by: uuid.UUID | None
    created_at: datetime


class AvailableIntegrationOut(BaseModel):
    provider: str
    display_name: str
    description: str
    connect: Literal["credentials", "oauth"]
    credentials_schema: dict[str, Any] | None = Field(description="JSON Schema of `credentials` for connect")
    tools: list[str]
