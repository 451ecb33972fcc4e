"""A node's journal commits with its checkpoint (`JournaledPostgresSaver`): the worker's own task
code (`tasks._run`: claim, run, record) in this process, on the test stack's PostgreSQL and Valkey.

Failures and cancellations are made to happen at exactly the moment under test by triggers that
the schema owner adds for one execution only, so nothing here depends on timing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import psycopg
import pytest
import pytest_asyncio
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from agentflow.executions import tasks
from agentflow.kit.db import libpq_url
from agentflow.settings import Settings
from tests.api_fixtures import OrgWorld
from tests.engine.graphs import definition, edge, node
from tests.executions.flows import execute, published_agent, stored_events

CHAIN = definition(
    [
        node("start", "trigger.manual"),
        node("a", "transform.template", {"template": "one"}),
        node("b", "transform.template", {"template": "{{a.output.text}} two"}),
        node("c", "transform.template", {"template": "{{b.output.text}} three"}),
    ],
    [edge("start", "a"), edge("a", "b"), edge("b", "c")],
)


@pytest_asyncio.fixture
async def worker_resources(app_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """The task's per-process resources, opened on this test's event loop."""
    resources = await tasks.open_resources(app_settings)
    monkeypatch.setattr(tasks, "_resources", resources)
    try:
        yield
    finally:
        await resources.pool.close()
        await resources.redis.aclose()
        await resources.db.dispose()


@contextmanager
def owner_trigger(stack: Any, table: str, timing: str, condition: str, action: str) -> Iterator[None]:
    """A row trigger on `table` that runs `action` (PL/pgSQL) when `condition` holds, while inside."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(stack.owner_url), autocommit=True) as conn:
        conn.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF {condition} THEN {action}; END IF; RETURN NEW; END $$"
        )
        conn.execute(f"CREATE TRIGGER {name} {timing} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
        try:
            yield
        finally:
            conn.execute(f"DROP TRIGGER {name} ON {table}")
            conn.execute(f"DROP FUNCTION {name}()")


def steps(stack: Any, org_id: str, execution_id: str) -> list[tuple[str, str]]:
    """(node, status) of each step row, in order."""
    with psycopg.connect(libpq_url(stack.owner_url)) as conn:
        conn.execute("SELECT set_config('app.org_id', %s, false)", (org_id,))
        rows = conn.execute(
            "SELECT node_key, status FROM execution_steps WHERE execution_id = %s ORDER BY step_order",
            (execution_id,),
        ).fetchall()
    return [(str(key), str(status)) for key, status in rows]


def task_writes(stack: Any, execution_id: str) -> int:
    """Tasks whose writes LangGraph saved for this run."""
    with psycopg.connect(libpq_url(stack.owner_url)) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT task_id) FROM checkpoint_writes WHERE thread_id = %s", (execution_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


async def pending_chain_run(client: httpx.AsyncClient, world: OrgWorld) -> str:
    """An execution of CHAIN, pending: this app has no worker, the test runs the task itself."""
    agent_id = await published_agent(client, world.owner, CHAIN)
    return await execute(client, world.owner.headers, agent_id, {})


async def run_task(world: OrgWorld, execution_id: str) -> str:
    return await tasks._run(uuid.UUID(execution_id), uuid.UUID(world.org_id), owner="journal-test", final_attempt=False)


async def test_a_chain_commits_every_step_event_and_write(
    client: httpx.AsyncClient, world: OrgWorld, stack: Any, worker_resources: None
) -> None:
    execution_id = await pending_chain_run(client, world)

    assert await run_task(world, execution_id) == "completed"

    assert steps(stack, world.org_id, execution_id) == [
        ("start", "completed"),
        ("a", "completed"),
        ("b", "completed"),
        ("c", "completed"),
    ]
    events = stored_events(stack, world.org_id, execution_id)
    assert [seq for seq, _ in events] == list(range(1, len(events) + 1))
    per_node = [kind for node_id in ("start", "a", "b", "c") for kind in ("step.started", "step.completed")]
    assert [kind for _, kind in events] == ["execution.started", *per_node, "execution.completed"]
    # The writes held for each checkpoint were committed with it, not dropped.
    assert task_writes(stack, execution_id) >= 4


