"""Who may start a run now: the org's plan limit and the agent's concurrency limit (spec §5.1, §8.4).

An agent's `concurrency_limit` bounds its runs that are `pending` or `running`. A new run over the
limit is `queued` (or refused with 429 when the agent's `on_concurrency_limit` is "reject") and
starts when a slot frees: whoever frees one (a worker finishing or pausing a run, a cancel, the
sweeper as a safety net) calls `promote_queued`. Runs resumed after an approval or a delay were
admitted before and are not held back.

Both admissions and promotions take one advisory lock per agent, so two requests racing for the
last slot cannot both get it. Each is one statement after the lock, sent with it in one round trip:
`START_SQL` admits and inserts a new run (`start`), `PROMOTE_SQL` fills free slots; the worker sends
the latter along with the rest of its outcome (executions/tasks.py), the API and the sweeper run it
in their session (`promote_queued`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.agents.schemas import AgentSettings
from agentflow.executions.schemas import ExecutionStatus
from agentflow.kit.db import fetch_last, session_connection
from agentflow.kit.errors import NotFound, TooManyRequests
from agentflow.kit.ratelimit import RateLimiter
from agentflow.models.agents import Agent
from agentflow.models.orgs import Organization
from agentflow.settings import Settings

DEFAULT_PLAN = "starter"


async def check_plan_limit(session: AsyncSession, limiter: RateLimiter, settings: Settings, org_id: uuid.UUID) -> None:
    """Runs started per org within the plan's rolling window; 429 over it. Billing later adds
    monthly quotas here."""
    plan = await session.scalar(select(Organization.plan).where(Organization.id == org_id))
    await _hit_plan_limit(limiter, settings, org_id, plan)


async def _hit_plan_limit(limiter: RateLimiter, settings: Settings, org_id: uuid.UUID, plan: str | None) -> None:
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


START_SQL = """
WITH version AS (
    SELECT id FROM agent_versions
    WHERE org_id = %(org_id)s AND agent_id = %(agent_id)s AND version = %(version)s
), decision AS (
    SELECT version.id AS version_id,
           CASE WHEN (SELECT count(*) FROM executions
                      WHERE agent_id = %(agent_id)s AND status IN ('pending', 'running')) < %(concurrency_limit)s
                THEN 'pending' ELSE 'queued' END AS status
    FROM version
), started AS (
    INSERT INTO executions (id, org_id, agent_id, agent_version_id, triggered_by, trigger_data, status,
                            enqueued_at, idempotency_key, request_hash, metadata)
    SELECT %(id)s, %(org_id)s, %(agent_id)s, version_id, %(triggered_by)s, %(trigger_data)s::jsonb, status,
           CASE WHEN status = 'pending' THEN %(now)s::timestamptz END, %(idempotency_key)s, %(request_hash)s,
           %(metadata)s::jsonb
    FROM decision
    WHERE status = 'pending' OR %(queue_over_limit)s
    RETURNING status
)
SELECT (SELECT version_id FROM decision), (SELECT status FROM started),
       (SELECT plan FROM organizations WHERE id = %(org_id)s)"""
"""A new run, admitted and inserted (run it after `LOCK_AGENT_SQL`, in the same transaction):
returns the version's id (NULL: no such version, nothing inserted), the status the run starts in
(NULL: over the limit of an agent that rejects, nothing inserted) and the org's plan."""


@dataclass(frozen=True)
class NewRun:
    id: uuid.UUID
    status: ExecutionStatus


async def start(
    session: AsyncSession,
    limiter: RateLimiter,
    settings: Settings,
    agent: Agent,
    *,
    version: int,
    triggered_by: str,
    trigger_data: dict[str, Any],
    metadata: dict[str, Any],
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> NewRun:
    """Insert a run of `agent`'s `version`, pending (room now) or queued behind its concurrency
    limit, and count it against the org's plan: 404 without that version, 429 over a limit that
    refuses (the caller's transaction then rolls the row back).

    The lock and the insert go out together, in one round trip: each statement of this path used
    to be its own (plan, version, lock, count, insert; ~0.5 ms of API CPU each, bench/engine_bench.py).
    """
    agent_settings = AgentSettings.model_validate(agent.settings or {})
    run_id = uuid.uuid4()
    params = {
        "lock_key": _lock_key(agent.id),
        "org_id": agent.org_id,
        "agent_id": agent.id,
        "version": version,
        "concurrency_limit": agent_settings.concurrency_limit,
        "queue_over_limit": agent_settings.on_concurrency_limit == "queue",
        "id": run_id,
        "triggered_by": triggered_by,
        "trigger_data": orjson.dumps(trigger_data).decode(),
        "now": datetime.now(UTC),
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
        "metadata": orjson.dumps(metadata).decode(),
    }
    conn = await session_connection(session)
    async with conn.pipeline():
        await conn.execute(LOCK_AGENT_SQL, params)
        started = await conn.execute(START_SQL, params)
    row = await started.fetchone()
    assert row is not None, "START_SQL always returns one row"
    version_id, status, plan = row
    if version_id is None:
        raise NotFound(f"Version {version} not found", code="VERSION_NOT_FOUND")
    if status is None:
        raise TooManyRequests(
            f"This agent already has {agent_settings.concurrency_limit} runs in progress",
            code="CONCURRENCY_LIMIT",
            details={"concurrency_limit": agent_settings.concurrency_limit},
        )
    await _hit_plan_limit(limiter, settings, agent.org_id, plan)
    return NewRun(run_id, ExecutionStatus(status))


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
