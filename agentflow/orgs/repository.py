from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, text

from agentflow.kit.db import TenantReader
from agentflow.kit.repository import TenantRepository, read_page
from agentflow.models.orgs import Invitation, Organization, OrgMembership, OutboxEmail, Role, User


class OrganizationRepository:
    def __init__(self, session: Any, org_id: uuid.UUID) -> None:
        self.session = session
        self.org_id = org_id

    async def get(self) -> Organization | None:
        result = await self.session.execute(select(Organization).where(Organization.id == self.org_id))
        org: Organization | None = result.scalar_one_or_none()
        return org


class MemberRow(NamedTuple):
    id: uuid.UUID
    joined_at: datetime
    role: str
    user_id: uuid.UUID
    email: str
    name: str | None


_MEMBERS_WITH_USERS = """
SELECT m.id, m.created_at, m.role, u.id, u.email, u.name
FROM org_memberships m JOIN users u ON u.id = m.user_id
WHERE m.org_id = %(org_id)s"""


async def members_with_users(
    reader: TenantReader, *, cursor: str | None, limit: int
) -> tuple[list[MemberRow], str | None]:
    """The org's members with their user, newest first, read outside any session."""
    rows, next_cursor = await read_page(reader, _MEMBERS_WITH_USERS, {}, alias="m", cursor=cursor, limit=limit)
    return [MemberRow(*row) for row in rows], next_cursor


class MemberRepository(TenantRepository[OrgMembership]):
    model = OrgMembership

    async def get_with_user(
        self, membership_id: uuid.UUID, *, for_update: bool = False
    ) -> tuple[OrgMembership, User] | None:
        stmt = (
            select(OrgMembership, User)
            .join(User, User.id == OrgMembership.user_id)
            .where(OrgMembership.org_id == self.org_id, OrgMembership.id == membership_id)
        )
        if for_update:
            stmt = stmt.with_for_update(of=OrgMembership)
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row else None

    async def by_user(self, user_id: uuid.UUID) -> OrgMembership | None:
        stmt = self.select().where(OrgMembership.user_id == user_id)
        membership: OrgMembership | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return membership

    async def lock_owner_count(self) -> int:
        """Count owners while holding their rows, so two concurrent demotions can't both pass
        the last-owner check."""
        ids = (
            (await self.session.execute(self.select().where(OrgMembership.role == Role.OWNER.value).with_for_update()))
            .scalars()
            .all()
        )
        return len(ids)

    async def is_member_email(self, email: str) -> bool:
        stmt = (
            select(func.count())
            .select_from(OrgMembership)
            .join(User, User.id == OrgMembership.user_id)
            .where(OrgMembership.org_id == self.org_id, User.email == email)
        )
        return bool((await self.session.execute(stmt)).scalar_one())


class InvitationRepository(TenantRepository[Invitation]):
    model = Invitation

    async def list(self, *, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
        return await self.page(self.select(), cursor=cursor, limit=limit)


async def find_invitation_by_token_hash(session: Any, token_hash: str) -> Invitation | None:
    """Before the org is known: the `lookup_by_secret` policy exposes only the row whose token
    hash is put in the transaction context."""
    await session.execute(text("SELECT set_config('app.invitation_hash', :h, true)"), {"h": token_hash})
    result = await session.execute(select(Invitation).where(Invitation.token_hash == token_hash))
    invitation: Invitation | None = result.scalar_one_or_none()
    return invitation


class OutboxRepository(TenantRepository[OutboxEmail]):
    model = OutboxEmail
