"""`DbExecutionStore`: the engine's `ExecutionStore` on execution_steps / execution_logs.

Each call is one transaction, in one round trip with the org's row-level security context
(`statements.execute_in_context`): a step row is visible (to the API, to a reconnecting client) as
soon as it is written, and nothing holds a connection while a node runs. A step change and the
event announcing it are one statement through the run's `RedisEventSink` (`record`): the row and
the event commit together; a finish and the start of the next step, one transaction. When the
node ran alone in its superstep and the checkpointer journals the run, that transaction is the
checkpoint's (`JournaledPostgresSaver`): the store holds the entries, the checkpoint commits them.

Starting a step is also the cancel check at each step boundary: the step row is written only while
the execution is not cancelled, so it costs no extra round trip.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from agentflow.engine.runtime import ExecutionCancelled, StepFinish, StepStart
from agentflow.executions.events import Entry, RedisEventSink
from agentflow.executions.jsonsafe import as_object
from agentflow.executions.statements import Connections, execute_in_context

MAX_LOG_MESSAGE = 10_000
OPEN_STEP_STATUSES = ("running", "waiting", "waiting_approval")

_START_STEP = """
INSERT INTO execution_steps
    (id, org_id, execution_id, node_id, node_key, step_order, attempt, status, input_data, started_at)
SELECT %(step_id)s, %(org_id)s, %(execution_id)s,
       (SELECT id FROM agent_nodes
        WHERE agent_version_id = %(agent_version_id)s AND node_key = %(node_key)s LIMIT 1),
       %(node_key)s,
       coalesce((SELECT step_order FROM execution_steps
                 WHERE execution_id = %(execution_id)s AND step_order IS NOT NULL
                 ORDER BY step_order DESC LIMIT 1), 0) + 1,
       %(attempt)s, 'running', %(input)s::jsonb, %(started_at)s
FROM executions WHERE id = %(execution_id)s AND status <> 'cancelled'"""

_FINISH_STEP = """
UPDATE execution_steps
SET status = %(status)s, output_data = %(output)s::jsonb, error_message = %(error_message)s,
    tokens_used = %(tokens)s, cost = %(cost)s, duration_ms = %(duration_ms)s, completed_at = %(completed_at)s
WHERE id = %(step_id)s AND execution_id = %(execution_id)s"""

_ADD_LOG = """
INSERT INTO execution_logs (id, org_id, execution_id, step_id, level, message, data)
VALUES (%(log_id)s, %(org_id)s, %(execution_id)s, %(step_id)s, %(level)s, %(message)s, %(data)s::jsonb)"""

_STATUS = "SELECT status FROM executions WHERE id = %(execution_id)s"


def _jsonb(value: Any) -> str | None:
    """`value` as the text of a JSON object (`as_object`), for a `::jsonb` parameter."""
    plain = as_object(value)
    return None if plain is None else orjson.dumps(plain).decode()


class DbExecutionStore:
    def __init__(
        self,
        db: Connections,
        *,
        events: RedisEventSink,
        execution_id: uuid.UUID,
        org_id: uuid.UUID,
        agent_version_id: uuid.UUID | None = None,
    ) -> None:
        self.db = db
        self.events = events
        self.execution_id = execution_id
        self.org_id = org_id
        self.agent_version_id = agent_version_id

    async def step_started(self, start: StepStart) -> None:
        (started,) = await self.events.record(self._start(start))
        if not started:
            raise ExecutionCancelled

    async def step_finished(
        self, finish: StepFinish, *, then_start: StepStart | None = None, checkpoint_follows: bool = False
    ) -> bool:
        entries = [self._finish(finish)] if then_start is None else [self._finish(finish), self._start(then_start)]
        if checkpoint_follows and self.events.journaled:
            # Committed with the checkpoint; a refused start (cancelled meanwhile) raises there.
            self.events.hold(*entries)
            return then_start is not None
        written = await self.events.record(*entries)
        return then_start is not None and written[1]

    def _start(self, start: StepStart) -> Entry:
        params = {
            "step_id": start.step_id,
            "agent_version_id": self.agent_version_id,
            "node_key": start.node_id,
            "attempt": start.attempt,
            "input": _jsonb(start.input),
            "started_at": datetime.now(UTC),
        }
        return Entry(start.event, _START_STEP, params, required=True)

    def _finish(self, finish: StepFinish) -> Entry:
        error = finish.error
        params = {
            "step_id": finish.step_id,
            "status": finish.status,
            "output": _jsonb(finish.output if error is None or finish.output is not None else {"error": error}),
            "error_message": None if error is None else str(error.get("message") or error)[:MAX_LOG_MESSAGE],
            "tokens": finish.tokens,
            "cost": finish.cost,
            "duration_ms": finish.duration_ms,
            "completed_at": None if finish.status in OPEN_STEP_STATUSES else datetime.now(UTC),
        }
        return Entry(finish.event, _FINISH_STEP, params)

    async def log(self, *, step_id: uuid.UUID | None, level: str, message: str, data: Any = None) -> None:
        params = {
            "log_id": uuid.uuid4(),
            "execution_id": self.execution_id,
            "step_id": step_id,
            "level": level[:20],
            "message": message.replace("\x00", "\ufffd")[:MAX_LOG_MESSAGE],
            "data": _jsonb(data),
        }
        await execute_in_context(self.db, (_ADD_LOG, params), org_id=self.org_id)

    async def is_cancelled(self) -> bool:
        [rows] = await execute_in_context(self.db, (_STATUS, {"execution_id": self.execution_id}), org_id=self.org_id)
        return not rows or rows[0][0] == "cancelled"
