"""The current org and its members (spec §4.2 "Organization", §8.2)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.audit import service as audit
from agentflow.kit.db import TenantReader
from agentflow.kit.errors import Conflict, Forbidden, NotFound
from agentflow.kit.pagination import Page
from agentflow.kit.principal import Principal
from agentflow.models.orgs import OrgMembership, Role, User
from agentflow.orgs.repository import MemberRepository, OrganizationRepository, OutboxRepository, members_with_users
from agentflow.orgs.schemas import MemberOut, OrgDetailOut, OrgUpdateIn, OutboxEmailOut


async def get_org(session: AsyncSession, principal: Principal) -> OrgDetailOut:
    org = await OrganizationRepository(session, principal.org_id).get()
    if org is None:
        raise NotFound("Organization not found", code="ORG_NOT_FOUND")
    return OrgDetailOut.model_validate(org, from_attributes=True)


async def update_org(session: AsyncSession, principal: Principal, data: OrgUpdateIn) -> OrgDetailOut:
    org = await OrganizationRepository(session, principal.org_id).get()
    if org is None:
        raise NotFound("Organization not found", code="ORG_NOT_FOUND")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for field, value in changes.items():
        setattr(org, field, value)
    await session.flush()
    await session.refresh(org)
    await audit.record(
        session,
        org_id=org.id,
        actor=principal,
        action="org.updated",
        resource_type="organization",
        resource_id=org.id,
        details={"fields": sorted(changes)},
    )
    return OrgDetailOut.model_validate(org, from_attributes=True)


def _member_out(membership: OrgMembership, user: User) -> MemberOut:
    return MemberOut(
        id=membership.id,
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(membership.role),
        joined_at=membership.created_at,
    )


async def list_members(reader: TenantReader, *, cursor: str | None, limit: int) -> Page[MemberOut]:
    rows, next_cursor = await members_with_users(reader, cursor=cursor, limit=limit)
    items = [
        MemberOut(id=r.id, user_id=r.user_id, email=r.email, name=r.name, role=Role(r.role), joined_at=r.joined_at)
        for r in rows
    ]
    return Page(items=items, next_cursor=next_cursor)


def _check_can_manage(principal: Principal, target_role: Role, new_role: Role | None = None) -> None:
    """Admins manage admins, editors and viewers; only owners touch owners or make new ones."""
    if principal.role is Role.OWNER:
        return
    if target_role is Role.OWNER or new_role is Role.OWNER:
        raise Forbidden("Only an owner can change or remove an owner, or grant ownership", code="OWNER_REQUIRED")


async def change_role(session: AsyncSession, principal: Principal, member_id: uuid.UUID, role: Role) -> MemberOut:
    members = MemberRepository(session, principal.org_id)
    found = await members.get_with_user(member_id, for_update=True)
    if found is None:
        raise NotFound("Member not found", code="MEMBER_NOT_FOUND")
    membership, user = found
    current = Role(membership.role)
    _check_can_manage(principal, current, role)
    if current is Role.OWNER and role is not Role.OWNER and await members.lock_owner_count() <= 1:
        raise Conflict("The last owner cannot be demoted; make someone else owner first", code="LAST_OWNER")
    membership.role = role.value
    await session.flush()
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="member.role_changed",
        resource_type="member",
        resource_id=membership.id,
        details={"user_id": str(user.id), "from": current.value, "to": role.value},
    )
    return _member_out(membership, user)


async def remove_member(session: AsyncSession, principal: Principal, member_id: uuid.UUID) -> None:
    members = MemberRepository(session, principal.org_id)
    found = await members.get_with_user(member_id, for_update=True)
    if found is None:
        raise NotFound("Member not found", code="MEMBER_NOT_FOUND")
    membership, user = found
    current = Role(membership.role)
    _check_can_manage(principal, current)
    if current is Role.OWNER and await members.lock_owner_count() <= 1:
        raise Conflict("The last owner cannot be removed", code="LAST_OWNER")
    await members.delete(membership)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="member.removed",
        resource_type="member",
        resource_id=membership.id,
        details={"user_id": str(user.id), "email": user.email, "role": current.value},
    )


async def list_outbox(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> Page[OutboxEmailOut]:
    repo = OutboxRepository(session, principal.org_id)
    rows, next_cursor = await repo.page(repo.select(), cursor=cursor, limit=limit)
    return Page(
        items=[
            OutboxEmailOut(id=r.id, to=r.to_address, subject=r.subject, body=r.body, created_at=r.created_at)
            for (r,) in rows
        ],
        next_cursor=next_cursor,
    )
