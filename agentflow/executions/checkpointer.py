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

The SQL is the library's: `aput` runs as usual against a cursor that only keeps what it executes
(`_Recording`), and those statements are committed with the held entries. Only writes to regular
channels are kept for the checkpoint, and only while entries are held (a node alone in its
superstep, so the checkpoint is next); interrupts, errors and the writes of parallel nodes are
saved at once, as LangGraph expects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import WRITES_IDX_MAP, ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncCursor
from psycopg.rows import DictRow

from agentflow.engine.runtime import ExecutionCancelled
from agentflow.executions.events import RedisEventSink
from agentflow.executions.statements import Statement


class _Recording:
    """Stands in for the cursor `AsyncPostgresSaver.aput` writes through, keeping the statements."""

    def __init__(self) -> None:
        self.statements: list[Statement] = []

    async def execute(self, query: str, params: Sequence[Any] = ()) -> None:
        self.statements.append((query, params))

    async def executemany(self, query: str, params_seq: Sequence[Sequence[Any]]) -> None:
        self.statements.extend((query, params) for params in params_seq)


_recording: ContextVar[_Recording | None] = ContextVar("agentflow_checkpoint_recording", default=None)


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
        recording = _Recording()
        token = _recording.set(recording)
        try:
            next_config = await super().aput(config, checkpoint, metadata, new_versions)
        finally:
            _recording.reset(token)
        writes = self._writes.pop(thread_id, [])
        held = await events.commit_held([*writes, *recording.statements])
        if any(entry.required and not written for entry, written in held):
            raise ExecutionCancelled  # a step start was refused: the run was cancelled meanwhile
        return next_config

    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[AsyncCursor[DictRow]]:
        recording = _recording.get()
        if recording is not None:
            yield recording  # type: ignore[misc]  # only execute/executemany are used by aput
            return
        async with super()._cursor(pipeline=pipeline) as cursor:
            yield cursor
