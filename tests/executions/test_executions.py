"""Executions end to end: the API enqueues, a real Celery worker runs the engine (offline
`scripted-echo` model), and the API shows the outcome, the steps, the logs and the events."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from agentflow.kit.db import libpq_url
from tests.api_fixtures import API, OrgWorld, assert_error, make_org_world, unique
from tests.engine.graphs import definition, edge, node
from tests.executions.flows import (
    FINISHED,
    approval_flow,
    chat_flow,
    execute,
    published_agent,
    steps_of,
    stored_events,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("worker")


async def test_a_run_completes_with_steps_logs_and_events(
    wclient: httpx.AsyncClient, wworld: OrgWorld, stack: Any
) -> None:
    agent_id = await published_agent(wclient, wworld.editor, chat_flow())
    execution_id = await execute(wclient, wworld.editor.headers, agent_id, {"name": "Ada"})
    done = await wait_for(wclient, wworld.viewer.headers, execution_id, FINISHED)
    assert done["status"] == "completed", (done["error_message"], done)
    assert done["triggered_by"] == "manual" and done["trigger_data"] == {"name": "Ada"}
    assert done["agent_version"] == 1 and done["started_at"] and done["completed_at"]
    assert done["output"]["model"] == "scripted-echo", done["output"]
    assert "Hello Ada" in str(done["output"])
    assert done["total_tokens"] > 0

    steps = await steps_of(wclient, wworld.viewer.headers, execution_id)
    assert [s["node_key"] for s in steps] == ["start", "greet", "chat"]
    assert all(s["status"] == "completed" and s["attempt"] == 1 for s in steps), steps
    assert [s["step_order"] for s in steps] == [1, 2, 3]
    chat = steps[2]
    assert chat["tokens_used"] > 0 and chat["duration_ms"] is not None
    assert sum(s["tokens_used"] for s in steps) == done["total_tokens"]
    assert steps[1]["output"]["text"] == "Hello Ada"

    logs = await wclient.get(f"{API}/executions/{execution_id}/logs", headers=wworld.viewer.headers)
    assert logs.status_code == 200, logs.text
    assert isinstance(logs.json()["items"], list)

    events = stored_events(stack, wworld.org_id, execution_id)
    assert [seq for seq, _ in events] == list(range(1, len(events) + 1))
    kinds = [kind for _, kind in events]
    assert kinds[0] == "execution.started" and kinds[-1] == "execution.completed"
    assert kinds.count("step.completed") == 3

    listed = await wclient.get(
        f"{API}/executions", headers=wworld.viewer.headers, params={"agent_id": agent_id, "status": "completed"}
    )
    assert [e["id"] for e in listed.json()["items"]] == [execution_id]
    assert (
        await wclient.get(
            f"{API}/executions", headers=wworld.viewer.headers, params={"triggered_by": "api", "agent_id": agent_id}
        )
    ).json()["items"] == []


async def test_an_api_key_run_is_triggered_by_api(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    agent_id = await published_agent(wclient, wworld.editor, chat_flow())
    headers = {"X-API-Key": wworld.api_key}
    execution_id = await execute(wclient, headers, agent_id, {"name": "Key"})
    done = await wait_for(wclient, headers, execution_id, FINISHED)
    assert done["status"] == "completed" and done["triggered_by"] == "api"


async def test_viewers_cannot_execute_and_drafts_do_not_run(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    agent_id = await published_agent(wclient, wworld.editor, chat_flow())
    refused = await wclient.post(f"{API}/agents/{agent_id}/execute", headers=wworld.viewer.headers, json={"input": {}})
    assert_error(refused, 403, "FORBIDDEN")
    draft = await wclient.post(
        f"{API}/agents", headers=wworld.editor.headers, json={"name": unique("draft"), "definition": chat_flow()}
    )
    not_runnable = await wclient.post(
        f"{API}/agents/{draft.json()['id']}/execute", headers=wworld.editor.headers, json={"input": {}}
    )
    assert_error(not_runnable, 409, "AGENT_NOT_RUNNABLE")
    missing = await wclient.post(
        f"{API}/agents/{agent_id}/execute", headers=wworld.editor.headers, json={"input": {}, "version": 9}
    )
    assert_error(missing, 404, "VERSION_NOT_FOUND")


async def test_trigger_data_json_cannot_hold_is_refused(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    agent_id = await published_agent(wclient, wworld.editor, chat_flow())
    headers = {**wworld.editor.headers, "content-type": "application/json"}
    for body in (b'{"input": {"n": 100000000000000000000}}', b'{"input": {"deep": [[-9223372036854775809]]}}'):
        refused = await wclient.post(f"{API}/agents/{agent_id}/execute", headers=headers, content=body)
        assert "64 bits" in str(assert_error(refused, 422, "VALIDATION_ERROR")["details"])
    draft = await wclient.post(
        f"{API}/agents", headers=wworld.editor.headers, json={"name": unique("draft"), "definition": chat_flow()}
    )
    pinned = b'{"pinned_outputs": {"chat": {"output": {"n": 100000000000000000000}}}}'
    test_run = await wclient.post(f"{API}/agents/{draft.json()['id']}/test", headers=headers, content=pinned)
    assert_error(test_run, 422, "VALIDATION_ERROR")
    listed = await wclient.get(f"{API}/executions", headers=wworld.editor.headers, params={"agent_id": agent_id})
    assert listed.json()["items"] == []
    largest = b'{"input": {"name": "Ada", "n": 9223372036854775807}}'
    accepted = await wclient.post(f"{API}/agents/{agent_id}/execute", headers=headers, content=largest)
    assert accepted.status_code == 202, accepted.text
    done = await wait_for(wclient, wworld.editor.headers, accepted.json()["execution_id"], FINISHED)
    assert done["status"] == "completed" and done["trigger_data"] == {"name": "Ada", "n": 2**63 - 1}


@pytest.mark.parametrize(("decision", "branch"), [("approve", "send"), ("reject", "discard")])
async def test_approval_through_the_api(
    wclient: httpx.AsyncClient, wworld: OrgWorld, decision: str, branch: str
) -> None:
    agent_id = await published_agent(wclient, wworld.editor, approval_flow())
    execution_id = await execute(wclient, wworld.editor.headers, agent_id, {"name": "Bo"})
    waiting = await wait_for(wclient, wworld.owner.headers, execution_id, FINISHED | {"waiting_approval"})
    assert waiting["status"] == "waiting_approval", waiting
    assert waiting["approval"]["message"] == "Send? Reply to Bo"
    approval = waiting["approval"]
    assert approval["requested_at"] <= time.time() and approval["expires_at"] > approval["requested_at"]

    # Listed for an admin; not for the editor, who is no approver.
    pending = await wclient.get(f"{API}/executions/pending-approvals", headers=wworld.admin.headers)
    assert execution_id in [e["id"] for e in pending.json()["items"]]
    editor_pending = await wclient.get(f"{API}/executions/pending-approvals", headers=wworld.editor.headers)
    assert execution_id not in [e["id"] for e in editor_pending.json()["items"]]
    not_approver = await wclient.post(
        f"{API}/executions/{execution_id}/approve", headers=wworld.editor.headers, json={"decision": decision}
    )
    assert_error(not_approver, 403, "NOT_AN_APPROVER")
    by_key = await wclient.post(
        f"{API}/executions/{execution_id}/approve", headers={"X-API-Key": wworld.api_key}, json={"decision": decision}
    )
    assert_error(by_key, 403, "USER_REQUIRED")

    # Two decisions at once: one wins, the other gets 409.
    first, second = await asyncio.gather(
        wclient.post(
            f"{API}/executions/{execution_id}/approve",
            headers=wworld.admin.headers,
            json={"decision": decision, "comment": "ok"},
        ),
        wclient.post(
            f"{API}/executions/{execution_id}/approve", headers=wworld.owner.headers, json={"decision": decision}
        ),
    )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 409], (first.text, second.text)
    assert_error(first if first.status_code == 409 else second, 409, "NOT_WAITING_APPROVAL")

    done = await wait_for(wclient, wworld.owner.headers, execution_id, FINISHED)
    assert done["status"] == "completed", (done["error_message"], done)
    steps = await steps_of(wclient, wworld.owner.headers, execution_id)
    assert [s["node_key"] for s in steps] == ["start", "draft", "review", branch]
    assert steps[2]["status"] == "completed"


async def test_cancel_a_waiting_execution(wclient: httpx.AsyncClient, wworld: OrgWorld, stack: Any) -> None:
    agent_id = await published_agent(wclient, wworld.editor, approval_flow())
    execution_id = await execute(wclient, wworld.editor.headers, agent_id, {"name": "Cy"})
    await wait_for(wclient, wworld.editor.headers, execution_id, {"waiting_approval"})
    cancelled = await wclient.post(f"{API}/executions/{execution_id}/cancel", headers=wworld.editor.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = await wclient.post(f"{API}/executions/{execution_id}/cancel", headers=wworld.editor.headers)
    assert_error(again, 409, "EXECUTION_FINISHED")
    late = await wclient.post(
        f"{API}/executions/{execution_id}/approve", headers=wworld.owner.headers, json={"decision": "approve"}
    )
    assert_error(late, 409, "NOT_WAITING_APPROVAL")
    steps = await steps_of(wclient, wworld.editor.headers, execution_id)
    assert steps[-1]["node_key"] == "review" and steps[-1]["status"] == "cancelled"
    kinds = [kind for _, kind in stored_events(stack, wworld.org_id, execution_id)]
    assert kinds[-1] == "execution.cancelled"


async def test_idempotency_key(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    agent_id = await published_agent(wclient, wworld.editor, chat_flow())
    key = {"Idempotency-Key": unique("idem"), **wworld.editor.headers}
    first = await wclient.post(f"{API}/agents/{agent_id}/execute", headers=key, json={"input": {"name": "Ida"}})
    second = await wclient.post(f"{API}/agents/{agent_id}/execute", headers=key, json={"input": {"name": "Ida"}})
    assert first.status_code == second.status_code == 202, (first.text, second.text)
    assert first.json()["execution_id"] == second.json()["execution_id"]
    different = await wclient.post(f"{API}/agents/{agent_id}/execute", headers=key, json={"input": {"name": "Eve"}})
    assert_error(different, 422, "IDEMPOTENCY_KEY_REUSED")
    await wait_for(wclient, wworld.editor.headers, first.json()["execution_id"], FINISHED)
    listed = await wclient.get(f"{API}/executions", headers=wworld.editor.headers, params={"agent_id": agent_id})
    assert len(listed.json()["items"]) == 1


async def test_starting_a_run_leaves_the_agents_draft_unread(
    wclient: httpx.AsyncClient, wworld: OrgWorld, worker_app: FastAPI
) -> None:
    """A run uses the published version; the draft (often the agent's largest column) stays in
    the database. Every statement the app's engine sends while starting the run is checked."""
    agent_id = await published_agent(wclient, wworld.editor, chat_flow())
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = worker_app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        execution_id = await execute(wclient, wworld.editor.headers, agent_id, {"name": "Ada"})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert any("FROM agents" in statement for statement in statements), statements  # the agent was read
    assert not any("draft_definition" in statement for statement in statements), statements
    done = await wait_for(wclient, wworld.editor.headers, execution_id, FINISHED)
    assert done["status"] == "completed", done


async def test_another_orgs_execution_is_not_found(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    agent_id = await published_agent(wclient, wworld.editor, chat_flow())
    execution_id = await execute(wclient, wworld.editor.headers, agent_id, {"name": "Secret"})
    other = await make_org_world(wclient)
    for suffix in ("", "/steps", "/logs"):
        assert_error(await wclient.get(f"{API}/executions/{execution_id}{suffix}", headers=other.owner.headers), 404)
    assert_error(await wclient.post(f"{API}/executions/{execution_id}/cancel", headers=other.owner.headers), 404)
    listed = await wclient.get(f"{API}/executions", headers=other.owner.headers)
    assert listed.json()["items"] == []
    assert_error(
        await wclient.get(f"{API}/executions/{uuid.uuid4()}", headers=other.owner.headers), 404, "EXECUTION_NOT_FOUND"
    )


def test_the_worker_is_alive(worker: subprocess.Popen[bytes]) -> None:
    assert worker.poll() is None


async def test_cancel_stops_a_running_execution_mid_node(
    wclient: httpx.AsyncClient, wworld: OrgWorld, stack: Any
) -> None:
    graph = definition(
        [
            node("start", "trigger.manual"),
            node("wait", "logic.delay", {"seconds": 25}),
            node("after", "transform.template", {"template": "should not run"}),
        ],
        [edge("start", "wait"), edge("wait", "after")],
    )
    agent_id = await published_agent(wclient, wworld.editor, graph)
    execution_id = await execute(wclient, wworld.editor.headers, agent_id, {})
    await wait_for(wclient, wworld.editor.headers, execution_id, {"running"})
    for _ in range(200):
        if "wait" in [s["node_key"] for s in await steps_of(wclient, wworld.editor.headers, execution_id)]:
            break
        await asyncio.sleep(0.05)
    cancelled = await wclient.post(f"{API}/executions/{execution_id}/cancel", headers=wworld.editor.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    # The 25 s wait in flight is abandoned within a poll or two, not at its end.
    started = time.monotonic()
    while "execution.cancelled" not in [kind for _, kind in stored_events(stack, wworld.org_id, execution_id)]:
        assert time.monotonic() - started < 10, stored_events(stack, wworld.org_id, execution_id)
        await asyncio.sleep(0.1)
    steps = await steps_of(wclient, wworld.editor.headers, execution_id)
    assert [(s["node_key"], s["status"]) for s in steps] == [("start", "completed"), ("wait", "cancelled")], steps
    final = await wclient.get(f"{API}/executions/{execution_id}", headers=wworld.editor.headers)
    assert final.json()["status"] == "cancelled"


async def test_the_outcome_event_comes_after_the_outcome_is_stored(
    wclient: httpx.AsyncClient, wworld: OrgWorld, stack: Any
) -> None:
    """A client that reloads the execution when `execution.completed` arrives must see it completed."""
    agent_id = await published_agent(wclient, wworld.editor, chat_flow())
    execution_id = await execute(wclient, wworld.editor.headers, agent_id, {"name": "Ord"})
    done = await wait_for(wclient, wworld.editor.headers, execution_id, FINISHED)
    assert done["status"] == "completed", done
    with psycopg.connect(libpq_url(stack.owner_url)) as conn:
        conn.execute("SELECT set_config('app.org_id', %s, false)", (wworld.org_id,))
        row = conn.execute(
            "SELECT e.created_at >= x.completed_at FROM execution_events e JOIN executions x ON x.id = e.execution_id "
            "WHERE e.execution_id = %s AND e.type = 'execution.completed'",
            (execution_id,),
        ).fetchone()
    assert row is not None and row[0] is True, row
