"""`RedisEventSink`: the engine's `EventSink`.

Each event is stored in execution_events with the next per-execution sequence number, then
published as JSON on `execution:{id}`. The INSERT assigns the number itself (the stored maximum +
1, under the unique (execution_id, seq) index), so
- an event is stored before it is published: a client that sees an event live can always find it
  again in the replay;
- number N exists only once N - 1 is stored (committed): no holes, and a client that sees N live
  finds everything before it in the table.
Writers of one execution's events take turns: in a process one batch at a time (a lock, so
parallel branches also publish in order), across processes (e.g. the API cancelling an idle run)
under a transaction-level advisory lock on the execution.

`record` also writes the changes the events announce (`DbExecutionStore`'s step rows): a change and
its event are one statement, and a batch of them one transaction, in one round trip.

While a checkpointer journals the run (`JournaledPostgresSaver.journaling`), entries may be held
(`hold`) for the checkpoint that follows them: a node's finish and the next step's start then
commit in the checkpoint's own transaction (`commit_held`). Any other write commits the held
entries first, so the order of events never changes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from redis.asyncio import Redis

from agentflow.engine.runtime import EVENT_TYPES, Event
from agentflow.executions.jsonsafe import to_json
from agentflow.executions.statements import Connections, Cursor, Statement, execute_in_context

_TAKE_TURN = "SELECT pg_advisory_xact_lock(hashtextextended(%(turn)s, 0))"
_INSERT_EVENT = """
INSERT INTO execution_events (id, org_id, execution_id, seq, type, payload, created_at)
SELECT %(event_id)s, %(org_id)s, %(execution_id)s,
       coalesce((SELECT seq FROM execution_events WHERE execution_id = %(execution_id)s
                 ORDER BY seq DESC LIMIT 1), 0) + 1,
       %(event_type)s, %(event_payload)s::jsonb, %(event_at)s"""


def channel(execution_id: uuid.UUID) -> str:
    return f"execution:{execution_id}"


TERMINAL_EVENT_TYPES = frozenset({"execution.completed", "execution.failed", "execution.cancelled"})
"""The last event of an execution: nothing is published on its channel after one of these."""


def event_message(execution_id: uuid.UUID, seq: int, type: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The JSON published on `execution:{id}`; replays from execution_events are built the same way,
    so a client cannot tell a replayed event from a live one."""
    return {
        "seq": seq,
        "type": type,
        "execution_id": str(execution_id),
        "at": at.astimezone(UTC).isoformat(),
        "data": data,
    }


@dataclass(frozen=True)
class Entry:
    """An event and the change of this execution's rows it announces: `change` is one INSERT or
    UPDATE (no RETURNING; `params` its values). Either may be missing, not both. With both, the
    event is stored only if the change wrote a row."""

    event: Event | None
    change: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    required: bool = False
    """A change that must write (a step start): when it does not, the run was cancelled."""


class RedisEventSink:
    def __init__(self, redis: Redis, db: Connections, *, execution_id: uuid.UUID, org_id: uuid.UUID) -> None:
        self.redis = redis
        self.db = db
        self.execution_id = execution_id
        self.org_id = org_id
        self.journaled = False
        """Set while a checkpointer commits held entries with its checkpoints (`hold`)."""
        self._held: list[Entry] = []
        self._lock = asyncio.Lock()

    async def emit(self, type: str, payload: dict[str, Any], *, checkpoint_follows: bool = False) -> None:
        if checkpoint_follows and self.journaled:
            self.hold(Entry(Event(type, payload)))
        else:
            await self.record(Entry(Event(type, payload)))

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def hold(self, *entries: Entry) -> None:
        """Keep `entries` for the next commit: the checkpoint's (`commit_held`), or any `record`."""
        if not self.journaled:
            raise RuntimeError("entries are held only while a checkpointer journals the run")
        self._held.extend(entries)

    async def record(self, *entries: Entry) -> list[bool]:
        """Write the held entries and then `entries` in one transaction, then publish their events
        in order; for each of `entries`, whether it was written (its change wrote a row, or it has
        none)."""
        held, written = await self._commit([*entries])
        return written[len(held) :]

    async def commit_held(self, alongside: Sequence[Statement]) -> list[tuple[Entry, bool]]:
        """Write the held entries and, in the same transaction, `alongside` (a checkpoint), then
        publish; each held entry and whether it was written."""
        held, written = await self._commit([], alongside)
        return list(zip(held, written, strict=True))

    async def store_with(self, cursor: Cursor, *events: Event) -> list[Stored]:
        """Store the held entries and `events` in `cursor`'s transaction (open, in this org's
        context); `publish` what this returns once that transaction has committed. For a run's
        outcome, which the worker records after the engine is done with this sink."""
        held, self._held = self._held, []
        writes = [self._write(entry) for entry in [*held, *(Entry(event) for event in events)]]
        await cursor.execute(_TAKE_TURN, self._turn())
        stored: list[Stored] = []
        for write in writes:
            await cursor.execute(write.statement, {**write.params, "org_id": self.org_id})
            row = await cursor.fetchone()
            if row is not None and write.type:
                stored.append((int(row[0]), write))
        return stored

    async def publish(self, stored: list[Stored]) -> None:
        """Publish stored events, in order, in one round trip."""
        if stored:
            async with self.redis.pipeline(transaction=False) as pipe:
                for seq, write in stored:
                    message = event_message(self.execution_id, seq, str(write.type), write.at, write.body)
                    pipe.publish(channel(self.execution_id), orjson.dumps(message))
                await pipe.execute()

    def _turn(self) -> dict[str, Any]:
        return {"turn": f"execution-events:{self.execution_id}"}

    async def _commit(
        self, entries: list[Entry], alongside: Sequence[Statement] = ()
    ) -> tuple[list[Entry], list[bool]]:
        async with self._lock:
            held, self._held = self._held, []
            writes = [self._write(entry) for entry in [*held, *entries]]
            statements = [(write.statement, write.params) for write in writes]
            _, *results = await execute_in_context(
                self.db, (_TAKE_TURN, self._turn()), *statements, org_id=self.org_id, also=alongside
            )
            zipped = zip(results, writes, strict=True)
            await self.publish([(int(rows[0][0]), write) for rows, write in zipped if rows and write.type])
        return held, [bool(rows) for rows in results]

    def _write(self, entry: Entry) -> _Write:
        """The entry's statement, returning a row if it wrote (the event's seq, if it has one)."""
        params = {**entry.params, "execution_id": self.execution_id}
        at = datetime.now(UTC)
        if entry.event is None:
            return _Write(f"{entry.change} RETURNING 1", params, None, {}, at)
        type, payload = entry.event
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type}")
        body = to_json(payload)
        if not isinstance(body, dict):
            body = {"value": body}
        params |= {
            "event_id": uuid.uuid4(),
            "event_type": type,
            "event_payload": orjson.dumps(body).decode(),
            "event_at": at,
        }
        if not entry.change:
            return _Write(f"{_INSERT_EVENT} RETURNING seq", params, type, body, at)
        only_if_changed = "WHERE EXISTS (SELECT FROM change) RETURNING seq"
        return _Write(
            f"WITH change AS ({entry.change} RETURNING 1){_INSERT_EVENT}\n{only_if_changed}", params, type, body, at
        )


class _Write(NamedTuple):
    statement: str
    params: dict[str, Any]
    type: str | None
    body: dict[str, Any]
    at: datetime


Stored = tuple[int, _Write]
"""An event stored with its seq, to publish."""
