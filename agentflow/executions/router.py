"""/api/v1/agents/{id}/execute and /api/v1/executions (spec §4.2 "Execution Endpoints")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request, Response, WebSocket, status

from agentflow.auth.dependencies import TenantReads, reads, requires
from agentflow.executions import service, stream
from agentflow.executions.events import RedisEventSink
from agentflow.executions.queue import enqueue
from agentflow.executions.schemas import (
    ApprovalIn,
    EventOut,
    ExecuteIn,
    ExecuteOut,
    ExecutionOut,
    ExecutionStatus,
    LogOut,
    StepOut,
    StreamTicketOut,
    TestRunIn,
)
from agentflow.executions.stream_auth import StreamReader, issue_ticket
from agentflow.kit.deps import RateLimiterDep, SessionDep, SettingsDep
from agentflow.kit.pagination import Page
from agentflow.kit.params import DEFAULT_PAGE_SIZE, Cursor, Limit
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal

router = APIRouter(tags=["executions"])

Reader = Annotated[Principal, requires(Permission.EXECUTIONS_READ)]
Executor = Annotated[Principal, requires(Permission.AGENTS_EXECUTE)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="The same key within 24 h returns the same execution",
    ),
]


def _enqueue_later(
    request: Request, tasks: BackgroundTasks, execution_id: uuid.UUID, org_id: uuid.UUID, *, resume: bool
) -> None:
    # Background tasks run after the response, i.e. after the request's transaction committed:
    # the worker always finds the row.
    tasks.add_task(enqueue, request.app.state.celery, execution_id, org_id, resume=resume)


@router.post("/agents/{agent_id}/execute", status_code=status.HTTP_202_ACCEPTED)
async def execute_agent(
    agent_id: uuid.UUID,
    body: ExecuteIn,
    principal: Executor,
    session: SessionDep,
    request: Request,
    tasks: BackgroundTasks,
    limiter: RateLimiterDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> ExecuteOut:
    """Start a run of the agent's latest published version (or `version`): 202 with the execution
    id (status `pending`, or `queued` behind the agent's concurrency limit); poll
    GET /executions/{id} or follow its events."""
    execution, created = await service.execute(
        session, principal, agent_id, body, idempotency_key=idempotency_key, limiter=limiter, settings=settings
    )
    if created and execution.status == ExecutionStatus.PENDING:
        _enqueue_later(request, tasks, execution.id, principal.org_id, resume=False)
    return ExecuteOut(execution_id=execution.id, status=ExecutionStatus(execution.status))


@router.post("/agents/{agent_id}/test", status_code=status.HTTP_202_ACCEPTED)
async def test_agent(
    agent_id: uuid.UUID,
    body: TestRunIn,
    principal: Executor,
    session: SessionDep,
    request: Request,
    tasks: BackgroundTasks,
    limiter: RateLimiterDep,
    settings: SettingsDep,
) -> ExecuteOut:
    """Dry-run the current draft with this trigger data (202 with the execution id; watch it like
    any run). Marked `is_test` and not billed; `pinned_outputs` skip nodes' real side effects."""
    execution = await service.test_run(session, principal, agent_id, body, limiter=limiter, settings=settings)
    _enqueue_later(request, tasks, execution.id, principal.org_id, resume=False)
    return ExecuteOut(execution_id=execution.id, status=ExecutionStatus(execution.status))


@router.get("/executions")
async def list_executions(
    principal: Reader,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    agent_id: uuid.UUID | None = None,
    status_filter: Annotated[ExecutionStatus | None, Query(alias="status")] = None,
    triggered_by: Annotated[str | None, Query(max_length=50, pattern=r"^[a-z_]+$")] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> Page[ExecutionOut]:
    return await service.list_executions(
        session,
        principal,
        cursor=cursor,
        limit=limit,
        agent_id=agent_id,
        status=status_filter,
        triggered_by=triggered_by,
        created_after=created_after,
        created_before=created_before,
    )


@router.get("/executions/pending-approvals")
async def pending_approvals(
    principal: Reader, session: SessionDep, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE_SIZE
) -> Page[ExecutionOut]:
    """Executions waiting for an approval the signed-in user may give."""
    return await service.pending_approvals(session, principal, cursor=cursor, limit=limit)


@router.get("/executions/{execution_id}")
async def get_execution(
    execution_id: uuid.UUID, reader: Annotated[TenantReads, reads(Permission.EXECUTIONS_READ)]
) -> ExecutionOut:
    return await service.read(reader, execution_id)


@router.get("/executions/{execution_id}/steps")
async def list_steps(
    execution_id: uuid.UUID,
    principal: Reader,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> Page[StepOut]:
    return await service.list_steps(session, principal, execution_id, cursor=cursor, limit=limit)


@router.get("/executions/{execution_id}/logs")
async def list_logs(
    execution_id: uuid.UUID,
    principal: Reader,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> Page[LogOut]:
    return await service.list_logs(session, principal, execution_id, cursor=cursor, limit=limit)


LastSeq = Annotated[int | None, Query(ge=0, le=stream.MAX_SEQ, description="Only events after this seq (resume)")]
LastEventId = Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=stream.MAX_SEQ)]


@router.get(
    "/executions/{execution_id}/events",
    response_model=Page[EventOut],
    responses={200: {"content": {"text/event-stream": {}}}, 204: {"description": "SSE: nothing after Last-Event-ID"}},
)
async def list_events(
    execution_id: uuid.UUID,
    principal: StreamReader,
    session: SessionDep,
    request: Request,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    last_seq: LastSeq = None,
    last_event_id: LastEventId = None,
) -> Page[EventOut] | Response:
    """The execution's events after `last_seq`. With `Accept: text/event-stream` (EventSource), a
    live Server-Sent Events stream: a snapshot, then each event (`id:` its seq, `event:` its
    type), heartbeat comments while idle, ending after the terminal event; it resumes after
    `Last-Event-ID`. Otherwise the stored events as a JSON page. Browsers pass `?ticket=`."""
    after = last_event_id if last_event_id is not None else last_seq
    if not stream.wants_event_stream(request.headers.get("accept")):
        return await stream.list_events(session, principal, execution_id, after=after, cursor=cursor, limit=limit)
    if after is not None and await stream.nothing_after(session, principal, execution_id, after):
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    await service.load(session, principal, execution_id)  # 404 now, before the stream starts
    return stream.sse_response(request.app.state, principal, execution_id, after=after)


@router.post("/executions/{execution_id}/stream-ticket", status_code=status.HTTP_201_CREATED)
async def create_stream_ticket(
    execution_id: uuid.UUID, principal: Reader, session: SessionDep, request: Request, response: Response
) -> StreamTicketOut:
    """A ticket for opening this execution's live stream from a browser, which can send no
    Authorization header on a WebSocket or EventSource: pass it as `?ticket=`. Single use,
    valid for 60 s and for this execution only."""
    await service.load(session, principal, execution_id)
    ticket, ttl = await issue_ticket(request, principal, execution_id)
    response.headers["Cache-Control"] = "no-store"
    return StreamTicketOut(ticket=ticket, expires_in=ttl)


@router.websocket("/executions/{execution_id}/stream")
async def stream_execution(websocket: WebSocket, execution_id: str) -> None:
    """Live execution stream (spec §4.2, §6); protocol and auth in agentflow/executions/stream.py.
    The id is parsed there, so a bad one gets a close code rather than a bare handshake refusal."""
    await stream.serve_websocket(websocket, execution_id)


@router.post("/executions/{execution_id}/cancel")
async def cancel_execution(
    execution_id: uuid.UUID, principal: Executor, session: SessionDep, request: Request, tasks: BackgroundTasks
) -> ExecutionOut:
    """A running execution stops at its next step boundary; a waiting or queued one at once."""
    cancelled = await service.cancel(session, principal, execution_id)
    execution = cancelled.execution
    if cancelled.idle:
        sink = RedisEventSink(
            request.app.state.redis, request.app.state.db, execution_id=execution.id, org_id=principal.org_id
        )
        tasks.add_task(sink.emit, "execution.cancelled", {"execution_id": str(execution.id), "by": "user"})
    for promoted in cancelled.promoted:
        _enqueue_later(request, tasks, promoted, principal.org_id, resume=False)
    return service.execution_out(execution)


@router.post("/executions/{execution_id}/approve")
async def approve_execution(
    execution_id: uuid.UUID,
    body: ApprovalIn,
    principal: Executor,
    session: SessionDep,
    request: Request,
    tasks: BackgroundTasks,
) -> ExecutionOut:
    """Approve or reject the pending approval (signed-in users only); the run resumes on a worker
    down the `approved` or `rejected` handle. A second, concurrent decision gets 409."""
    execution = await service.decide(session, principal, execution_id, body)
    _enqueue_later(request, tasks, execution.id, principal.org_id, resume=True)
    return service.execution_out(execution)