async def test_a_failed_checkpoint_takes_the_nodes_finish_with_it_and_the_rerun_completes(
    client: httpx.AsyncClient, world: OrgWorld, stack: Any, worker_resources: None
) -> None:
    execution_id = await pending_chain_run(client, world)

    # The checkpoint saved after b ran cannot be written (the database is failing).
    refuse_b = f"NEW.thread_id = '{execution_id}' AND NEW.checkpoint -> 'versions_seen' ? 'b'"
    with (
        owner_trigger(stack, "checkpoints", "BEFORE INSERT", refuse_b, "RAISE EXCEPTION 'disk full'"),
        pytest.raises(psycopg.errors.RaiseException),
    ):
        await run_task(world, execution_id)

    # b's finish and c's start went down with the checkpoint: b is still running, as after a
    # crash mid-node, rather than completed while its result is lost.
    assert steps(stack, world.org_id, execution_id) == [
        ("start", "completed"),
        ("a", "completed"),
        ("b", "running"),
    ]
    assert stored_events(stack, world.org_id, execution_id)[-1][1] == "step.started"

    # The task's retry continues from a's checkpoint: b runs again, a does not.
    assert await run_task(world, execution_id) == "completed"
    assert steps(stack, world.org_id, execution_id) == [
        ("start", "completed"),
        ("a", "completed"),
        ("b", "interrupted"),
        ("b", "completed"),
        ("c", "completed"),
    ]
    outputs = await client.get(f"/api/v1/executions/{execution_id}", headers=world.owner.headers)
    assert outputs.json()["output"] == {"text": "one two three"}


async def test_a_cancel_as_a_node_finishes_stops_the_run_before_the_next_node(
    client: httpx.AsyncClient, world: OrgWorld, stack: Any, worker_resources: None
) -> None:
    execution_id = await pending_chain_run(client, world)

    # The user cancels in the very transaction that records a's finish: b's start, committed
    # with the same checkpoint, is refused there.
    a_finished = f"NEW.execution_id = '{execution_id}' AND NEW.node_key = 'a' AND NEW.status = 'completed'"
    cancel = f"UPDATE executions SET status = 'cancelled' WHERE id = '{execution_id}'"
    with owner_trigger(stack, "execution_steps", "AFTER UPDATE", a_finished, cancel):
        assert await run_task(world, execution_id) == "cancelled"

    assert steps(stack, world.org_id, execution_id) == [("start", "completed"), ("a", "completed")]
    kinds = [kind for _, kind in stored_events(stack, world.org_id, execution_id)]
    assert kinds[-1] == "execution.cancelled"
    assert kinds.count("step.started") == 2


async def test_a_run_cancelled_as_it_is_claimed_runs_no_node(
    client: httpx.AsyncClient, world: OrgWorld, stack: Any, worker_resources: None
) -> None:
    execution_id = await pending_chain_run(client, world)

    # The user cancels just as the worker claims the run: its first step is refused, and the
    # `execution.started` held for the input checkpoint is still stored, before the cancellation.
    claimed = f"NEW.id = '{execution_id}' AND NEW.status = 'running'"
    with owner_trigger(stack, "executions", "BEFORE UPDATE", claimed, "NEW.status := 'cancelled'"):
        assert await run_task(world, execution_id) == "cancelled"

    assert steps(stack, world.org_id, execution_id) == []
    kinds = [kind for _, kind in stored_events(stack, world.org_id, execution_id)]
    assert kinds == ["execution.started", "execution.cancelled"]


class _RecordingCursor:
    """Stands in for the cursor `AsyncPostgresSaver.aput` writes through, keeping what it runs."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    async def execute(self, query: str, params: Any = ()) -> None:
        self.statements.append((query, params))

    async def executemany(self, query: str, params_seq: Any) -> None:
        self.statements.extend((query, params) for params in params_seq)


def _comparable(statements: list[tuple[str, Any]]) -> list[tuple[str, list[Any]]]:
    return [(sql, [getattr(value, "obj", value) for value in params]) for sql, params in statements]


async def test_a_journaled_checkpoint_is_written_as_the_library_writes_it(
    worker_resources: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tasks._resources is not None
    saver = tasks._resources.checkpointer
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {
        "sched": {"ready": {"b": {"frame": [], "inputs": ["a"]}}},
        "out:a": {"text": "one"},
        "out:b": "inline text",
        "count": 3,
        "nothing": None,
        "completions": [],
    }
    checkpoint["channel_versions"] = {name: f"0000{i}.0.1" for i, name in enumerate(checkpoint["channel_values"])}
    new_versions = {"sched": "00000.0.1", "out:a": "00001.0.1", "out:b": "00002.0.1"}
    config: Any = {"configurable": {"thread_id": str(uuid.uuid4()), "checkpoint_ns": "", "checkpoint_id": "parent"}}
    metadata: Any = {"source": "loop", "step": 3, "parents": {}}

    recording = _RecordingCursor()

    @asynccontextmanager
    async def recording_cursor(*, pipeline: bool = False) -> AsyncIterator[_RecordingCursor]:
        yield recording

    monkeypatch.setattr(saver, "_cursor", recording_cursor)
    library_config = await AsyncPostgresSaver.aput(saver, config, checkpoint, metadata, new_versions)
    ours, our_config = saver._checkpoint_statements(config, checkpoint, metadata, new_versions)

    assert _comparable(ours) == _comparable(recording.statements)
    assert our_config == library_config
    assert len(ours) == 3  # two blobs (sched, out:a), the checkpoint row
