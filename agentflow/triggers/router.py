"""/api/v1/agents/{id}/triggers (editors) and the public webhook ingress /api/v1/hooks/{token}."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from sqlalchemy import select, text

from agentflow.auth.dependencies import requires
from agentflow.engine.nodes.trigger_webhook import WebhookTriggerConfig
from agentflow.executions import service as executions
from agentflow.executions.events import channel
from agentflow.executions.jsonsafe import to_json
from agentflow.executions.queue import enqueue
from agentflow.executions.schemas import FINISHED, ExecuteOut, ExecutionStatus
from agentflow.kit.db import Database
from agentflow.kit.deps import SessionDep, SettingsDep
from agentflow.kit.errors import AppError
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal
from agentflow.llm.router import VaultDep
from agentflow.models.agents import Agent
from agentflow.models.executions import Execution
from agentflow.models.triggers import AgentTrigger
from agentflow.triggers import service, webhooks
from agentflow.triggers.schemas import TriggersOut

router = APIRouter(tags=["triggers"])

# The webhook URL and signing secret are credentials to start the agent: editors only.
Editor = Annotated[Principal, requires(Permission.AGENTS_WRITE)]
WebhookToken = Annotated[str, Path(min_length=10, max_length=100, pattern=r"^wh_[A-Za-z0-9_-]+$")]


@router.get("/agents/{agent_id}/triggers")
async def get_triggers(
    agent_id: uuid.UUID, principal: Editor, session: SessionDep, vault: VaultDep, settings: SettingsDep
) -> TriggersOut:
    """How the published version starts: its webhook URL and signing secret, or its schedule
    with the next five fire times."""
    return await service.triggers_of(session, principal, vault, settings, agent_id)


@router.post("/agents/{agent_id}/triggers/webhook/rotate")
async def rotate_webhook(
    agent_id: uuid.UUID, principal: Editor, session: SessionDep, vault: VaultDep, settings: SettingsDep
) -> TriggersOut:
    """New URL token and signing secret; the old ones stop working at once."""
    return await service.rotate_webhook(session, principal, vault, settings, agent_id)


@router.post("/hooks/{token}", status_code=status.HTTP_202_ACCEPTED, response_model=ExecuteOut)
async def receive_webhook(token: WebhookToken, request: Request) -> Response:
    """Start the agent this URL belongs to with the request as trigger data (see
    `agentflow.triggers.webhooks` for signatures). 202 with the execution id, or in `when_done`
    mode the run's response once it finishes (202 if it takes longer than the trigger allows)."""
    state = request.app.state
    db: Database = state.db
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    async with db.transaction() as session:
        # Only the row whose token hash is in the transaction context is visible (RLS).
        await session.execute(
            text("SELECT set_config('app.webhook_token_hash', :hash, true)"), {"hash": service.token_hash(token)}
        )
        row = (
            await session.execute(
                select(AgentTrigger).where(
                    AgentTrigger.token_hash == service.token_hash(token), AgentTrigger.kind == "webhook"
                )
            )
        ).scalar_one_or_none()
    if row is None:
        raise webhooks.WebhookNotFound("No webhook at this URL")
    org_id = row.org_id
    async with db.transaction(org_id=org_id) as session:
        agent = await session.get(Agent, row.agent_id)
        if agent is None or agent.trigger_type != "webhook":
            raise webhooks.WebhookNotFound("No webhook at this URL")
        config = WebhookTriggerConfig.model_validate(agent.trigger_config or {})
        signing_secret = str(service.open_secrets(state.vault, row)["signing_secret"])
        if config.require_signature:
            replay_key = webhooks.verify(headers, body, signing_secret)
        await state.rate_limiter.hit(state.settings.rate_limit_webhook, "webhook", str(agent.id))
        if config.require_signature:
            await webhooks.refuse_replays(state.redis, str(row.id), replay_key)
        data = webhooks.trigger_data(request.method, headers, request.url.query, headers.get("content-type", ""), body)
        execution = await executions.start_published_run(
            session,
            org_id,
            agent,
            trigger_data=to_json(data),
            triggered_by="webhook",
            metadata={},
            limiter=state.rate_limiter,
            settings=state.settings,
        )
        execution_id, initial = execution.id, ExecutionStatus(execution.status)
    if initial == ExecutionStatus.PENDING:
        enqueue(state.celery, execution_id, org_id)
    accepted = JSONResponse(
        {"execution_id": str(execution_id), "status": initial.value}, status_code=status.HTTP_202_ACCEPTED
    )
    if config.respond_mode != "when_done":
        return accepted
    finished = await _wait_until_finished(state.redis, db, org_id, execution_id, float(config.response_timeout_seconds))
    if finished is None:
        return accepted  # still running: the caller can follow the execution id
    return _run_response(finished)


async def _wait_until_finished(
    redis: Redis, db: Database, org_id: uuid.UUID, execution_id: uuid.UUID, wait_seconds: float
) -> Execution | None:
    """The finished execution, or None if it is still going after `wait_seconds` (or it
    waits for an approval or a delay). Subscribes before looking, so no ending is missed."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel(execution_id))
    try:
        async with asyncio.timeout(wait_seconds):
            while True:
                async with db.transaction(org_id=org_id) as session:
                    row = await session.get(Execution, execution_id)
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
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


class RunDidNotComplete(AppError):
    """In `when_done` mode, the caller is told the agent behind the URL failed (a gateway error:
    the request was fine, what it started was not)."""

    status_code = status.HTTP_502_BAD_GATEWAY


def _run_response(execution: Execution) -> Response:
    meta: dict[str, Any] = execution.metadata_ or {}
    if execution.status != ExecutionStatus.COMPLETED:
        raise RunDidNotComplete(
            f"The run {execution.status}: {execution.error_message or 'no reason given'}",
            code="EXECUTION_FAILED" if execution.status == ExecutionStatus.FAILED else "EXECUTION_CANCELLED",
            details={"execution_id": str(execution.id)},
        )
    response = meta.get("response")
    headers = {"X-AgentFlow-Execution-Id": str(execution.id)}
    if isinstance(response, dict):
        body = response.get("body")
        content_type = str(response.get("content_type") or "application/json")
        status_code = int(response.get("status_code") or 200)
        content = body.encode() if isinstance(body, str) else orjson.dumps(body)
        return Response(content, status_code=status_code, media_type=content_type, headers=headers)
    return JSONResponse(
        {"execution_id": str(execution.id), "status": execution.status, "output": meta.get("output")},
        headers=headers,
    )
