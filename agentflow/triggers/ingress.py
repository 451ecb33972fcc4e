"""The webhook ingress as a service: find the trigger by its URL token, check the request, start
the run; and, for `when_done` triggers, wait for the run to finish. The router only turns HTTP into
a `Delivery` and the outcome into a response."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from agentflow.agents.repository import AgentRepository
from agentflow.engine.nodes.trigger_webhook import WebhookTriggerConfig
from agentflow.executions import service as executions
from agentflow.executions.events import channel
from agentflow.executions.jsonsafe import to_json
from agentflow.executions.queue import enqueue
from agentflow.executions.schemas import FINISHED, ExecutionStatus
from agentflow.kit.db import Database
from agentflow.models.executions import Execution
from agentflow.models.triggers import AgentTrigger
from agentflow.triggers import service, webhooks


@dataclass(frozen=True)
class Delivery:
    method: str
    headers: dict[str, str]
    """Lower-cased names."""
    query: str
    body: bytes


@dataclass(frozen=True)
class Started:
    execution_id: uuid.UUID
    org_id: uuid.UUID
    status: ExecutionStatus
    wait_seconds: float | None
    """Set for `when_done` triggers: how long the caller may wait for the run's answer."""


async def _trigger_by_token(db: Database, token: str) -> AgentTrigger | None:
    token_hash = service.token_hash(token)
    async with db.transaction() as session:
        # Only the row whose token hash is in the transaction context is visible (RLS).
        await session.execute(text("SELECT set_config('app.webhook_token_hash', :hash, true)"), {"hash": token_hash})
        row: AgentTrigger | None = (
            await session.execute(
                select(AgentTrigger).where(AgentTrigger.token_hash == token_hash, AgentTrigger.kind == "webhook")
            )
        ).scalar_one_or_none()
    return row


async def start_run(state: Any, token: str, delivery: Delivery) -> Started:
    """`state` is the app's state: db, vault, redis, rate limiter, settings and Celery."""
    db: Database = state.db
    row = await _trigger_by_token(db, token)
    if row is None:
        raise webhooks.WebhookNotFound("No webhook at this URL")
    org_id = row.org_id
    async with db.transaction(org_id=org_id) as session:
        agent = await AgentRepository(session, org_id).runnable(row.agent_id)
        if agent is None or agent.trigger_type != "webhook":
            raise webhooks.WebhookNotFound("No webhook at this URL")
        config = WebhookTriggerConfig.model_validate(agent.trigger_config or {})
        replay_key = None
        if config.require_signature:
            signing_secret = str(service.open_secrets(state.vault, row)["signing_secret"])
            replay_key = webhooks.verify(delivery.headers, delivery.body, signing_secret)
        await state.rate_limiter.hit(state.settings.rate_limit_webhook, "webhook", str(agent.id))
        if replay_key is not None:
            await webhooks.refuse_replays(state.redis, str(row.id), replay_key)
        data = webhooks.trigger_data(
            delivery.method, delivery.headers, delivery.query, delivery.headers.get("content-type", ""), delivery.body
        )
        execution = await executions.start_published_run(
            session,
            agent,
            trigger_data=to_json(data),
            triggered_by="webhook",
            metadata={},
            limiter=state.rate_limiter,
            settings=state.settings,
        )
        started = Started(
            execution_id=execution.id,
            org_id=org_id,
            status=ExecutionStatus(execution.status),
            wait_seconds=float(config.response_timeout_seconds) if config.respond_mode == "when_done" else None,
        )
    if started.status == ExecutionStatus.PENDING:  # after commit: the worker always finds the row
        enqueue(state.celery, started.execution_id, org_id)
    return started


async def wait_until_finished(state: Any, started: Started) -> Execution | None:
    """The finished execution, or None if it is still going after the trigger's wait (or it waits
    for an approval or a delay). Subscribes before looking, so no ending is missed."""
    db: Database = state.db
    pubsub = state.redis.pubsub()
    await pubsub.subscribe(channel(started.execution_id))
    try:
        async with asyncio.timeout(started.wait_seconds or 0):
            while True:
                async with db.transaction(org_id=started.org_id) as session:
                    row = await session.get(Execution, started.execution_id)
                    if row is None:
                        return None
                    if row.status in FINISHED:
                        session.expunge(row)
                        return row
                    if row.status in (ExecutionStatus.WAITING_APPROVAL, ExecutionStatus.PARKED):
                        return None
                # Any event may be the last one; look again after each (or every 2 s regardless).
                await pubsub.get_message(ignore_subscribe_messages=True, timeout=2.0)
    except TimeoutError:
        return None
    finally:
        await pubsub.aclose()
