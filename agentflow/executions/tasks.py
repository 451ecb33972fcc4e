"""Celery tasks `executions.run` / `executions.resume` (ids only, idempotent) and the sweeper.

A task claims the execution in a short transaction: `pending` → `running`, with a lease (the
task's owner id and a heartbeat the task refreshes while it runs). It runs the engine with the
Postgres checkpointer (`thread_id` = execution id), then records the outcome and gives the lease
back. Anything else does nothing: a duplicate of a task whose execution another worker holds with
a fresh heartbeat, a redelivery for a finished run, a run still waiting for its approval or delay.

When a worker dies (kill -9, OOM, lost machine) its heartbeat stops; the sweeper sets the run back
to `pending` and sends a new task, which continues from the last checkpoint: completed nodes are
not run again, and the step rows the dead worker left `running` are marked `interrupted`.

An infrastructure error (database, Valkey, checkpointer) is not the workflow's failure: the task
keeps its lease and retries with backoff; only the last retry marks the run failed.

Each worker process keeps one event loop with one database engine, one Redis client and one
psycopg connection pool for its whole life. The pool serves everything a run does per node or per
run (checkpoints, step rows and events, claim and record) with hand-written statements and no
SQLAlchemy in between: those are the worker's hot path (bench/engine_bench.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from sqlalchemy import update

from agentflow.agents.schemas import AgentSettings
from agentflow.engine.providers import ProviderCredentials, ProviderRouter, build_providers, default_catalog
from agentflow.engine.runtime import EngineServices, Event, RunContext, RunOutcome, RunSettings, run_execution
from agentflow.engine.spec import AgentDefinition
from agentflow.executions import admission, statements
from agentflow.executions.checkpointer import JournaledPostgresSaver
from agentflow.executions.events import RedisEventSink, Stored
from agentflow.executions.jsonsafe import to_json
from agentflow.executions.notifications import notify_approvers
from agentflow.executions.queue import enqueue
from agentflow.executions.schemas import ExecutionStatus
from agentflow.executions.store import DbExecutionStore
from agentflow.executions.sweeper import sweep
from agentflow.integrations.service import OrgIntegrationCredentials
from agentflow.kit.db import Database, libpq_url
from agentflow.kit.ratelimit import RateLimiter
from agentflow.kit.vault import Vault, vault_from_settings
from agentflow.llm.credentials import OrgCredentialSource
from agentflow.models.executions import Execution
from agentflow.settings import Settings, get_settings
from agentflow.triggers.schedules import fire_due
from agentflow.worker import SCHEDULES_TASK, SWEEP_TASK, celery_app

MAX_INFRA_RETRIES = 8
"""Retries of a task that hit an infrastructure error (backoff 1 s, 2 s, … up to 60 s)."""
INTERRUPTED_STEP_MESSAGE = "Interrupted: the worker running this step stopped, so the step ran again"

log = logging.getLogger("agentflow.executions")


@dataclass
class WorkerResources:
    settings: Settings
    db: Database
    redis: Redis
    checkpointer: JournaledPostgresSaver
    pool: AsyncConnectionPool[Any]
    vault: Vault
    limiter: RateLimiter


_loop: asyncio.AbstractEventLoop | None = None
_resources: WorkerResources | None = None


def _event_loop() -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop


async def open_resources(settings: Settings) -> WorkerResources:
    """What a worker process keeps for its whole life (see the module doc)."""
    url = settings.database_url or ""
    # The hot path's connections (psycopg, no SQLAlchemy): checkpoints with the step rows and
    # events they carry, claim and record, the cancel watcher. Statements are prepared on first
    # use: each is run over and over.
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        libpq_url(url),
        min_size=1,
        max_size=4,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        open=False,
    )
    await pool.open()
    redis = Redis.from_url(settings.redis_url or "", decode_responses=True)
    return WorkerResources(
        settings=settings,
        db=Database(url, pool_size=4, max_overflow=4),
        redis=redis,
        # The tables exist already (`prepare_database` ran `setup()` as the owner); the app role
        # cannot create them.
        checkpointer=JournaledPostgresSaver(pool),
        pool=pool,
        vault=vault_from_settings(settings),
        limiter=RateLimiter(redis, enabled=settings.rate_limit_enabled),
    )


async def _get_resources() -> WorkerResources:
    global _resources
    if _resources is None:
        _resources = await open_resources(get_settings())
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


def lease_owner(task_id: str | None) -> str:
    """Names one task invocation on one process: its own retries share it, a duplicate or a
    redelivery on another process does not."""
    return f"{socket.gethostname()}:{os.getpid()}:{task_id or uuid.uuid4().hex}"


_DEFINITIONS: OrderedDict[uuid.UUID, AgentDefinition] = OrderedDict()
DEFINITION_CACHE_SIZE = 128


def _published_definition(version_id: uuid.UUID, raw: dict[str, Any]) -> AgentDefinition:
    """The version's definition, validated once per process (published versions are immutable)."""
    definition = _DEFINITIONS.get(version_id)
    if definition is None:
        definition = _DEFINITIONS[version_id] = AgentDefinition.model_validate(raw)
        while len(_DEFINITIONS) > DEFINITION_CACHE_SIZE:
            _DEFINITIONS.popitem(last=False)
    return definition


