"""Invitations: single-use, expiring tokens sent by email; only the token's hash is stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.audit import service as audit
from agentflow.auth.repository import UserRepository
from agentflow.kit.db import set_tenant_context
from agentflow.kit.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from agentflow.kit.mail import send_mail
from agentflow.kit.pagination import Page
from agentflow.kit.principal import Principal, RequestMeta
from agentflow.kit.security import hash_password, new_secret_token, sha256_hex, verify_password
from agentflow.models.orgs import Invitation, Organization, OrgMembership, Role, User
from agentflow.orgs.repository import (
    InvitationRepository,
    MemberRepository,
    OrganizationRepository,
    find_invitation_by_token_hash,
)
from agentflow.orgs.schemas import InvitationOut, InviteIn
from agentflow.settings import Settings


def _status(inv: Invitation, now: datetime) -> str:
    if inv.accepted_at:
        return "accepted"
    if inv.revoked_at:
        return "revoked"
    return "expired" if inv.expires_at <= now else "pending"


def _out(inv: Invitation) -> InvitationOut:
    return InvitationOut(
        id=inv.id,
        email=inv.email,
        role=Role(inv.role),
        status=_status(inv, datetime.now(UTC)),
        expires_at=inv.expires_at,
        created_at=inv.created_at,
    )


async def invite(session: AsyncSession, settings: Settings, principal: Principal, data: InviteIn) -> InvitationOut:
    if data.role is Role.OWNER and principal.role is not Role.OWNER:
        raise Forbidden("Only an owner can invite another owner", code="OWNER_REQUIRED")
    email = data.email.lower()
    if await MemberRepository(session, principal.org_id).is_member_email(email):
        raise Conflict("This person is already a member", code="ALREADY_MEMBER")
    org = await OrganizationRepository(session, principal.org_id).get()
    assert org is not None
    token = new_secret_token()
    invitation = await InvitationRepository(session, principal.org_id).add(
        Invitation(
            email=email,
            role=data.role.value,
            token_hash=sha256_hex(token),
            invited_by=principal.user_id,
            expires_at=datetime.now(UTC) + timedelta(hours=settings.invitation_ttl_hours),
        )
    )
    link = f"{settings.public_url.rstrip('/')}/accept-invite/?token={token}"
    await send_mail(
        session,
        settings,
        org_id=principal.org_id,
        to=email,
        subject=f"You're invited to {org.name} on AgentFlow",
        body=(
            f"You have been invited to join {org.name} on AgentFlow as {data.role.value}.\n\n"
            f"Accept the invitation: {link}\n\n"
            f"The link works once and expires in {settings.invitation_ttl_hours} hours.\n"
        ),
    )
    await session.refresh(invitation)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="member.invited",
        resource_type="invitation",
        resource_id=invitation.id,
        details={"email": email, "role": data.role.value},
    )
    return _out(invitation)


async def list_invitations(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> Page[InvitationOut]:
    rows, next_cursor = await InvitationRepository(session, principal.org_id).list(cursor=cursor, limit=limit)
    return Page(items=[_out(r) for (r,) in rows], next_cursor=next_cursor)


async def revoke(session: AsyncSession, principal: Principal, invitation_id: uuid.UUID) -> None:
    invitation = await InvitationRepository(session, principal.org_id).get(invitation_id, for_update=True)
    if invitation is None:
        raise NotFound("Invitation not found", code="INVITATION_NOT_FOUND")
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = datetime.now(UTC)
        await session.flush()
        await audit.record(
            session,
            org_id=principal.org_id,
            actor=principal,
            action="invitation.revoked",
            resource_type="invitation",
            resource_id=invitation.id,
        )


async def accept(
    session: AsyncSession,
    *,
    token: str,
    name: str | None,
    password: str | None,
    signed_in_user_id: uuid.UUID | None,
    meta: RequestMeta,
) -> tuple[User, Organization, str]:
    found = await find_invitation_by_token_hash(session, sha256_hex(token))
    if found is None:
        raise BadRequest("This invitation link is invalid", code="INVITATION_INVALID")
    await set_tenant_context(session, org_id=found.org_id, user_id=None)
    # Lock it so one token can't be accepted twice concurrently.
    invitation = await InvitationRepository(session, found.org_id).get(found.id, for_update=True)
    now = datetime.now(UTC)
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        raise BadRequest("This invitation was already used or revoked", code="INVITATION_INVALID")
    if invitation.expires_at <= now:
        raise BadRequest("This invitation has expired; ask for a new one", code="INVITATION_EXPIRED")

    users = UserRepository(session)
    user = await users.by_email(invitation.email)
    if user is not None:
        # Holding the link is not enough to act as an existing account: prove you own it.
        proven = signed_in_user_id == user.id or (
            password is not None and verify_password(password, user.password_hash)
        )
        if not proven or not user.is_active:
            raise Unauthorized(
                "Sign in as the invited account (or give its password) to accept", code="SIGN_IN_REQUIRED"
            )
    else:
        if password is None:
            raise Unprocessable(
                "Choose a password to create your account",
                details={"fields": [{"loc": ["body", "password"], "message": "required"}]},
            )
        user = User(
            email=invitation.email, name=name or invitation.email.split("@")[0], password_hash=hash_password(password)
        )
        await users.add(user)

    await set_tenant_context(session, org_id=invitation.org_id, user_id=user.id)
    invitation.accepted_at = now
    try:
        async with session.begin_nested():
            session.add(OrgMembership(org_id=invitation.org_id, user_id=user.id, role=invitation.role))
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("You are already a member of this organization", code="ALREADY_MEMBER") from exc
    org = await OrganizationRepository(session, invitation.org_id).get()
    assert org is not None
    await audit.record(
        session,
        org_id=org.id,
        user_id=user.id,
        meta=meta,
        action="member.joined",
        resource_type="invitation",
        resource_id=invitation.id,
        details={"email": user.email, "role": invitation.role},
    )
    return user, org, invitation.role
