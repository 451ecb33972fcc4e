"""/api/v1/org: the current org, its members and invitations, and the local mail outbox."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from agentflow.auth.dependencies import TenantReads, reads, requires
from agentflow.kit.deps import SessionDep, SettingsDep
from agentflow.kit.errors import NotFound
from agentflow.kit.pagination import Page
from agentflow.kit.params import DEFAULT_PAGE_SIZE, Cursor, Limit
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal
from agentflow.orgs import invitations, service
from agentflow.orgs.schemas import (
    InvitationOut,
    InviteIn,
    MemberOut,
    OrgDetailOut,
    OrgUpdateIn,
    OutboxEmailOut,
    RoleChangeIn,
)

router = APIRouter(prefix="/org", tags=["organization"])

Reader = Annotated[Principal, requires(Permission.ORG_READ)]
OrgManager = Annotated[Principal, requires(Permission.ORG_MANAGE)]
MemberManager = Annotated[Principal, requires(Permission.MEMBERS_MANAGE)]


@router.get("")
async def get_org(principal: Reader, session: SessionDep) -> OrgDetailOut:
    return await service.get_org(session, principal)


@router.put("")
async def update_org(body: OrgUpdateIn, principal: OrgManager, session: SessionDep) -> OrgDetailOut:
    return await service.update_org(session, principal, body)


@router.get("/members")
async def list_members(
    reader: Annotated[TenantReads, reads(Permission.ORG_READ)], cursor: Cursor = None, limit: Limit = DEFAULT_PAGE_SIZE
) -> Page[MemberOut]:
    # Read on every visit to the members page and by team-sync scripts: no session, and a person's
    # membership check rides with the read (see `TenantReads`).
    return await service.list_members(reader, cursor=cursor, limit=limit)


@router.post("/members/invite", status_code=status.HTTP_201_CREATED)
async def invite_member(
    body: InviteIn, principal: MemberManager, session: SessionDep, settings: SettingsDep
) -> InvitationOut:
    """Email a single-use invitation link; the token itself is never returned by the API."""
    return await invitations.invite(session, settings, principal, body)


@router.put("/members/{member_id}/role")
async def change_member_role(
    member_id: uuid.UUID, body: RoleChangeIn, principal: MemberManager, session: SessionDep
) -> MemberOut:
    return await service.change_role(session, principal, member_id, body.role)


@router.delete("/members/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(member_id: uuid.UUID, principal: MemberManager, session: SessionDep) -> Response:
    await service.remove_member(session, principal, member_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/invitations")
async def list_invitations(
    principal: MemberManager, session: SessionDep, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE_SIZE
) -> Page[InvitationOut]:
    return await invitations.list_invitations(session, principal, cursor=cursor, limit=limit)


@router.delete("/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_invitation(invitation_id: uuid.UUID, principal: MemberManager, session: SessionDep) -> Response:
    await invitations.revoke(session, principal, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/outbox")
async def list_outbox(
    principal: MemberManager,
    session: SessionDep,
    settings: SettingsDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> Page[OutboxEmailOut]:
    """Mail kept locally by the embedded default (no SMTP configured)."""
    if settings.mail_backend != "outbox":
        raise NotFound("The local outbox is off: mail is sent through SMTP", code="OUTBOX_DISABLED")
    return await service.list_outbox(session, principal, cursor=cursor, limit=limit)