@dataclass
class _Claim:
    definition: AgentDefinition
    ctx: RunContext
    version_id: uuid.UUID | None
    is_test: bool
    agent_id: uuid.UUID
    resume: dict[str, Any] | None
    previous_tokens: int
    previous_cost: Decimal
    first_call: bool
    """No task ran this execution before (it has no checkpoint yet)."""


# The claim and the record are the worker's per-run transactions: hand-written statements through
# its psycopg pool, two or three round trips each (executions/statements.py).
_CLAIM_READ = """
SELECT e.status, e.lease_owner, e.heartbeat_at, e.started_at, e.is_test, e.agent_id, e.trigger_data,
       e.metadata, e.total_tokens, e.total_cost, a.settings, v.id, v.version, v.definition
FROM executions e
LEFT JOIN agents a ON a.id = e.agent_id
LEFT JOIN agent_versions v ON v.id = e.agent_version_id
WHERE e.id = %(execution_id)s
FOR UPDATE OF e"""

_INTERRUPT_STEPS = """
UPDATE execution_steps SET status = 'interrupted', error_message = %(message)s, completed_at = %(now)s
WHERE execution_id = %(execution_id)s AND status = 'running'"""

_BILL_RUN = """
INSERT INTO usage_records (id, org_id, execution_id, record_type, quantity)
VALUES (%(usage_id)s, %(org_id)s, %(execution_id)s, 'execution', 1)"""

_START_RUN = """
UPDATE executions
SET status = 'running', lease_owner = %(owner)s, heartbeat_at = %(now)s, wake_at = NULL,
    started_at = coalesce(started_at, %(now)s)
WHERE id = %(execution_id)s"""

_FAIL_UNRUNNABLE = """
UPDATE executions SET status = 'failed', error_message = 'The agent version no longer exists', completed_at = %(now)s
WHERE id = %(execution_id)s"""


async def _claim(resources: WorkerResources, execution_id: uuid.UUID, org_id: uuid.UUID, owner: str) -> _Claim | None:
    now = datetime.now(UTC)
    params: dict[str, Any] = {"execution_id": execution_id, "org_id": org_id, "owner": owner, "now": now}
    async with statements.transaction(resources.pool, org_id=org_id) as cursor:
        await cursor.execute(_CLAIM_READ, params)
        row = await cursor.fetchone()
        if row is None:
            return None
        (
            status,
            holder,
            heartbeat_at,
            started_at,
            is_test,
            agent_id,
            trigger_data,
            raw_meta,
            previous_tokens,
            previous_cost,
            agent_settings,
            version_id,
            version_number,
            raw_definition,
        ) = row
        if status not in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING):
            # Finished, queued behind the concurrency limit, or waiting for an approval or a
            # delay: the sweeper or a decision sends a new task when there is work again.
            return None
        if status == ExecutionStatus.RUNNING and holder != owner:
            stale_before = now - timedelta(seconds=resources.settings.execution_lease_seconds)
            if heartbeat_at is not None and heartbeat_at > stale_before:
                return None  # another worker holds it and is alive
        meta: dict[str, Any] = dict(raw_meta or {})
        draft = meta.get("test_definition")
        if version_id is not None:
            definition = _published_definition(version_id, raw_definition)
        elif isinstance(draft, dict):  # a test run: the draft snapshot taken when it started (version 0)
            definition, version_number = AgentDefinition.model_validate(draft), 0
        else:
            await cursor.execute(_FAIL_UNRUNNABLE, params)
            return None
        if started_at is not None:
            # Whoever held this run before us is gone (or is our own earlier attempt): a step it
            # left running never finished and runs again under a new step row.
            await cursor.execute(_INTERRUPT_STEPS, {**params, "message": INTERRUPTED_STEP_MESSAGE})
        elif not is_test:  # the first start is billed; test runs are not
            await cursor.execute(_BILL_RUN, {**params, "usage_id": uuid.uuid4()})
        await cursor.execute(_START_RUN, params)
    resume = meta.get("resume")
    pinned = meta.get("pinned_outputs") if is_test else None
    return _Claim(
        definition=definition,
        ctx=RunContext(
            execution_id=execution_id,
            org_id=org_id,
            agent_id=agent_id,
            agent_version=version_number,
            trigger=dict(trigger_data or {}),
            started_at=started_at or now,
            settings=run_settings(agent_settings or {}),
            cache_key=str(version_id) if version_id else None,
            pinned_outputs=pinned if isinstance(pinned, dict) else {},
        ),
        version_id=version_id,
        is_test=is_test,
        agent_id=agent_id,
        resume=resume if isinstance(resume, dict) else None,
        previous_tokens=previous_tokens,
        previous_cost=previous_cost,
        first_call=started_at is None,
    )


