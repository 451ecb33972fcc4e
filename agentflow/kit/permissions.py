"""What each role and each API-key scope may do (spec §8.2).

Routes declare one `Permission`; a user's role or an API key's scopes grant it or not. API keys
never hold the powers reserved for people: managing members, API keys, billing and the org
itself — no scope maps to those permissions.
"""

from __future__ import annotations

import enum

from agentflow.models.orgs import Role


class Permission(enum.StrEnum):
    ORG_READ = "org.read"
    ORG_MANAGE = "org.manage"
    MEMBERS_MANAGE = "members.manage"
    API_KEYS_MANAGE = "api_keys.manage"
    AUDIT_READ = "audit.read"
    BILLING_MANAGE = "billing.manage"
    AGENTS_READ = "agents.read"
    AGENTS_WRITE = "agents.write"
    AGENTS_DELETE = "agents.delete"
    AGENTS_EXECUTE = "agents.execute"
    EXECUTIONS_READ = "executions.read"
    INTEGRATIONS_READ = "integrations.read"
    INTEGRATIONS_MANAGE = "integrations.manage"
    KNOWLEDGE_READ = "knowledge.read"
    KNOWLEDGE_WRITE = "knowledge.write"
    ANALYTICS_READ = "analytics.read"


P = Permission
_VIEWER = {P.ORG_READ, P.AGENTS_READ, P.EXECUTIONS_READ, P.INTEGRATIONS_READ, P.KNOWLEDGE_READ, P.ANALYTICS_READ}
_EDITOR = _VIEWER | {P.AGENTS_WRITE, P.AGENTS_EXECUTE, P.KNOWLEDGE_WRITE}
_ADMIN = _EDITOR | {
    P.ORG_MANAGE,
    P.MEMBERS_MANAGE,
    P.API_KEYS_MANAGE,
    P.AUDIT_READ,
    P.AGENTS_DELETE,
    P.INTEGRATIONS_MANAGE,
}
_OWNER = _ADMIN | {P.BILLING_MANAGE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset(_VIEWER),
    Role.EDITOR: frozenset(_EDITOR),
    Role.ADMIN: frozenset(_ADMIN),
    Role.OWNER: frozenset(_OWNER),
}

# API-key scopes and the permissions each one grants.
SCOPE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "org:read": frozenset({P.ORG_READ}),
    "agents:read": frozenset({P.AGENTS_READ}),
    "agents:write": frozenset({P.AGENTS_READ, P.AGENTS_WRITE}),
    "agents:delete": frozenset({P.AGENTS_DELETE}),
    "executions:read": frozenset({P.EXECUTIONS_READ}),
    "executions:write": frozenset({P.EXECUTIONS_READ, P.AGENTS_EXECUTE}),
    "integrations:read": frozenset({P.INTEGRATIONS_READ}),
    "knowledge:read": frozenset({P.KNOWLEDGE_READ}),
    "knowledge:write": frozenset({P.KNOWLEDGE_READ, P.KNOWLEDGE_WRITE}),
    "analytics:read": frozenset({P.ANALYTICS_READ}),
    "audit:read": frozenset({P.AUDIT_READ}),
}
ALL_SCOPES = tuple(SCOPE_PERMISSIONS)
DEFAULT_SCOPES = ("agents:read", "agents:write", "executions:read")


def role_allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def scopes_allow(scopes: frozenset[str], permission: Permission) -> bool:
    return any(permission in SCOPE_PERMISSIONS.get(scope, frozenset()) for scope in scopes)


def scopes_within_role(scopes: frozenset[str], role: Role) -> bool:
    """A key may not carry more than its creator could do in person."""
    granted = frozenset().union(*(SCOPE_PERMISSIONS[s] for s in scopes)) if scopes else frozenset()
    return granted <= ROLE_PERMISSIONS[role]
