"""Durable executions, proven on real processes: a worker killed with SIGKILL mid-run, a full
restart of API, worker and Valkey (with Valkey's data gone) while a run waits for an approval,
the sweeper waking parked runs, timing out approvals and resending runs whose broker message was
lost. The workers here run Celery beat (the sweeper) with a short lease, on their own Valkey
database, so nothing else in the suite sees their tasks."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from agentflow.embedded.valkey import EmbeddedValkey
from agentflow.kit.db import libpq_url
from tests.api_fixtures import API, Account, signup
from tests.engine.graphs import definition, edge, node
from tests.executions.conftest import start_worker, stop_worker
from tests.executions.flows import (
    FINISHED,
    api,
    approval_flow,
    execute,
    published_agent,
    steps_of,
    stored_events,
    wait_for,
)

DURABLE_REDIS_DB = 8
# Short enough that the tests wait seconds, not minutes, for the sweeper to notice a dead worker.
FAST_SWEEPS = {
    "AGENTFLOW_EXECUTION_LEASE_SECONDS": "2",
    "AGENTFLOW_EXECUTION_SWEEP_INTERVAL_SECONDS": "0.5",
    "AGENTFLOW_EXECUTION_IN_PROCESS_DELAY_SECONDS": "1",
    "AGENTFLOW_SCHEDULE_TICK_SECONDS": "0.5",
}


def durable_env(stack: Any, redis_url: str | None = None) -> dict[str, str]:
    base, _, _ = (redis_url or stack.redis_url).rpartition("/")
    return {**stack.env, **FAST_SWEEPS, "AGENTFLOW_REDIS_URL": f"{base}/{DURABLE_REDIS_DB}"}


def owner_execute(stack: Any, sql: str, params: tuple[Any, ...]) -> None:
    """Stand-in for time passing or a message getting lost: what no API call can do."""
    with psycopg.connect(libpq_url(stack.owner_url), autocommit=True) as conn:
        conn.execute(sql, params)


@pytest.fixture(scope="module")
def sweeping_worker(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    env = durable_env(stack)
    process = start_worker(env, tmp_path_factory.mktemp("sweeping") / "worker.log", name="sweeping", beat=True)
    try:
        yield env
    finally:
        stop_worker(process)


def by_node(steps: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for step in steps:
        grouped.setdefault(step["node_key"], []).append(step)
    return grouped


async def wait_for_step(
    client: httpx.AsyncClient, account: Account, execution_id: str, node_key: str, status: str, limit: float = 30
) -> None:
    deadline = time.monotonic() + limit
    while True:
        steps = await steps_of(client, account.headers, execution_id)
        if any(s["node_key"] == node_key and s["status"] == status for s in steps):
            return
        assert time.monotonic() < deadline, steps
        await asyncio.sleep(0.05)


async def test_a_run_survives_its_worker_being_killed(stack: Any, tmp_path: Path) -> None:
    env = durable_env(stack)
    graph = definition(
        [
            node("start", "trigger.manual"),
            node("fetch", "transform.template", {"template": "order {{trigger.data.order}}"}),
            node("enrich", "transform.template", {"template": "{{fetch.output.text}} enriched"}),
            node("slow", "logic.delay", {"seconds": 1}),
            node("finish", "transform.template", {"template": "{{enrich.output.text}} done"}),
        ],
        [edge("start", "fetch"), edge("fetch", "enrich"), edge("enrich", "slow"), edge("slow", "finish")],
    )
    first = start_worker(env, tmp_path / "first.log", name="first", beat=True)
    second = None
    try:
        async with api(env) as client:
            account = await signup(client)
            agent_id = await published_agent(client, account, graph)
            execution_id = await execute(client, account.headers, agent_id, {"order": 42})
            await wait_for_step(client, account, execution_id, "slow", "running")

            stop_worker(first, kill=True)  # SIGKILL mid-node: no goodbye, no ack, no cleanup
            second = start_worker(env, tmp_path / "second.log", name="second", beat=True)

            done = await wait_for(client, account.headers, execution_id, FINISHED, limit=60)
            assert done["status"] == "completed", done
            assert done["output"] == {"text": "order 42 enriched done"}
            steps = by_node(await steps_of(client, account.headers, execution_id))
            # What finished before the kill ran exactly once; its rows keep attempt 1.
            for key in ("start", "fetch", "enrich"):
                assert [(s["status"], s["attempt"]) for s in steps[key]] == [("completed", 1)], steps[key]
            # The node the worker died in is marked interrupted and ran again, once.
            assert [s["status"] for s in steps["slow"]] == ["interrupted", "completed"], steps["slow"]
            assert "worker running this step stopped" in (steps["slow"][0]["error_message"] or "")
            assert [s["status"] for s in steps["finish"]] == ["completed"]
            kinds = [kind for _, kind in stored_events(stack, account.org_id, execution_id)]
            assert kinds.count("execution.started") == 1 and kinds[-1] == "execution.completed", kinds
    finally:
        stop_worker(first, kill=True)
        if second is not None:
            stop_worker(second)


async def test_an_approval_survives_a_full_restart(stack: Any, tmp_path: Path) -> None:
    """API, worker and Valkey all stop (Valkey's data is deleted, too); the run waiting for an
    approval is still there afterwards, and approving it finishes it."""
    valkey = EmbeddedValkey(tmp_path / "before")
    valkey.start()
    worker = None
    try:
        env = durable_env(stack, valkey.url)
        worker = start_worker(env, tmp_path / "before.log", name="before", beat=True)
        async with api(env) as client:
            account = await signup(client)
            agent_id = await published_agent(client, account, approval_flow(["owner"]))
            execution_id = await execute(client, account.headers, agent_id, {"name": "Ann"})
            waiting = await wait_for(client, account.headers, execution_id, FINISHED | {"waiting_approval"})
            assert waiting["status"] == "waiting_approval", waiting
        stop_worker(worker, kill=True)
        valkey.stop()
        shutil.rmtree(tmp_path / "before")

        valkey = EmbeddedValkey(tmp_path / "after")
        valkey.start()
        env = durable_env(stack, valkey.url)
        worker = start_worker(env, tmp_path / "after.log", name="after", beat=True)
        async with api(env) as client:
            pending = await client.get(f"{API}/executions/pending-approvals", headers=account.headers)
            assert execution_id in [e["id"] for e in pending.json()["items"]]
            decided = await client.post(
                f"{API}/executions/{execution_id}/approve", headers=account.headers, json={"decision": "approve"}
            )
            assert decided.status_code == 200, decided.text
            done = await wait_for(client, account.headers, execution_id, FINISHED)
            assert done["status"] == "completed", done
            steps = await steps_of(client, account.headers, execution_id)
            assert [s["node_key"] for s in steps] == ["start", "draft", "review", "send"]
            assert all(s["attempt"] == 1 and s["status"] == "completed" for s in steps), steps
            # The event sequence carried on after Valkey forgot its counter.
            seqs = [seq for seq, _ in stored_events(stack, account.org_id, execution_id)]
            assert seqs == list(range(1, len(seqs) + 1)), seqs
    finally:
        if worker is not None:
            stop_worker(worker)
        valkey.stop()


async def test_an_unanswered_approval_times_out(stack: Any, sweeping_worker: dict[str, str]) -> None:
    graph = approval_flow(["admin"])
    graph["nodes"].append(node("expired", "transform.template", {"template": "nobody answered"}))
    graph["edges"].append(edge("review", "expired", "timed_out"))
    async with api(sweeping_worker) as client:
        account = await signup(client)
        agent_id = await published_agent(client, account, graph)
        execution_id = await execute(client, account.headers, agent_id, {"name": "Tim"})
        waiting = await wait_for(client, account.headers, execution_id, FINISHED | {"waiting_approval"})
        assert waiting["status"] == "waiting_approval", waiting
        # The node's default timeout, 72 hours, is scheduled.
        left = datetime.fromisoformat(waiting["wake_at"]) - datetime.now(UTC)
        assert timedelta(hours=71) < left <= timedelta(hours=72), waiting

        # 72 hours pass.
        owner_execute(
            stack, "UPDATE executions SET wake_at = now() - interval '1 second' WHERE id = %s", (execution_id,)
        )
        done = await wait_for(client, account.headers, execution_id, FINISHED)
        assert done["status"] == "completed", done
        steps = await steps_of(client, account.headers, execution_id)
        assert [s["node_key"] for s in steps] == ["start", "draft", "review", "expired"]
        assert steps[2]["output"]["decision"] == "timeout"
        late = await client.post(
            f"{API}/executions/{execution_id}/approve", headers=account.headers, json={"decision": "approve"}
        )
        assert late.status_code == 409


async def test_a_long_delay_parks_the_run_and_the_sweeper_wakes_it(stack: Any, sweeping_worker: dict[str, str]) -> None:
    graph = definition(
        [
            node("start", "trigger.manual"),
            node("wait", "logic.delay", {"seconds": 3}),
            node("after", "transform.template", {"template": "woke up"}),
        ],
        [edge("start", "wait"), edge("wait", "after")],
    )
    async with api(sweeping_worker) as client:
        account = await signup(client)
        agent_id = await published_agent(client, account, graph)
        execution_id = await execute(client, account.headers, agent_id, {})
        parked = await wait_for(client, account.headers, execution_id, FINISHED | {"parked"})
        assert parked["status"] == "parked" and parked["wake_at"], parked
        done = await wait_for(client, account.headers, execution_id, FINISHED)
        assert done["status"] == "completed" and done["output"] == {"text": "woke up"}, done
        steps = by_node(await steps_of(client, account.headers, execution_id))
        assert [s["status"] for s in steps["wait"]] == ["completed"]
        assert steps["wait"][0]["output"]["parked"] is True
        kinds = [kind for _, kind in stored_events(stack, account.org_id, execution_id)]
        assert "execution.parked" in kinds and kinds[-1] == "execution.completed", kinds


async def test_a_run_whose_task_was_lost_is_sent_again(stack: Any, sweeping_worker: dict[str, str]) -> None:
    # An API whose broker no worker listens to: the run is committed, its task goes nowhere.
    base, _, _ = stack.redis_url.rpartition("/")
    lost = {**sweeping_worker, "AGENTFLOW_REDIS_URL": f"{base}/{DURABLE_REDIS_DB + 1}"}
    async with api(lost) as client:
        account = await signup(client)
        agent_id = await published_agent(client, account, approval_flow(["owner"]))
        execution_id = await execute(client, account.headers, agent_id, {"name": "Lou"})
    async with api(sweeping_worker) as client:
        await asyncio.sleep(1)
        still = await client.get(f"{API}/executions/{execution_id}", headers=account.headers)
        assert still.json()["status"] == "pending", still.json()
        owner_execute(
            stack, "UPDATE executions SET enqueued_at = now() - interval '1 hour' WHERE id = %s", (execution_id,)
        )
        waiting = await wait_for(client, account.headers, execution_id, FINISHED | {"waiting_approval"})
        assert waiting["status"] == "waiting_approval", waiting


async def test_beat_fires_a_due_schedule(stack: Any, sweeping_worker: dict[str, str]) -> None:
    graph = definition(
        [
            node("tick", "trigger.schedule", {"cron": "0 9 * * *", "timezone": "UTC"}),
            node("note", "transform.template", {"template": "fired for {{trigger.data.scheduled_for}}"}),
        ],
        [edge("tick", "note")],
    )
    async with api(sweeping_worker) as client:
        account = await signup(client)
        agent_id = await published_agent(client, account, graph)
        # Nine o'clock comes (the schedule's row says so; beat reads nothing else).
        owner_execute(
            stack,
            "UPDATE agent_triggers SET next_fire_at = now() - interval '1 second' WHERE agent_id = %s",
            (agent_id,),
        )
        deadline = time.monotonic() + 30
        while True:
            listed = await client.get(f"{API}/executions", headers=account.headers, params={"agent_id": agent_id})
            items = listed.json()["items"]
            if items:
                break
            assert time.monotonic() < deadline, "the schedule never fired"
            await asyncio.sleep(0.1)
        assert len(items) == 1 and items[0]["triggered_by"] == "schedule"
        done = await wait_for(client, account.headers, items[0]["id"], FINISHED)
        assert done["status"] == "completed", done
