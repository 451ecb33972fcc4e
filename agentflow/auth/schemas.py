from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from agentflow.kit.schemas import RequestModel

Password = Annotated[str, StringConstraints(min_length=8, max_length=256, strip_whitespace=False)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$", max_length=100)]


class SignupIn(RequestModel):
    email: EmailStr = Field(max_length=255)
    password: Password
    name: Name
    org_name: Name
    org_slug: Slug | None = None


class LoginIn(RequestModel):
    email: EmailStr = Field(max_length=255)
    password: Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=False)]
    org_id: uuid.UUID | None = None


class SwitchOrgIn(RequestModel):
    org_id: uuid.UUID


class AcceptInviteIn(RequestModel):
    token: Annotated[str, StringConstraints(min_length=10, max_length=200)]
    name: Name | None = None
    password: Password | None = None


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str | None


class OrgOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    plan: str


class OrgWithRoleOut(OrgOut):
    role: str


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    expires_at: datetime
    user: UserOut
    org: OrgOut | None
    role: str | None


class ApiKeyIdentityOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]


class MeOut(BaseModel):
    user: UserOut | None
    api_key: ApiKeyIdentityOut | None = None
    org: OrgOut | None
    role: str | None
    orgs: list[OrgWithRoleOut]
    permissions: list[str] = Field(
        default_factory=list,
        description="What the caller may do in the current org; the web app hides what is not here",
    )
