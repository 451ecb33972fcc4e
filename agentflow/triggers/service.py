"""The agent's triggers as its editors see them, and webhook tokens and signing secrets.

A webhook's URL token and signing secret are made the first time an editor asks for them (an
agent cannot be called before anyone knows its URL) and kept sealed in the vault; the ingress
finds the row by the token's SHA-256 only. Rotating replaces both at once: the old URL stops
working immediately.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.agents import service as agents
from agentflow.agents.schemas import AgentStatus
from agentflow.audit import service as audit
from agentflow.engine.nodes.trigger_schedule import ScheduleTriggerConfig
from agentflow.engine.nodes.trigger_webhook import WebhookTriggerConfig
from agentflow.kit.errors import Conflict
from agentflow.kit.principal import Principal
from agentflow.kit.vault import Vault
from agentflow.models.agents import Agent
from agentflow.models.triggers import AgentTrigger
from agentflow.settings import Settings
from agentflow.triggers.schedules import next_fire_times
from agentflow.triggers.schemas import ScheduleOut, TriggersOut, WebhookOut

VAULT_PURPOSE = "webhook"
HOOKS_PATH = "/api/v1/hooks/"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_secrets() -> dict[str, str]:
    return {"token": "wh_" + secrets.token_urlsafe(32), "signing_secret": "whsec_" + secrets.token_urlsafe(32)}


def open_secrets(vault: Vault, row: AgentTrigger) -> dict[str, Any]:
    if row.secret_envelope is None:
        raise ValueError("this trigger has no webhook secrets")
    return vault.open(row.secret_envelope, org_id=row.org_id, purpose=VAULT_PURPOSE, secret_id=row.id)


async def _webhook_row(session: AsyncSession, vault: Vault, agent: Agent, *, rotate: bool = False) -> AgentTrigger:
    """The agent's webhook row, made (or re-keyed, with `rotate`) as needed."""
    row_id = uuid.uuid4()
    fresh = _new_secrets()
    # Two editors opening the page at once: one insert wins, the other reads the winner's row.
    await session.execute(
        insert(AgentTrigger)
        .values(
            id=row_id,
            org_id=agent.org_id,
            agent_id=agent.id,
            kind="webhook",
            token_hash=token_hash(fresh["token"]),
            secret_envelope=vault.seal(fresh, org_id=agent.org_id, purpose=VAULT_PURPOSE, secret_id=row_id),
        )
        .on_conflict_do_nothing(constraint="uq_agent_triggers_agent_kind")
    )
    row = (
        await session.execute(
            select(AgentTrigger)
            .where(AgentTrigger.agent_id == agent.id, AgentTrigger.kind == "webhook")
            .with_for_update()
        )
    ).scalar_one()
    if rotate and row.id != row_id:
        replacement = _new_secrets()
        row.token_hash = token_hash(replacement["token"])
        row.secret_envelope = vault.seal(replacement, org_id=row.org_id, purpose=VAULT_PURPOSE, secret_id=row.id)
        row.updated_at = datetime.now(UTC)
        await session.flush()
    return row


async def triggers_of(
    session: AsyncSession, principal: Principal, vault: Vault, settings: Settings, agent_id: uuid.UUID
) -> TriggersOut:
    agent = await agents.load(session, principal, agent_id)
    webhook = None
    if agent.trigger_type == "webhook":
        webhook = _webhook_out(vault, settings, agent, await _webhook_row(session, vault, agent))
    schedule = None
    if agent.trigger_type == "schedule":
        config = ScheduleTriggerConfig.model_validate(agent.trigger_config or {})
        row = (
            await session.execute(
                select(AgentTrigger).where(AgentTrigger.agent_id == agent.id, AgentTrigger.kind == "schedule")
            )
        ).scalar_one_or_none()
        schedule = ScheduleOut(
            cron=config.cron,
            timezone=config.timezone,
            missed_fires=config.missed_fires,
            active=agent.status == AgentStatus.ACTIVE,
            next_fire_times=next_fire_times(config.cron, config.timezone, datetime.now(UTC)),
            last_fired_at=row.last_fired_at if row else None,
        )
    return TriggersOut(trigger_type=agent.trigger_type, webhook=webhook, schedule=schedule)


async def rotate_webhook(
    session: AsyncSession, principal: Principal, vault: Vault, settings: Settings, agent_id: uuid.UUID
) -> TriggersOut:
    agent = await agents.load(session, principal, agent_id, for_update=True)
    if agent.trigger_type != "webhook":
        raise Conflict("The published version has no webhook trigger", code="NO_WEBHOOK_TRIGGER")
    await _webhook_row(session, vault, agent, rotate=True)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="agent.webhook_rotated",
        resource_type="agent",
        resource_id=agent.id,
        details={},
    )
    return await triggers_of(session, principal, vault, settings, agent_id)


def _webhook_out(vault: Vault, settings: Settings, agent: Agent, row: AgentTrigger) -> WebhookOut:
    config = WebhookTriggerConfig.model_validate(agent.trigger_config or {})
    opened = open_secrets(vault, row)
    return WebhookOut(
        url=f"{settings.public_url.rstrip('/')}{HOOKS_PATH}{opened['token']}",
        signing_secret=str(opened["signing_secret"]),
        require_signature=config.require_signature,
        respond_mode=config.respond_mode,
        response_timeout_seconds=config.response_timeout_seconds,
    )
