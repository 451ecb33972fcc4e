"""/api/v1/agents/{id}/triggers (editors) and the public webhook ingress /api/v1/hooks/{token}."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse

from agentflow.auth.dependencies import requires
from agentflow.executions.schemas import ExecuteOut, ExecutionStatus
from agentflow.kit.deps import SessionDep, SettingsDep
from agentflow.kit.errors import AppError
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal
from agentflow.llm.router import VaultDep
from agentflow.models.executions import Execution
from agentflow.triggers import ingress, service
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
    delivery = ingress.Delivery(
        method=request.method,
        headers={k.lower(): v for k, v in request.headers.items()},
        query=request.url.query,
        body=await request.body(),
    )
    started = await ingress.start_run(request.app.state, token, delivery)
    accepted = JSONResponse(
        {"execution_id": str(started.execution_id), "status": started.status.value},
        status_code=status.HTTP_202_ACCEPTED,
    )
    if started.wait_seconds is None:
        return accepted
    finished = await ingress.wait_until_finished(request.app.state, started)
    if finished is None:
        return accepted  # still running: the caller can follow the execution id
    return _run_response(finished)


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
