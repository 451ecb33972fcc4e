"""Executions: start (with idempotency keys), read, cancel, approve (spec §4.2, §5.1).

The API only writes rows; runs happen on a worker (`agentflow.executions.tasks`). Whatever must
reach the worker is enqueued by the router *after* the request's transaction commits, so the
worker always finds the row.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.agents import service as agents
from agentflow.agents.schemas import AgentStatus
from agentflow.audit import service as audit
from agentflow.executions import admission
from agentflow.executions.repository import (
    ExecutionRepository,
    ExecutionRow,
    LogRepository,
    StepRepository,
    execution_by_id,
)
from agentflow.executions.schemas import (
    FINISHED,
    ApprovalIn,
    ExecuteIn,
    ExecutionOut,
    ExecutionStatus,
    LogOut,
    StepOut,
    TestRunIn,
)
from agentflow.kit.db import TenantReader
from agentflow.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from agentflow.kit.pagination import Page
from agentflow.kit.principal import Principal
from agentflow.kit.ratelimit import RateLimiter
from agentflow.models.agents import Agent
from agentflow.models.executions import Execution, ExecutionStep
from agentflow.models.orgs import Role, User
from agentflow.settings import Settings

IDEMPOTENCY_WINDOW = timedelta(hours=24)
ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2, Role.OWNER: 3}
WAITING_STEP_STATUSES = ("running", "waiting", "waiting_approval")


def execution_out(row: Execution | ExecutionRow) -> ExecutionOut:
    meta = row.metadata_ or {}
    return ExecutionOut(
        id=row.id,
        agent_id=row.agent_id,
        agent_version_id=row.agent_version_id,
        agent_version=meta.get("agent_version"),
        status=ExecutionStatus(row.status),
        triggered_by=row.triggered_by,
        is_test=row.is_test,
        trigger_data=row.trigger_data,
        started_at=row.started_at,
        completed_at=row.completed_at,
        error_message=row.error_message,
        total_tokens=row.total_tokens,
        total_cost=row.total_cost,
        output=meta.get("output"),
        approval=meta.get("approval") if row.status == ExecutionStatus.WAITING_APPROVAL else None,
        wake_at=row.wake_at if row.status in (ExecutionStatus.PARKED, ExecutionStatus.WAITING_APPROVAL) else None,
        created_at=row.created_at,
    )


def _request_hash(body: ExecuteIn) -> str:
    raw = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(raw).hexdigest()


async def execute(
    session: AsyncSession,
    principal: Principal,
    agent_id: uuid.UUID,
    body: ExecuteIn,
    *,
    idempotency_key: str | None,
    limiter: RateLimiter,
    settings: Settings,
) -> tuple[admission.NewRun, bool]:
    """Create an execution (pending, or queued behind the agent's concurrency limit); returns it
    and whether it is new (False: an idempotent replay, which counts against no limit)."""
    repo = ExecutionRepository(session, principal.org_id)
    request_hash = _request_hash(body)
    if idempotency_key is not None:
        # Serialize requests carrying the same key (the unique index would otherwise turn the
        # loser of a race into a 500).
        await session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(f"{principal.org_id}:{idempotency_key}", 0)))
        )
        existing = await repo.by_idempotency_key(idempotency_key)
        if existing is not None:
            if existing.created_at > datetime.now(UTC) - IDEMPOTENCY_WINDOW:
                if existing.request_hash != request_hash:
                    raise Unprocessable(
                        "This Idempotency-Key was used with a different request body",
                        code="IDEMPOTENCY_KEY_REUSED",
                    )
                return admission.NewRun(existing.id, ExecutionStatus(existing.status)), False
            existing.idempotency_key = None  # expired: the key is free again
            await session.flush()

    agent = await agents.load_runnable(session, principal, agent_id)
    execution = await start_published_run(
        session,
        agent,
        version_number=body.version,
        trigger_data=body.input,
        triggered_by="api" if principal.is_api_key else "manual",
        metadata={
            "triggered_by_user": str(principal.user_id) if principal.user_id else None,
            "triggered_by_api_key": str(principal.api_key_id) if principal.api_key_id else None,
        },
        limiter=limiter,
        settings=settings,
        idempotency_key=idempotency_key,
        request_hash=request_hash if idempotency_key is not None else None,
    )
    return execution, True


async def start_published_run(
    session: AsyncSession,
    agent: Agent,
    *,
    version_number: int | None = None,
    trigger_data: dict[str, Any],
    triggered_by: str,
    metadata: dict[str, Any],
    limiter: RateLimiter,
    settings: Settings,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> admission.NewRun:
    """Every way a published agent starts (API, manual, webhook, schedule): the agent must be
    active, the plan's limit allow it, and the run is pending or queued behind the agent's
    concurrency limit (429 if it rejects). The caller enqueues a pending run after commit."""
    if agent.status != AgentStatus.ACTIVE or agent.latest_version is None:
        raise Conflict("Only active, published agents can run", code="AGENT_NOT_RUNNABLE")
    number = version_number or agent.latest_version
    return await admission.start(
        session,
        limiter,
        settings,
        agent,
        version=number,
        triggered_by=triggered_by,
        trigger_data=trigger_data,
        metadata={"agent_version": number, **metadata},
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )


async def test_run(
    session: AsyncSession,
    principal: Principal,
    agent_id: uuid.UUID,
    body: TestRunIn,
    *,
    limiter: RateLimiter,
    settings: Settings,
) -> Execution:
    """A dry run of the agent's current draft (valid, not necessarily published): `is_test`, not
    billed, not held behind the concurrency limit. Pinned nodes return their pinned output
    instead of running."""
    agent = await agents.load_editable(session, principal, agent_id)
    definition = agents.require_valid(agent.draft_definition)
    handles = {node.id: {"out", "error"} for node in definition.nodes}
    for edge in definition.edges:
        handles[edge.source].add(edge.source_handle)
    for node_id, pinned in body.pinned_outputs.items():
        if node_id not in handles:
            raise Unprocessable(f"The draft has no node {node_id!r} to pin", code="UNKNOWN_PINNED_NODE")
        if pinned.handle is not None and pinned.handle not in handles[node_id]:
            raise Unprocessable(
                f"Node {node_id!r} has no output handle {pinned.handle!r}", code="UNKNOWN_PINNED_HANDLE"
            )
    await admission.check_plan_limit(session, limiter, settings, principal.org_id)
    execution = await ExecutionRepository(session, principal.org_id).add(
        Execution(
            agent_id=agent.id,
            agent_version_id=None,
            triggered_by="test",
            trigger_data=body.input,
            status=ExecutionStatus.PENDING.value,
            is_test=True,
            enqueued_at=datetime.now(UTC),
            metadata_={
                "agent_version": None,
                "draft_revision": agent.draft_revision,
                "test_definition": definition.model_dump(mode="json"),
                "pinned_outputs": {k: v.model_dump(mode="json") for k, v in body.pinned_outputs.items()},
                "triggered_by_user": str(principal.user_id) if principal.user_id else None,
                "triggered_by_api_key": str(principal.api_key_id) if principal.api_key_id else None,
            },
        )
    )
    return execution  # not refreshed either: callers read only its id and status


async def load(
    session: AsyncSession, principal: Principal, execution_id: uuid.UUID, *, for_update: bool = False
) -> Execution:
    row = await ExecutionRepository(session, principal.org_id).get(execution_id, for_update=for_update)
    if row is None:
        raise NotFound("Execution not found", code="EXECUTION_NOT_FOUND")
    return row


async def read(reader: TenantReader, execution_id: uuid.UUID) -> ExecutionOut:
    row = await execution_by_id(reader, execution_id)
    if row is None:
        raise NotFound("Execution not found", code="EXECUTION_NOT_FOUND")
    return execution_out(row)


async def list_executions(
    session: AsyncSession,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int,
    agent_id: uuid.UUID | None,
    status: ExecutionStatus | None,
    triggered_by: str | None,
    created_after: datetime | None,
    created_before: datetime | None,
) -> Page[ExecutionOut]:
    rows, next_cursor = await ExecutionRepository(session, principal.org_id).list(
        cursor=cursor,
        limit=limit,
        agent_id=agent_id,
        status=status.value if status else None,
        triggered_by=triggered_by,
        created_after=created_after,
        created_before=created_before,
    )
    return Page(items=[execution_out(r[0]) for r in rows], next_cursor=next_cursor)


def _require_user(principal: Principal) -> Role:
    if principal.is_api_key or principal.role is None or principal.user_id is None:
        raise Forbidden("Approvals are decided by signed-in users, not API keys", code="USER_REQUIRED")
    return principal.role


def _qualifying(role: Role) -> list[str]:
    """Approver role names a user of `role` satisfies (a named role or any stronger one)."""
    return [r.value for r, rank in ROLE_RANK.items() if rank <= ROLE_RANK[role]]


async def _approver_names(session: AsyncSession, principal: Principal) -> list[str]:
    """What an approval's `approvers` may name to include this user: their role (or a weaker
    one), their email address, their user id."""
    role = _require_user(principal)
    email = await session.scalar(select(User.email).where(User.id == principal.user_id))
    return [*_qualifying(role), str(principal.user_id), *([email.lower()] if email else [])]


async def may_approve(session: AsyncSession, principal: Principal, approval: dict[str, Any]) -> bool:
    approvers = approval.get("approvers") or []
    if not approvers:
        return True
    allowed = set(await _approver_names(session, principal))
    return any(str(a).strip().lower() in allowed or str(a) in allowed for a in approvers)


async def pending_approvals(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> Page[ExecutionOut]:
    names = await _approver_names(session, principal)
    rows, next_cursor = await ExecutionRepository(session, principal.org_id).list(
        cursor=cursor, limit=limit, approvers=names
    )
    return Page(items=[execution_out(r[0]) for r in rows], next_cursor=next_cursor)


async def list_steps(
    session: AsyncSession, principal: Principal, execution_id: uuid.UUID, *, cursor: str | None, limit: int
) -> Page[StepOut]:
    await load(session, principal, execution_id)
    rows, next_cursor = await StepRepository(session, principal.org_id).for_execution(
        execution_id, cursor=cursor, limit=limit
    )
    return Page(
        items=[
            StepOut(
                id=s.id,
                node_key=s.node_key,
                step_order=s.step_order,
                attempt=s.attempt,
                status=s.status,
                input=s.input_data,
                output=s.output_data,
                error_message=s.error_message,
                tokens_used=s.tokens_used,
                cost=s.cost,
                duration_ms=s.duration_ms,
                started_at=s.started_at,
                completed_at=s.completed_at,
            )
            for (s,) in rows
        ],
        next_cursor=next_cursor,
    )


async def list_logs(
    session: AsyncSession, principal: Principal, execution_id: uuid.UUID, *, cursor: str | None, limit: int
) -> Page[LogOut]:
    await load(session, principal, execution_id)
    rows, next_cursor = await LogRepository(session, principal.org_id).for_execution(
        execution_id, cursor=cursor, limit=limit
    )
    return Page(
        items=[
            LogOut(id=g.id, step_id=g.step_id, level=g.level, message=g.message, data=g.data, created_at=g.created_at)
            for (g,) in rows
        ],
        next_cursor=next_cursor,
    )


@dataclass
class Cancelled:
    execution: Execution
    idle: bool
    """No worker runs it: the caller emits `execution.cancelled` (a running one emits it itself
    at its next step boundary)."""
    promoted: list[uuid.UUID]
    """Queued runs of the same agent that took the freed slot; the caller enqueues them."""


async def cancel(session: AsyncSession, principal: Principal, execution_id: uuid.UUID) -> Cancelled:
    row = await load(session, principal, execution_id, for_update=True)
    if row.status in FINISHED:
        raise Conflict(f"The execution is already {row.status}", code="EXECUTION_FINISHED")
    idle = row.status != ExecutionStatus.RUNNING
    now = datetime.now(UTC)
    row.status = ExecutionStatus.CANCELLED.value
    row.completed_at = now
    row.error_message = "Cancelled"
    row.wake_at = None
    if idle:
        await session.execute(
            update(ExecutionStep)
            .where(
                ExecutionStep.org_id == principal.org_id,
                ExecutionStep.execution_id == row.id,
                ExecutionStep.status.in_(WAITING_STEP_STATUSES),
            )
            .values(status="cancelled", completed_at=now)
        )
    await session.flush()
    promoted = await admission.promote_queued(session, row.agent_id)
    await session.refresh(row)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="execution.cancelled",
        resource_type="execution",
        resource_id=row.id,
        details={},
    )
    return Cancelled(execution=row, idle=idle, promoted=promoted)


async def decide(session: AsyncSession, principal: Principal, execution_id: uuid.UUID, body: ApprovalIn) -> Execution:
    """Record an approval decision and queue the resume. The row lock makes concurrent decisions
    take turns: the second one finds the execution no longer waiting (409)."""
    row = await load(session, principal, execution_id, for_update=True)
    _require_user(principal)
    if row.status != ExecutionStatus.WAITING_APPROVAL:
        raise Conflict("This execution is not waiting for an approval", code="NOT_WAITING_APPROVAL")
    approval: dict[str, Any] = dict((row.metadata_ or {}).get("approval") or {})
    if not await may_approve(session, principal, approval):
        raise Forbidden("You are not one of this approval's approvers", code="NOT_AN_APPROVER")
    resume = {
        "decision": body.decision,
        "comment": body.comment,
        "by": str(principal.user_id),
        "node_id": approval.get("node_id"),
    }
    row.status = ExecutionStatus.PENDING.value
    row.wake_at = None
    row.enqueued_at = datetime.now(UTC)
    row.metadata_ = {
        **(row.metadata_ or {}),
        "resume": resume,
        "decisions": [*(row.metadata_ or {}).get("decisions", []), {**resume, "at": datetime.now(UTC).isoformat()}],
    }
    await session.flush()
    await session.refresh(row)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action=f"execution.{'approved' if body.decision == 'approve' else 'rejected'}",
        resource_type="execution",
        resource_id=row.id,
        details={"node_id": approval.get("node_id")},
    )
    return row
