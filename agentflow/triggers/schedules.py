"""Cron schedules: beat fires them from the database, so publishing or pausing an agent takes
effect without a restart.

Each scheduled agent has an `agent_triggers` row (kind `schedule`) with its next fire time, kept
by `sync` whenever the agent is published, paused, activated or archived. Every
`schedule_tick_seconds`, beat runs `fire_due`: it finds due rows across orgs (ids only, through
`af_due_schedules`), and for each, under a row lock, starts a run and moves `next_fire_at` past
now. Two beats (or two overlapping ticks) cannot fire a schedule twice: the second finds the row
locked (SKIP LOCKED) or no longer due.

Missed fires (beat was down): `fire_once` (the default) runs once on recovery for all the missed
times, with `missed` counting them in the trigger data; `skip` runs only when the fire time is
less than one tick late and otherwise just moves on to the next time.
"""

from __future__ import annotations

import logging
import uuid
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cronsim import CronSim
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.agents.repository import AgentRepository
from agentflow.agents.schemas import AgentStatus
from agentflow.engine.nodes.trigger_schedule import ScheduleTriggerConfig
from agentflow.executions import service as executions
from agentflow.executions.schemas import ExecutionStatus
from agentflow.kit.db import Database
from agentflow.kit.errors import AppError
from agentflow.kit.ratelimit import RateLimiter
from agentflow.models.agents import Agent
from agentflow.models.triggers import AgentTrigger
from agentflow.settings import Settings

log = logging.getLogger("agentflow.triggers")

BATCH = 200


def fire_times(cron: str, timezone: str, after: datetime) -> Iterator[datetime]:
    """The schedule's fire times strictly after `after`, in UTC (read in the schedule's zone, so
    '0 9 * * *' stays at 9:00 local across daylight-saving changes)."""
    local = after.astimezone(zoneinfo.ZoneInfo(timezone))
    for moment in CronSim(cron, local):
        yield moment.astimezone(UTC)


def next_fire_times(cron: str, timezone: str, after: datetime, count: int = 5) -> list[datetime]:
    times = fire_times(cron, timezone, after)
    return [next(times) for _ in range(count)]


async def sync(session: AsyncSession, agent: Agent, *, now: datetime | None = None) -> None:
    """Make the agent's schedule row match its published trigger and status."""
    now = now or datetime.now(UTC)
    row = (
        await session.execute(
            select(AgentTrigger).where(AgentTrigger.agent_id == agent.id, AgentTrigger.kind == "schedule")
        )
    ).scalar_one_or_none()
    if agent.trigger_type != "schedule":
        if row is not None:
            row.next_fire_at = None
        return
    config = ScheduleTriggerConfig.model_validate(agent.trigger_config or {})
    if row is None:
        row = AgentTrigger(org_id=agent.org_id, agent_id=agent.id, kind="schedule")
        session.add(row)
    changed = (row.cron, row.timezone) != (config.cron, config.timezone)
    row.cron, row.timezone, row.missed_fires = config.cron, config.timezone, config.missed_fires
    if agent.status != AgentStatus.ACTIVE:
        row.next_fire_at = None
    elif row.next_fire_at is None or changed:
        row.next_fire_at = next(fire_times(config.cron, config.timezone, now))
    await session.flush()


@dataclass
class FireResult:
    fired: int = 0
    skipped: int = 0
    to_send: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)
    """(execution id, org id) of pending runs, for the caller to enqueue after commit."""


async def fire_due(
    db: Database, limiter: RateLimiter, settings: Settings, *, now: datetime | None = None
) -> FireResult:
    now = now or datetime.now(UTC)
    async with db.transaction() as session:
        due = (
            await session.execute(text("SELECT id, org_id FROM af_due_schedules(:at, :n)"), {"at": now, "n": BATCH})
        ).all()
    result = FireResult()
    for trigger_id, org_id in due:
        try:
            async with db.transaction(org_id=org_id) as session:
                await _fire_one(session, trigger_id, org_id, limiter, settings, now, result)
        except AppError as error:
            # The plan's limit or the agent's concurrency limit said no: this fire is dropped
            # (the next one comes at its time), and the owners see why in the log.
            log.warning("scheduled run refused", extra={"trigger_id": str(trigger_id), "code": error.code})
            async with db.transaction(org_id=org_id) as session:
                await _advance_only(session, trigger_id, now)
    return result


async def _fire_one(
    session: AsyncSession,
    trigger_id: uuid.UUID,
    org_id: uuid.UUID,
    limiter: RateLimiter,
    settings: Settings,
    now: datetime,
    result: FireResult,
) -> None:
    row = (
        await session.execute(
            select(AgentTrigger).where(AgentTrigger.id == trigger_id).with_for_update(skip_locked=True)
        )
    ).scalar_one_or_none()
    if row is None or row.next_fire_at is None or row.next_fire_at > now or not row.cron or not row.timezone:
        return  # another beat has it, or it was paused or fired meanwhile
    scheduled_for = row.next_fire_at
    missed = 0
    following = fire_times(row.cron, row.timezone, scheduled_for)
    upcoming = next(following)
    while upcoming <= now:
        missed += 1
        upcoming = next(following)
    row.next_fire_at = upcoming
    late = now - scheduled_for
    if row.missed_fires == "skip" and late > timedelta(seconds=settings.schedule_tick_seconds * 2):
        result.skipped += 1
        return
    agent = await AgentRepository(session, org_id).runnable(row.agent_id)
    if agent is None or agent.status != AgentStatus.ACTIVE or agent.trigger_type != "schedule":
        row.next_fire_at = None
        return
    row.last_fired_at = now
    execution = await executions.start_published_run(
        session,
        agent,
        trigger_data={
            "scheduled_for": scheduled_for.isoformat(),
            "fired_at": now.isoformat(),
            "missed": missed,
            "cron": row.cron,
            "timezone": row.timezone,
        },
        triggered_by="schedule",
        metadata={},
        limiter=limiter,
        settings=settings,
    )
    result.fired += 1
    if execution.status == ExecutionStatus.PENDING:
        result.to_send.append((execution.id, org_id))


async def _advance_only(session: AsyncSession, trigger_id: uuid.UUID, now: datetime) -> None:
    row = await session.get(AgentTrigger, trigger_id, with_for_update=True)
    if row is not None and row.next_fire_at is not None and row.next_fire_at <= now and row.cron and row.timezone:
        row.next_fire_at = next(fire_times(row.cron, row.timezone, now))
