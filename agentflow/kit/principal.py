"""Who is making a request: a user acting in an org, or an org's API key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from agentflow.kit.permissions import Permission, role_allows, scopes_allow
from agentflow.models.orgs import Role


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Principal:
    org_id: uuid.UUID
    user_id: uuid.UUID | None = None
    role: Role | None = None
    api_key_id: uuid.UUID | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    meta: RequestMeta = field(default_factory=RequestMeta)

    @property
    def is_api_key(self) -> bool:
        return self.api_key_id is not None

    def can(self, permission: Permission) -> bool:
        if self.api_key_id is not None:
            return scopes_allow(self.scopes, permission)
        return self.role is not None and role_allows(self.role, permission)
