"""Identity lookups. `users` and `refresh_tokens` hold no tenant data and have no org scope;
memberships, orgs and API keys are read under the row-level security context.

The lookups that authenticate a request run on every call, so they are plain SQL sent together
with the statement that sets their context (`fetch_in_context`, `fetch_last`): one round trip and
no ORM work. Everything else goes through the ORM.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.kit.db import Database, fetch_each, fetch_in_context, fetch_last
from agentflow.models.auth import RefreshToken
from agentflow.models.orgs import Organization, OrgMembership, User

# A person enters an org: with only the user in context, row-level security shows their own
# memberships; the org becomes the context only through an active user's membership row, so
# without one every tenant table stays empty for the rest of the transaction (fail closed).
_ENTER_ORG = """
SELECT set_config('app.user_id', %(user_id)s, true), set_config('app.org_id', '', true);
SELECT m.role, set_config('app.org_id', m.org_id::text, true)
FROM org_memberships m JOIN users u ON u.id = m.user_id
WHERE m.user_id = %(user_id)s AND m.org_id = %(org_id)s AND u.is_active"""

# The user (any state: the caller decides) and each org they belong to, one row per org; a user
# with no org yields one row of NULLs after the user's columns.
_USER_WITH_ORGS = """
SELECT u.email, u.name, u.is_active, o.id, o.name, o.slug, o.plan, m.role
FROM users u
LEFT JOIN (org_memberships m JOIN organizations o ON o.id = m.org_id) ON m.user_id = u.id
WHERE u.id = %(user_id)s
ORDER BY m.created_at, o.id
"""

# Within the key's own org context.
_API_KEY_WITH_ORG = """
SELECT k.id, k.name, k.key_prefix, k.scopes, o.id, o.name, o.slug, o.plan
FROM api_keys k JOIN organizations o ON o.id = k.org_id
WHERE k.id = %(key_id)s
"""

# Only the row whose hash is in `app.api_key_hash` is readable (policy `lookup_by_secret`). A
# usable key's row also sets the key's org as the context for the rest of the transaction:
# `set_config` in the select list runs only for a row that passed every condition.
_USABLE_API_KEY = """
SELECT set_config('app.api_key_hash', %(key_hash)s, true);
SELECT id, org_id, scopes, last_used_at, set_config('app.org_id', org_id::text, true)
FROM api_keys
WHERE key_hash = %(key_hash)s AND is_active AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
"""

_TOUCH_API_KEY = "UPDATE api_keys SET last_used_at = %(now)s WHERE id = %(key_id)s RETURNING id"


@dataclass(frozen=True)
class OrgInfo:
    id: uuid.UUID
    name: str
    slug: str
    plan: str


@dataclass(frozen=True)
class ApiKeyInfo:
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]


@dataclass(frozen=True)
class UserWithOrgs:
    email: str
    name: str | None
    is_active: bool
    orgs: list[tuple[OrgInfo, str]]  # with the user's role in each


@dataclass(frozen=True)
class UsableApiKey:
    id: uuid.UUID
    org_id: uuid.UUID
    scopes: list[str]
    last_used_at: datetime | None


async def user_with_orgs(db: Database, user_id: uuid.UUID, org_id: uuid.UUID | None) -> UserWithOrgs | None:
    """The user and their memberships (oldest first), read in one round trip outside any session."""
    rows = await db.read_in_context(_USER_WITH_ORGS, {}, org_id=org_id, user_id=user_id)
    if not rows:
        return None
    email, name, is_active = rows[0][:3]
    orgs = [(OrgInfo(*row[3:7]), row[7]) for row in rows if row[3] is not None]
    return UserWithOrgs(email=email, name=name, is_active=is_active, orgs=orgs)


async def api_key_with_org(db: Database, key_id: uuid.UUID, org_id: uuid.UUID) -> tuple[ApiKeyInfo, OrgInfo] | None:
    """An authenticated key and its org, read in one round trip outside any session."""
    rows = await db.read_in_context(_API_KEY_WITH_ORG, {"key_id": str(key_id)}, org_id=org_id, user_id=None)
    return (ApiKeyInfo(*rows[0][:4]), OrgInfo(*rows[0][4:])) if rows else None


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_email(self, email: str) -> User | None:
        result = await self.session.execute(select(User).where(User.email == email.lower()))
        return result.scalar_one_or_none()

    async def by_id(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user


# Credential checks, on the request's transaction (the context they set then holds for the rest of
# it) or on an autocommit connection (where it ends with the message: see `Database`).


async def enter_org(
    conn: psycopg.AsyncConnection[Any],
    user_id: uuid.UUID,
    org_id: uuid.UUID,
    *,
    then: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[str | None, list[tuple[Any, ...]]]:
    """Make `org_id` the tenant context if the user is an active member of it; return their role
    there (None if not a member) and the rows of the read `then`, sent in the same message and run
    in that context (so it reads nothing for a non-member).

    `then` is plain SQL with `%(name)s` placeholders from `params`, and may use `%(org_id)s` and
    `%(user_id)s`.
    """
    statements = _ENTER_ORG if then is None else f"{_ENTER_ORG};\n{then}"
    results = await fetch_each(conn, statements, {**(params or {}), "org_id": str(org_id), "user_id": str(user_id)})
    membership = results[1]
    return (str(membership[0][0]) if membership else None), results[2] if then is not None else []


async def enter_org_of_usable_key(conn: psycopg.AsyncConnection[Any], key_hash: str) -> UsableApiKey | None:
    """The active, unrevoked, unexpired API key with this SHA-256, its org made the tenant context;
    None (and no context) otherwise.

    Found before the org is known: the row-level security policy `lookup_by_secret` makes exactly
    the row whose hash is put in `app.api_key_hash` readable, so knowing the secret grants the lookup.
    """
    rows: list[Any] = await fetch_last(conn, _USABLE_API_KEY, {"key_hash": key_hash})
    return UsableApiKey(*rows[0][:4]) if rows else None


async def touch_api_key(conn: psycopg.AsyncConnection[Any], key: UsableApiKey, now: datetime) -> None:
    await fetch_in_context(conn, _TOUCH_API_KEY, {"key_id": key.id, "now": now}, org_id=key.org_id, user_id=None)


class MembershipRepository:
    """Memberships visible in the current context: the current org's, and the current user's own."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def orgs_of(self, user_id: uuid.UUID) -> list[tuple[Organization, str]]:
        result = await self.session.execute(
            select(Organization, OrgMembership.role)
            .join(OrgMembership, OrgMembership.org_id == Organization.id)
            .where(OrgMembership.user_id == user_id)
            .order_by(OrgMembership.created_at, Organization.id)
        )
        return [(org, role) for org, role in result.all()]


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_hash_for_update(self, token_hash: str) -> RefreshToken | None:
        result = await self.session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        )
        return result.scalar_one_or_none()

    async def add(self, token: RefreshToken) -> None:
        self.session.add(token)
        await self.session.flush()

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
