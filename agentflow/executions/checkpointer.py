"""`JournaledPostgresSaver`: LangGraph's `AsyncPostgresSaver`, committing a node's journal with its
checkpoint.

For each node of a linear flow LangGraph saves the task's writes, then the superstep's checkpoint,
and the run records the node's finish with the start of the next step: three transactions, each
a pool checkout, a round trip and a commit that waits for PostgreSQL to flush its WAL. While a run
is journaled here (`journaling`), the entries the store held for the checkpoint
(`RedisEventSink.hold`) and the task's writes go into the checkpoint's own transaction instead:
one commit per node (bench/engine_bench.py). A new run's `execution.started` goes with its input
checkpoint the same way.

What a crash leaves changes for the better: a node's finish, its writes and the checkpoint after
it are committed together or not at all. A crash before the commit reruns the node from the
previous checkpoint, and the step it was running (started in that earlier commit) is marked
`interrupted` by the next claim, as for any crash mid-node; a step can no longer say `completed`
for a node that then runs again.

The SQL and the serialization are the library's (its statements, `_dump_blobs`, `_dump_writes`):
`_checkpoint_statements` builds what `AsyncPostgresSaver.aput` would execute, and those statements
are committed with the held entries. It is the library's `aput` minus its cursor and its thread
hop for the blobs (`asyncio.to_thread`, there so that serializing a large state does not hold up
other work on the loop; a worker runs one execution at a time, and each checkpoint carries only
the outputs of its superstep, so the hop cost more than it saved: ~10 % of a node's CPU,
bench/engine_bench.py). requirements.lock pins the library; the tests read every checkpoint
written here back through the library's own reader. Only writes to regular
channels are kept for the checkpoint, and only while entries are held (a node alone in its
superstep, so the checkpoint is next); interrupts, errors and the writes of parallel nodes are
saved at once, as LangGraph expects.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    get_serializable_checkpoint_metadata,
)
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from psycopg.types.json import Jsonb

from agentflow.engine.runtime import ExecutionCancelled
from agentflow.executions.events import RedisEventSink
from agentflow.executions.statements import Statement


class JournaledPostgresSaver(AsyncPostgresSaver):
    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        self._journals: dict[str, RedisEventSink] = {}
        self._writes: dict[str, list[Statement]] = {}

    @contextmanager
    def journaling(self, thread_id: str, events: RedisEventSink) -> Iterator[None]:
        """While inside, checkpoints of `thread_id` commit what `events` holds."""
        self._journals[thread_id] = events
        events.journaled = True
        try:
            yield
        finally:
            events.journaled = False
            del self._journals[thread_id]
            self._writes.pop(thread_id, None)

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        events = self._journals.get(thread_id)
        if events is None or not events.holding or any(channel in WRITES_IDX_MAP for channel, _ in writes):
            await super().aput_writes(config, writes, task_id, task_path)
            return
        # Kept without awaiting anything: LangGraph saves the checkpoint in a task started right
        # after this one, which must find the writes here.
        params = self._dump_writes(
            thread_id, configurable["checkpoint_ns"], configurable["checkpoint_id"], task_id, task_path, writes
        )
        self._writes.setdefault(thread_id, []).extend((self.INSERT_CHECKPOINT_WRITES_SQL, row) for row in params)

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        thread_id = str(config["configurable"]["thread_id"])
        events = self._journals.get(thread_id)
        if events is None:
            return await super().aput(config, checkpoint, metadata, new_versions)
        statements, next_config = self._checkpoint_statements(config, checkpoint, metadata, new_versions)
        writes = self._writes.pop(thread_id, [])
        held = await events.commit_held([*writes, *statements])
        if any(entry.required and not written for entry, written in held):
            raise ExecutionCancelled  # a step start was refused: the run was cancelled meanwhile
        return next_config

    def _checkpoint_statements(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> tuple[list[Statement], RunnableConfig]:
        """What `AsyncPostgresSaver.aput` executes for this checkpoint, and the config it returns."""
        configurable = config["configurable"]
        thread_id, checkpoint_ns = configurable["thread_id"], configurable["checkpoint_ns"]
        # Primitive values stay inline in the checkpoint row; the others go to the blobs table.
        inline = dict(checkpoint["channel_values"])
        blobs: dict[str, Any] = {}
        for channel, value in checkpoint["channel_values"].items():
            if isinstance(value, _DeltaSnapshot):
                blobs[channel] = inline.pop(channel)
                inline[channel] = True
            elif not (value is None or isinstance(value, str | int | float | bool)):
                blobs[channel] = inline.pop(channel)
        statements: list[Statement] = []
        if blob_versions := {channel: v for channel, v in new_versions.items() if channel in blobs}:
            rows = self._dump_blobs(thread_id, checkpoint_ns, blobs, blob_versions)
            statements += [(self.UPSERT_CHECKPOINT_BLOBS_SQL, row) for row in rows]
        row = (
            thread_id,
            checkpoint_ns,
            checkpoint["id"],
            configurable.get("checkpoint_id"),
            Jsonb({**checkpoint, "channel_values": inline}),
            Jsonb(get_serializable_checkpoint_metadata(config, metadata)),
        )
        statements.append((self.UPSERT_CHECKPOINTS_SQL, row))
        next_config: RunnableConfig = {
            "configurable": {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns, "checkpoint_id": checkpoint["id"]}
        }
        return statements, next_config