async def _heartbeat(resources: WorkerResources, execution_id: uuid.UUID, org_id: uuid.UUID, owner: str) -> None:
    """Keep the lease fresh while the run goes on; a missed beat is retried at the next one."""
    interval = resources.settings.execution_lease_seconds / 3
    while True:
        await asyncio.sleep(interval)
        try:
            async with resources.db.transaction(org_id=org_id) as session:
                await session.execute(
                    update(Execution)
                    .where(Execution.id == execution_id, Execution.lease_owner == owner)
                    .values(heartbeat_at=datetime.now(UTC))
                )
        except Exception:
            log.warning("heartbeat failed", extra={"execution_id": str(execution_id)}, exc_info=True)


@dataclass
class _Recorded:
    promoted: list[uuid.UUID]
    status: str | None = None
    """The status now stored (None: another worker holds the run and records it)."""
    approval: dict[str, Any] | None = None
    """Set when the run just started waiting for an approval: its approvers get notified."""
    announced: list[Stored] = field(default_factory=list)
    """The outcome's event, stored with the outcome: published once that has committed."""


_RECORD_READ = """
SELECT e.lease_owner, e.status, e.metadata, a.settings,
       (SELECT coalesce(sum(tokens_used), 0) FROM execution_steps WHERE execution_id = e.id),
       (SELECT coalesce(sum(cost), 0) FROM execution_steps WHERE execution_id = e.id)
FROM executions e
LEFT JOIN agents a ON a.id = e.agent_id
WHERE e.id = %(execution_id)s
FOR UPDATE OF e"""

_BILL_TOKENS = """
INSERT INTO usage_records (id, org_id, execution_id, record_type, quantity, unit_cost)
VALUES (%(usage_id)s, %(org_id)s, %(execution_id)s, 'llm_tokens', %(quantity)s, %(unit_cost)s)"""

_RELEASE_RUN = """
UPDATE executions
SET lease_owner = NULL, heartbeat_at = NULL, total_tokens = %(tokens)s, total_cost = %(cost)s,
    metadata = %(metadata)s::jsonb
WHERE id = %(execution_id)s"""

_FINISH_RUN = """
UPDATE executions
SET lease_owner = NULL, heartbeat_at = NULL, total_tokens = %(tokens)s, total_cost = %(cost)s,
    metadata = %(metadata)s::jsonb, status = %(status)s, completed_at = coalesce(%(completed_at)s, completed_at),
    error_message = coalesce(%(error_message)s, error_message), wake_at = %(wake_at)s
WHERE id = %(execution_id)s"""


