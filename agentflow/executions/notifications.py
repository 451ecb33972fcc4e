"""Telling approvers that a run waits for them (spec §5.3): an email to each member the approval
names (by address, or by a role they hold or outrank). The in-app list is
`GET /executions/pending-approvals`, which reads the same approvers.

Only members who can decide are written to: not viewers (deciding needs `agents:execute`), and
not outside addresses (they could not sign in, and a workflow must not become a way to mail
strangers).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.kit.mail import MailDeliveryFailed, send_mail
from agentflow.models.agents import Agent
from agentflow.models.orgs import OrgMembership, Role, User
from agentflow.settings import Settings

log = logging.getLogger("agentflow.executions")

ROLE_RANK = {Role.VIEWER.value: 0, Role.EDITOR.value: 1, Role.ADMIN.value: 2, Role.OWNER.value: 3}
MAX_MESSAGE_CHARS = 4_000


async def approver_emails(session: AsyncSession, approvers: list[str]) -> list[str]:
    """The addresses of the org's active members the approvers list names (session in org context)."""
    named_emails = {a.strip().lower() for a in approvers if "@" in a}
    named_ranks = [ROLE_RANK[a] for a in approvers if a in ROLE_RANK]
    lowest_rank = min(named_ranks) if named_ranks else None
    members = (
        await session.execute(
            select(User.email, OrgMembership.role)
            .join(User, User.id == OrgMembership.user_id)
            .where(User.is_active.is_(True))
            .order_by(User.email)
        )
    ).all()
    deciders = [(email, ROLE_RANK.get(role, -1)) for email, role in members if role != Role.VIEWER.value]
    return [
        email
        for email, rank in deciders
        if email.lower() in named_emails or (lowest_rank is not None and rank >= lowest_rank)
    ]


async def notify_approvers(
    session: AsyncSession,
    settings: Settings,
    *,
    org_id: uuid.UUID,
    agent_id: uuid.UUID,
    execution_id: uuid.UUID,
    approval: dict[str, Any],
) -> int:
    """Email every approver; returns how many were written to. A failed delivery is logged, not
    raised: the approval is in the in-app list either way."""
    recipients = await approver_emails(session, [str(a) for a in approval.get("approvers") or []])
    agent_name = await session.scalar(select(Agent.name).where(Agent.id == agent_id)) or "An agent"
    message = str(approval.get("message") or "")[:MAX_MESSAGE_CHARS]
    link = f"{settings.public_url.rstrip('/')}/executions/detail/?id={execution_id}"  # the web app's page
    body = (
        f"{agent_name} is waiting for your approval.\n\n{message}\n\n"
        f"Approve or reject it here: {link}\n"
        "If nobody decides in time, the run continues on its timeout path.\n"
    )
    sent = 0
    for email in recipients:
        try:
            await send_mail(
                session, settings, org_id=org_id, to=email, subject=f"Approval needed: {agent_name}", body=body
            )
            sent += 1
        except MailDeliveryFailed:
            log.warning("approval email not delivered", extra={"execution_id": str(execution_id)})
    return sent
