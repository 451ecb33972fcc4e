"""`RedisEventSink`: the engine's `EventSink`.

Each event gets the next per-execution sequence number (`INCR execution:{id}:seq`), is stored in
execution_events (so a client can reconnect and replay from any sequence number), then published
as JSON on `execution:{id}`. Stored before published: a client that sees an event live can always
find it again in the replay.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis
from sqlalchemy import func, select

from agentflow.engine.runtime import EVENT_TYPES
from agentflow.executions.jsonsafe import to_json
from agentflow.kit.db import Database
from agentflow.models.executions import ExecutionEvent

SEQ_TTL_SECONDS = 7 * 24 * 60 * 60


def channel(execution_id: uuid.UUID) -> str:
    return f"execution:{execution_id}"


def seq_key(execution_id: uuid.UUID) -> str:
    return f"execution:{execution_id}:seq"


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


class RedisEventSink:
    def __init__(self, redis: Redis, db: Database, *, execution_id: uuid.UUID, org_id: uuid.UUID) -> None:
        self.redis = redis
        self.db = db
        self.execution_id = execution_id
        self.org_id = org_id
        self._seeded = False

    async def _next_seq(self) -> int:
        key = seq_key(self.execution_id)
        if not self._seeded:
            # Valkey may have lost the counter (restart, eviction): continue after the stored events.
            async with self.db.transaction(org_id=self.org_id) as session:
                stored = await session.scalar(
                    select(func.coalesce(func.max(ExecutionEvent.seq), 0)).where(
                        ExecutionEvent.execution_id == self.execution_id
                    )
                )
            await self.redis.set(key, int(stored or 0), nx=True, ex=SEQ_TTL_SECONDS)
            self._seeded = True
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, SEQ_TTL_SECONDS)
            seq, _ = await pipe.execute()
        return int(seq)

    async def emit(self, type: str, payload: dict[str, Any]) -> None:
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type}")
        seq = await self._next_seq()
        body = to_json(payload)
        if not isinstance(body, dict):
            body = {"value": body}
        now = datetime.now(UTC)
        async with self.db.transaction(org_id=self.org_id) as session:
            session.add(
                ExecutionEvent(
                    org_id=self.org_id, execution_id=self.execution_id, seq=seq, type=type, payload=body, created_at=now
                )
            )
        message = event_message(self.execution_id, seq, type, now, body)
        await self.redis.publish(channel(self.execution_id), orjson.dumps(message))