async def _record(
    resources: WorkerResources,
    claim: _Claim,
    outcome: RunOutcome,
    outcome_events: OutcomeEventsAfterRecord,
    owner: str,
) -> _Recorded:
    """Store the outcome, bill the tokens, give the slot to a queued run and store the outcome's
    event, in one transaction; the caller publishes the event (`announced`) after."""
    execution_id, org_id = claim.ctx.execution_id, claim.ctx.org_id
    recorded = _Recorded(promoted=[])
    async with statements.transaction(resources.pool, org_id=org_id) as cursor:
        await cursor.execute(_RECORD_READ, {"execution_id": execution_id})
        row = await cursor.fetchone()
        assert row is not None, "a claimed execution is never deleted while it runs"
        holder, status, raw_meta, agent_settings, tokens, cost = row
        if holder != owner:
            # We were presumed dead (a stall longer than the lease) and another worker took the
            # run over from the last checkpoint; its outcome is the one that counts.
            log.warning("lost the lease of a run", extra={"execution_id": str(execution_id)})
            return recorded
        recorded.status = str(status) if status != ExecutionStatus.RUNNING else outcome.status
        params: dict[str, Any] = {
            "execution_id": execution_id,
            "org_id": org_id,
            "tokens": int(tokens),
            "cost": Decimal(cost),
        }
        delta_tokens = int(tokens) - claim.previous_tokens
        if delta_tokens > 0 and not claim.is_test:
            delta_cost = Decimal(cost) - claim.previous_cost
            unit_cost = (delta_cost / delta_tokens).quantize(Decimal("0.00000001"))
            await cursor.execute(
                _BILL_TOKENS, {**params, "usage_id": uuid.uuid4(), "quantity": delta_tokens, "unit_cost": unit_cost}
            )
        meta = {k: v for k, v in (raw_meta or {}).items() if k != "resume"}
        if status != ExecutionStatus.RUNNING:
            # Cancelled by a user while this run went on: the user's decision stands (and the
            # cancel already gave the slot to a queued run).
            await cursor.execute(_RELEASE_RUN, {**params, "metadata": orjson.dumps(meta).decode()})
            recorded.announced = await outcome_events.store_with(cursor, recorded.status)
            return recorded
        now = datetime.now(UTC)
        wake_at = None
        if outcome.status == "completed":
            meta["output"] = to_json(outcome.output)
            if outcome.response is not None:
                meta["response"] = to_json(outcome.response)
        if outcome.status == "waiting_approval":
            approval = to_json(outcome.interrupt or {})
            meta["approval"] = approval
            wake_at = _timestamp(outcome.interrupt, "expires_at")
            recorded.approval = approval if isinstance(approval, dict) else None
        if outcome.status == "parked":
            wake_at = datetime.fromtimestamp(outcome.resume_at or 0, UTC)
        error = outcome.error
        await cursor.execute(
            _FINISH_RUN,
            {
                **params,
                "metadata": orjson.dumps(meta).decode(),
                "status": outcome.status,
                "completed_at": now if outcome.status in ("completed", "failed", "cancelled") else None,
                "error_message": None if error is None else str(error.get("message") or error)[:10_000],
                "wake_at": wake_at,
            },
        )
        # The run no longer holds a slot: hand it to the agent's oldest queued run, if any.
        promote = admission.promote_params(claim.agent_id, agent_settings or {})
        await cursor.execute(admission.LOCK_AGENT_SQL, promote)
        await cursor.execute(admission.PROMOTE_SQL, promote)
        recorded.promoted = [promoted for (promoted,) in await cursor.fetchall()]
        recorded.announced = await outcome_events.store_with(cursor, recorded.status)
    return recorded


OUTCOME_EVENTS = {
    "completed": "execution.completed",
    "failed": "execution.failed",
    "cancelled": "execution.cancelled",
    "waiting_approval": "execution.waiting_approval",
    "parked": "execution.parked",
}


class OutcomeEventsAfterRecord:
    """The engine's event sink for one run, holding back the outcome event (completed, failed,
    waiting for approval, …) until `_record` has committed that outcome: a client that reloads the
    execution when the event arrives then sees the new status, never still `running`."""

    def __init__(self, sink: RedisEventSink, execution_id: uuid.UUID) -> None:
        self.sink = sink
        self.execution_id = execution_id
        self.held: list[Event] = []

    async def emit(self, type: str, payload: dict[str, Any], *, checkpoint_follows: bool = False) -> None:
        if type in OUTCOME_EVENTS.values():
            self.held.append(Event(type, payload))
        else:
            await self.sink.emit(type, payload, checkpoint_follows=checkpoint_follows)

    async def store_with(self, cursor: statements.Cursor, recorded_status: str) -> list[Stored]:
        """Store, in the transaction recording the outcome, the event that matches the stored
        status: the held one; `execution.cancelled` if a user cancelled meanwhile; or, when the
        engine never got to say it (a crash on the last retry), the event of the stored status."""
        expected = OUTCOME_EVENTS.get(recorded_status)
        if expected is None:
            return []
        matching = [event for event in self.held if event.type == expected]
        events = matching or [Event(expected, {"execution_id": str(self.execution_id)})]
        return await self.sink.store_with(cursor, *events)


def _timestamp(payload: dict[str, Any] | None, key: str) -> datetime | None:
    value = (payload or {}).get(key)
    return datetime.fromtimestamp(float(value), UTC) if isinstance(value, int | float) else None


