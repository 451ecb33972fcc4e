"""The sweeper: Celery beat runs it every `execution_sweep_interval_seconds` on the default queue.

It finds, across all orgs (through `af_executions_needing_sweep`, which hands out ids only), the
executions that need a push, and handles each inside its own org's context, re-checking under a
row lock (`SKIP LOCKED`: a row someone else is changing is left for the next sweep):

- parked, its delay over → pending, and a run task;
- waiting_approval past its timeout → pending with the decision `timeout` (down `timed_out`);
- running with a stale heartbeat (its worker died) → pending, and a run task that continues from
  the last checkpoint;
- pending for long without a worker taking it (a broker message lost, e.g. Valkey restarted
  without persistence) → a new run task (a duplicate is harmless: only one can claim the run);
- queued while its agent has free slots → promoted.

Sweeps may overlap (a slow one and the next): every change is conditional on the row still being
in the state that made it due, so each push happens once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from agentflow.executions import admission
from agentflow.executions.schemas import ExecutionStatus
from agentflow.kit.db import Database
from agentflow.models.executions import Execution
from agentflow.settings import Settings

log = logging.getLogger("agentflow.executions")

BATCH = 500


@dataclass
class SweepResult:
    woken: int = 0
    timed_out: int = 0
    requeued: int = 0
    resent: int = 0
    promoted: int = 0
    to_send: list[tuple[uuid.UUID, uuid.UUID, bool]] = field(default_factory=list)
    """(execution id, org id, resume) for the caller to enqueue once the changes committed."""

    def summary(self) -> dict[str, int]:
        return {
            "woken": self.woken,
            "timed_out": self.timed_out,
            "requeued": self.requeued,
            "resent": self.resent,
            "promoted": self.promoted,
        }


async def sweep(db: Database, settings: Settings, *, now: datetime | None = None) -> SweepResult:
    now = now or datetime.now(UTC)
    stale_before = now - timedelta(seconds=settings.execution_lease_seconds)
    pending_before = now - timedelta(seconds=settings.execution_pending_resend_seconds)
    async with db.transaction() as session:
        due = (
            await session.execute(
                text("SELECT id, org_id, agent_id, status FROM af_executions_needing_sweep(:stale, :pending, :n)"),
                {"stale": stale_before, "pending": pending_before, "n": BATCH},
            )
        ).all()
    result = SweepResult()
    promoted_agents: set[uuid.UUID] = set()
    for execution_id, org_id, agent_id, status in due:
        if status == ExecutionStatus.QUEUED:
            if agent_id in promoted_agents:
                continue
            promoted_agents.add(agent_id)
            async with db.transaction(org_id=org_id) as session:
                ids = await admission.promote_queued(session, agent_id)
            result.promoted += len(ids)
            result.to_send.extend((i, org_id, False) for i in ids)
            continue
        async with db.transaction(org_id=org_id) as session:
            row = (
                await session.execute(
                    select(Execution).where(Execution.id == execution_id).with_for_update(skip_locked=True)
                )
            ).scalar_one_or_none()
            if row is not None:
                _push(row, now, stale_before, pending_before, result)
    if any(result.summary().values()):
        log.info("executions swept", extra=result.summary())
    return result


def _push(row: Execution, now: datetime, stale_before: datetime, pending_before: datetime, result: SweepResult) -> None:
    """Apply the one push this row is due for, if it still is."""
    send = (row.id, row.org_id, False)
    last_beat = row.heartbeat_at or row.started_at or row.created_at
    if row.status == ExecutionStatus.PARKED and row.wake_at is not None and row.wake_at <= now:
        result.woken += 1
    elif row.status == ExecutionStatus.WAITING_APPROVAL and row.wake_at is not None and row.wake_at <= now:
        approval: dict[str, Any] = dict((row.metadata_ or {}).get("approval") or {})
        resume = {"decision": "timeout", "comment": None, "by": None, "node_id": approval.get("node_id")}
        row.metadata_ = {
            **(row.metadata_ or {}),
            "resume": resume,
            "decisions": [*(row.metadata_ or {}).get("decisions", []), {**resume, "at": now.isoformat()}],
        }
        send = (row.id, row.org_id, True)
        result.timed_out += 1
    elif row.status == ExecutionStatus.RUNNING and last_beat < stale_before:
        log.warning("worker lost; requeueing the run", extra={"execution_id": str(row.id), "owner": row.lease_owner})
        result.requeued += 1
    elif row.status == ExecutionStatus.PENDING and (row.enqueued_at or row.created_at) < pending_before:
        result.resent += 1
    else:
        return  # changed since the listing: nothing is due any more
    row.status = ExecutionStatus.PENDING.value
    row.wake_at = None
    row.enqueued_at = now
    result.to_send.append(send)
