"""Identity lookups. `users` and `refresh_tokens` hold no tenant data and have no org scope;
memberships, orgs and API keys are read under the row-level security context."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.models.auth import ApiKey, RefreshToken
from agentflow.models.orgs import Organization, OrgMembership, User


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


class MembershipRepository:
    """Memberships visible in the current context: the current org's, and the current user's own."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def role_of(self, user_id: uuid.UUID, org_id: uuid.UUID) -> str | None:
        result = await self.session.execute(
            select(OrgMembership.role)
            .join(User, User.id == OrgMembership.user_id)
            .where(OrgMembership.user_id == user_id, OrgMembership.org_id == org_id, User.is_active.is_(True))
        )
        return result.scalar_one_or_none()

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


class ApiKeyLookup:
    """Find an API key by the SHA-256 of the presented secret, before the org is known.

    The row-level security policy `lookup_by_secret` makes exactly the row whose hash is put in
    `app.api_key_hash` readable, so knowing the secret is what grants the lookup.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        await self.session.execute(text("SELECT set_config('app.api_key_hash', :h, true)"), {"h": key_hash})
        result = await self.session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash))
        return result.scalar_one_or_none()

    async def by_id(self, key_id: uuid.UUID) -> ApiKey | None:
        """Within the key's own org context (after authentication)."""
        return await self.session.get(ApiKey, key_id)

    async def touch(self, key_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
