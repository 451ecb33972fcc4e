"""Who may start a run now: the org's plan limit and the agent's concurrency limit (spec §5.1, §8.4).

An agent's `concurrency_limit` bounds its runs that are `pending` or `running`. A new run over the
limit is `queued` (or refused with 429 when the agent's `on_concurrency_limit` is "reject") and
starts when a slot frees: whoever frees one (a worker finishing or pausing a run, a cancel, the
sweeper as a safety net) calls `promote_queued`. Runs resumed after an approval or a delay were
admitted before and are not held back.

Both checks and promotions take one advisory lock per agent, so two requests racing for the last
slot cannot both get it. A promotion is one statement after the lock (`PROMOTE_SQL`): the worker
sends both along with the rest of its outcome (executions/tasks.py), the API and the sweeper run
them in their session (`promote_queued`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.agents.schemas import AgentSettings
from agentflow.executions.schemas import ExecutionStatus
from agentflow.kit.db import fetch_last, session_connection
from agentflow.kit.errors import TooManyRequests
from agentflow.kit.ratelimit import RateLimiter
from agentflow.models.agents import Agent
from agentflow.models.executions import Execution
from agentflow.models.orgs import Organization
from agentflow.settings import Settings

ACTIVE_STATUSES = (ExecutionStatus.PENDING.value, ExecutionStatus.RUNNING.value)
DEFAULT_PLAN = "starter"


async def check_plan_limit(session: AsyncSession, limiter: RateLimiter, settings: Settings, org_id: uuid.UUID) -> None:
    """Runs started per org within the plan's rolling window; 429 over it. Billing later adds
    monthly quotas here."""
    plan = await session.scalar(select(Organization.plan).where(Organization.id == org_id))
    rules = settings.rate_limit_executions
    rule = rules.get(plan or DEFAULT_PLAN) or rules.get(DEFAULT_PLAN)
    if rule is None:  # a misconfigured table fails closed rather than unlimited
        raise TooManyRequests("Runs are not enabled for this plan", code="PLAN_LIMIT")
    await limiter.hit(rule, "executions", str(org_id))


LOCK_AGENT_SQL = "SELECT pg_advisory_xact_lock(hashtextextended(%(lock_key)s, 0))"
PROMOTE_SQL = """
WITH picked AS (
    SELECT id FROM executions
    WHERE agent_id = %(agent_id)s AND status = 'queued'
    ORDER BY created_at, id
    LIMIT greatest(0, %(concurrency_limit)s - (
        SELECT count(*) FROM executions WHERE agent_id = %(agent_id)s AND status IN ('pending', 'running')))
    FOR UPDATE SKIP LOCKED
)
UPDATE executions SET status = 'pending', enqueued_at = %(now)s
FROM picked WHERE executions.id = picked.id
RETURNING executions.id"""
"""Move the agent's oldest queued runs into its free slots (run it after `LOCK_AGENT_SQL`, in the
same transaction; the caller enqueues the ids it returns once the transaction committed)."""


def _lock_key(agent_id: uuid.UUID) -> str:
    return f"agent-runs:{agent_id}"


def promote_params(agent_id: uuid.UUID, agent_settings: dict[str, Any]) -> dict[str, Any]:
    """The values of `LOCK_AGENT_SQL` and `PROMOTE_SQL` for an agent with these settings."""
    return {
        "lock_key": _lock_key(agent_id),
        "agent_id": agent_id,
        "concurrency_limit": AgentSettings.model_validate(agent_settings).concurrency_limit,
        "now": datetime.now(UTC),
    }


async def _lock_agent(session: AsyncSession, agent_id: uuid.UUID) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(_lock_key(agent_id), 0))))


async def _active_runs(session: AsyncSession, agent_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).where(Execution.agent_id == agent_id, Execution.status.in_(ACTIVE_STATUSES))
    )
    return int(count or 0)


async def admit(session: AsyncSession, agent: Agent) -> ExecutionStatus:
    """The status a new run of `agent` starts in: pending (room now) or queued; 429 if it rejects."""
    await _lock_agent(session, agent.id)
    settings = AgentSettings.model_validate(agent.settings or {})
    if await _active_runs(session, agent.id) < settings.concurrency_limit:
        return ExecutionStatus.PENDING
    if settings.on_concurrency_limit == "reject":
        raise TooManyRequests(
            f"This agent already has {settings.concurrency_limit} runs in progress",
            code="CONCURRENCY_LIMIT",
            details={"concurrency_limit": settings.concurrency_limit},
        )
    return ExecutionStatus.QUEUED


async def promote_queued(session: AsyncSession, agent_id: uuid.UUID) -> list[uuid.UUID]:
    """Move the agent's oldest queued runs into the free slots; returns their ids, which the
    caller enqueues after its transaction commits."""
    raw_settings = await session.scalar(select(Agent.settings).where(Agent.id == agent_id))
    if raw_settings is None:
        return []
    rows = await fetch_last(
        await session_connection(session), f"{LOCK_AGENT_SQL};\n{PROMOTE_SQL}", promote_params(agent_id, raw_settings)
    )
    return [row[0] for row in rows]