async def _run(execution_id: uuid.UUID, org_id: uuid.UUID, *, owner: str, final_attempt: bool) -> str:
    resources = await _get_resources()
    claim = await _claim(resources, execution_id, org_id, owner)
    if claim is None:
        return "noop"
    # Step rows and events go through the psycopg pool (no SQLAlchemy): see executions/statements.py.
    events = RedisEventSink(resources.redis, resources.pool, execution_id=execution_id, org_id=org_id)
    outcome_events = OutcomeEventsAfterRecord(events, execution_id)
    store = DbExecutionStore(
        resources.pool, events=events, execution_id=execution_id, org_id=org_id, agent_version_id=claim.version_id
    )
    services = EngineServices(
        router=lambda ctx: _router(resources, ctx.org_id),
        credentials=lambda ctx: OrgIntegrationCredentials(resources.db, resources.vault, ctx.org_id),
        egress_allowed_hosts=tuple(resources.settings.egress_allowed_hosts),
        in_process_delay_limit=resources.settings.execution_in_process_delay_seconds,
    )
    heartbeat = asyncio.create_task(_heartbeat(resources, execution_id, org_id, owner))
    try:
        with resources.checkpointer.journaling(str(execution_id), events):
            outcome = await run_execution(
                claim.definition,
                claim.ctx,
                store=store,
                events=outcome_events,
                services=services,
                checkpointer=resources.checkpointer,
                resume=claim.resume,
                first_call=claim.first_call,
            )
    except Exception as exc:
        if not final_attempt:
            raise  # the task retries with backoff, still holding the lease
        log.exception("execution crashed", extra={"execution_id": str(execution_id)})
        outcome = RunOutcome(status="failed", error={"message": f"internal error: {type(exc).__name__}"})
    finally:
        heartbeat.cancel()
    recorded = await _record(resources, claim, outcome, outcome_events, owner)
    await events.publish(recorded.announced)
    for promoted in recorded.promoted:
        enqueue(celery_app, promoted, org_id)
    if recorded.approval is not None:
        await _notify(resources, org_id, claim.agent_id, execution_id, recorded.approval)
    return outcome.status


async def _notify(
    resources: WorkerResources,
    org_id: uuid.UUID,
    agent_id: uuid.UUID,
    execution_id: uuid.UUID,
    approval: dict[str, Any],
) -> None:
    try:
        async with resources.db.transaction(org_id=org_id) as session:
            await notify_approvers(
                session,
                resources.settings,
                org_id=org_id,
                agent_id=agent_id,
                execution_id=execution_id,
                approval=approval,
            )
    except Exception:
        # The run is safely waiting either way; the approval shows in the in-app list.
        log.exception("approval notification failed", extra={"execution_id": str(execution_id)})


def _run_task(task: Any, execution_id: str, org_id: str) -> str:
    retries = int(task.request.retries or 0)
    try:
        return _event_loop().run_until_complete(
            _run(
                uuid.UUID(execution_id),
                uuid.UUID(org_id),
                owner=lease_owner(task.request.id),
                final_attempt=retries >= MAX_INFRA_RETRIES,
            )
        )
    except Exception as exc:
        log.warning("execution task failed; retrying", extra={"execution_id": execution_id}, exc_info=True)
        raise task.retry(exc=exc, countdown=min(60, 2**retries), max_retries=MAX_INFRA_RETRIES) from exc


run = celery_app.task(name="executions.run", bind=True)(_run_task)
resume = celery_app.task(name="executions.resume", bind=True)(_run_task)


async def _sweep() -> dict[str, int]:
    resources = await _get_resources()
    result = await sweep(resources.db, resources.settings)
    for execution_id, org_id, resume_run in result.to_send:
        enqueue(celery_app, execution_id, org_id, resume=resume_run)
    return result.summary()


def _sweep_task() -> dict[str, int]:
    return _event_loop().run_until_complete(_sweep())


sweep_executions = celery_app.task(name=SWEEP_TASK)(_sweep_task)


async def _fire_schedules() -> dict[str, int]:
    resources = await _get_resources()
    result = await fire_due(resources.db, resources.limiter, resources.settings)
    for execution_id, org_id in result.to_send:
        enqueue(celery_app, execution_id, org_id)
    return {"fired": result.fired, "skipped": result.skipped}


def _fire_schedules_task() -> dict[str, int]:
    return _event_loop().run_until_complete(_fire_schedules())


fire_schedules = celery_app.task(name=SCHEDULES_TASK)(_fire_schedules_task)
