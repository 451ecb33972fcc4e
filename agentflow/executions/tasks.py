"""Celery tasks `executions.run` and `executions.resume` (ids only, idempotent).

A task claims the execution (pending/parked → running) in a short transaction, runs the engine
with the Postgres checkpointer (`thread_id` = execution id), then records the outcome. A task
redelivered for a finished execution, or for one waiting for an approval nobody gave yet, does
nothing. A redelivered task for a `running` execution (its worker died) continues from the last
checkpoint: completed nodes are not run again.

Each worker process keeps one event loop with one database engine, one Redis client and one
checkpointer connection pool for its whole life.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from sqlalchemy import func, select

from agentflow.agents.schemas import AgentSettings
from agentflow.engine.providers import ProviderCredentials, ProviderRouter, build_providers, default_catalog
from agentflow.engine.runtime import EngineServices, RunContext, RunOutcome, RunSettings, run_execution
from agentflow.engine.spec import AgentDefinition
from agentflow.executions.events import RedisEventSink
from agentflow.executions.jsonsafe import to_json
from agentflow.executions.queue import enqueue
from agentflow.executions.schemas import FINISHED, ExecutionStatus
from agentflow.executions.store import DbExecutionStore
from agentflow.kit.db import Database, libpq_url
from agentflow.kit.vault import Vault, vault_from_settings
from agentflow.llm.credentials import OrgCredentialSource
from agentflow.models.agents import Agent, AgentVersion
from agentflow.models.billing import UsageRecord
from agentflow.models.executions import Execution, ExecutionStep
from agentflow.settings import Settings, get_settings
from agentflow.worker import celery_app

log = logging.getLogger("agentflow.executions")


@dataclass
class WorkerResources:
    settings: Settings
    db: Database
    redis: Redis
    checkpointer: AsyncPostgresSaver
    pool: AsyncConnectionPool[Any]
    vault: Vault


_loop: asyncio.AbstractEventLoop | None = None
_resources: WorkerResources | None = None


def _event_loop() -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop


async def _get_resources() -> WorkerResources:
    global _resources
    if _resources is None:
        settings = get_settings()
        url = settings.database_url or ""
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            libpq_url(url),
            min_size=1,
            max_size=4,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
            open=False,
        )
        await pool.open()
        # The tables exist already (`prepare_database` ran `setup()` as the owner); the app role
        # cannot create them.
        checkpointer = AsyncPostgresSaver(pool)
        _resources = WorkerResources(
            settings=settings,
            db=Database(url, pool_size=4, max_overflow=4),
            redis=Redis.from_url(settings.redis_url or "", decode_responses=True),
            checkpointer=checkpointer,
            pool=pool,
            vault=vault_from_settings(settings),
        )
    return _resources


class _TransactionalCredentials:
    """The org's provider keys, each lookup in its own short transaction under the org's context."""

    def __init__(self, resources: WorkerResources, org_id: uuid.UUID) -> None:
        self.resources = resources
        self.org_id = org_id

    async def for_provider(self, provider: str) -> ProviderCredentials | None:
        async with self.resources.db.transaction(org_id=self.org_id) as session:
            source = OrgCredentialSource(session, self.org_id, self.resources.vault, self.resources.settings)
            return await source.for_provider(provider)


_catalog = None
_providers: dict[str, Any] | None = None


def _router(resources: WorkerResources, org_id: uuid.UUID) -> ProviderRouter:
    global _catalog, _providers
    if _catalog is None or _providers is None:
        _catalog = default_catalog()
        _providers = build_providers(_catalog)
    return ProviderRouter(_providers, _catalog, _TransactionalCredentials(resources, org_id))


def run_settings(raw: dict[str, Any]) -> RunSettings:
    agent_settings = AgentSettings.model_validate(raw or {})
    return RunSettings(max_retries=agent_settings.max_retries, timeout_seconds=float(agent_settings.timeout_seconds))


@dataclass
class _Claim:
    definition: AgentDefinition
    ctx: RunContext
    version_id: uuid.UUID
    resume: dict[str, Any] | None
    previous_tokens: int
    previous_cost: Decimal


async def _claim(resources: WorkerResources, execution_id: uuid.UUID, org_id: uuid.UUID) -> _Claim | None:
    async with resources.db.transaction(org_id=org_id) as session:
        execution = (
            await session.execute(
                select(Execution).where(Execution.id == execution_id, Execution.org_id == org_id).with_for_update()
            )
        ).scalar_one_or_none()
        if execution is None or execution.status in FINISHED:
            return None
        if execution.status == ExecutionStatus.WAITING_APPROVAL:
            return None  # nobody decided yet: a redelivered task has nothing to do
        version = await session.get(AgentVersion, execution.agent_version_id)
        agent = await session.get(Agent, execution.agent_id)
        if version is None or agent is None:
            execution.status = ExecutionStatus.FAILED.value
            execution.error_message = "The agent version no longer exists"
            execution.completed_at = datetime.now(UTC)
            return None
        meta = dict(execution.metadata_ or {})
        resume = meta.get("resume")
        now = datetime.now(UTC)
        first_start = execution.started_at is None
        if first_start:
            execution.started_at = now
        execution.status = ExecutionStatus.RUNNING.value
        if first_start:
            session.add(UsageRecord(org_id=org_id, execution_id=execution.id, record_type="execution", quantity=1))
        return _Claim(
            definition=AgentDefinition.model_validate(version.definition),
            ctx=RunContext(
                execution_id=execution.id,
                org_id=org_id,
                agent_id=execution.agent_id,
                agent_version=version.version,
                trigger=dict(execution.trigger_data or {}),
                started_at=execution.started_at or now,
                settings=run_settings(agent.settings),
                cache_key=str(version.id),
            ),
            version_id=version.id,
            resume=resume if isinstance(resume, dict) else None,
            previous_tokens=execution.total_tokens,
            previous_cost=execution.total_cost,
        )


async def _record(
    resources: WorkerResources, claim: _Claim, outcome: RunOutcome, execution_id: uuid.UUID, org_id: uuid.UUID
) -> None:
    async with resources.db.transaction(org_id=org_id) as session:
        execution = (
            await session.execute(
                select(Execution).where(Execution.id == execution_id, Execution.org_id == org_id).with_for_update()
            )
        ).scalar_one()
        tokens, cost = (
            await session.execute(
                select(
                    func.coalesce(func.sum(ExecutionStep.tokens_used), 0),
                    func.coalesce(func.sum(ExecutionStep.cost), 0),
                ).where(ExecutionStep.execution_id == execution_id)
            )
        ).one()
        execution.total_tokens, execution.total_cost = int(tokens), Decimal(cost)
        delta_tokens = int(tokens) - claim.previous_tokens
        if delta_tokens > 0:
            delta_cost = Decimal(cost) - claim.previous_cost
            session.add(
                UsageRecord(
                    org_id=org_id,
                    execution_id=execution_id,
                    record_type="llm_tokens",
                    quantity=delta_tokens,
                    unit_cost=(delta_cost / delta_tokens).quantize(Decimal("0.00000001")),
                )
            )
        meta = {k: v for k, v in (execution.metadata_ or {}).items() if k != "resume"}
        if execution.status != ExecutionStatus.RUNNING:
            # Cancelled by a user while this run went on: the user's decision stands.
            execution.metadata_ = meta
            return
        now = datetime.now(UTC)
        if outcome.status in ("completed", "failed", "cancelled"):
            execution.completed_at = now
        if outcome.status == "completed":
            meta["output"] = to_json(outcome.output)
            if outcome.response is not None:
                meta["response"] = to_json(outcome.response)
        if outcome.error is not None:
            execution.error_message = str(outcome.error.get("message") or outcome.error)[:10_000]
        if outcome.status == "waiting_approval":
            meta["approval"] = to_json(outcome.interrupt or {})
        execution.status = outcome.status
        execution.metadata_ = meta


async def _run(execution_id: uuid.UUID, org_id: uuid.UUID) -> str:
    resources = await _get_resources()
    claim = await _claim(resources, execution_id, org_id)
    if claim is None:
        return "noop"
    store = DbExecutionStore(resources.db, execution_id=execution_id, org_id=org_id, agent_version_id=claim.version_id)
    events = RedisEventSink(resources.redis, resources.db, execution_id=execution_id, org_id=org_id)
    services = EngineServices(
        router=lambda ctx: _router(resources, ctx.org_id),
        egress_allowed_hosts=tuple(resources.settings.egress_allowed_hosts),
    )
    try:
        outcome = await run_execution(
            claim.definition,
            claim.ctx,
            store=store,
            events=events,
            services=services,
            checkpointer=resources.checkpointer,
            resume=claim.resume,
        )
    except Exception as exc:
        log.exception("execution crashed", extra={"execution_id": str(execution_id)})
        outcome = RunOutcome(status="failed", error={"message": f"internal error: {type(exc).__name__}"})
    await _record(resources, claim, outcome, execution_id, org_id)
    if outcome.status == "parked" and outcome.resume_at is not None:
        enqueue(celery_app, execution_id, org_id, eta=outcome.resume_at)
    return outcome.status


def _run_sync(execution_id: str, org_id: str) -> str:
    return _event_loop().run_until_complete(_run(uuid.UUID(execution_id), uuid.UUID(org_id)))


run = celery_app.task(name="executions.run")(_run_sync)
resume = celery_app.task(name="executions.resume")(_run_sync)
