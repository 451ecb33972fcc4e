"""Who may start a run: the agent's concurrency limit (queue or reject), the org's plan limit,
and approvers hearing about the runs that wait for them."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import psycopg
import pytest

from agentflow.app import create_app
from agentflow.kit.db import libpq_url
from tests.api_fixtures import API, OrgWorld, assert_error, client_for, settings_for, signup, unique
from tests.engine.graphs import definition, edge, node
from tests.executions.flows import FINISHED, approval_flow, execute, published_agent, wait_for

pytestmark = pytest.mark.usefixtures("worker")


def slow_flow(seconds: int = 1) -> dict[str, Any]:
    return definition(
        [
            node("start", "trigger.manual"),
            node("wait", "logic.delay", {"seconds": seconds}),
            node("done", "transform.template", {"template": "done {{trigger.data.n}}"}),
        ],
        [edge("start", "wait"), edge("wait", "done")],
    )


async def start(client: httpx.AsyncClient, headers: dict[str, str], agent_id: str, n: int) -> httpx.Response:
    return await client.post(f"{API}/agents/{agent_id}/execute", headers=headers, json={"input": {"n": n}})


async def test_over_the_limit_a_run_queues_and_starts_when_a_slot_frees(
    wclient: httpx.AsyncClient, wworld: OrgWorld
) -> None:
    headers = wworld.editor.headers
    agent_id = await published_agent(wclient, wworld.editor, slow_flow(), {"concurrency_limit": 1})
    first = await start(wclient, headers, agent_id, 1)
    second = await start(wclient, headers, agent_id, 2)
    assert (first.status_code, first.json()["status"]) == (202, "pending"), first.text
    assert (second.status_code, second.json()["status"]) == (202, "queued"), second.text

    done_first = await wait_for(wclient, headers, first.json()["execution_id"], FINISHED)
    done_second = await wait_for(wclient, headers, second.json()["execution_id"], FINISHED)
    assert done_first["status"] == done_second["status"] == "completed"
    assert done_second["output"] == {"text": "done 2"}
    # The queued run started only after the first one ended.
    assert datetime.fromisoformat(done_second["started_at"]) >= datetime.fromisoformat(done_first["completed_at"])


async def test_cancelling_frees_the_slot_and_a_cancelled_queued_run_never_starts(
    wclient: httpx.AsyncClient, wworld: OrgWorld
) -> None:
    headers = wworld.editor.headers
    agent_id = await published_agent(wclient, wworld.editor, slow_flow(3), {"concurrency_limit": 1})
    running = (await start(wclient, headers, agent_id, 1)).json()["execution_id"]
    dropped = (await start(wclient, headers, agent_id, 2)).json()["execution_id"]
    kept = (await start(wclient, headers, agent_id, 3)).json()["execution_id"]

    cancelled = await wclient.post(f"{API}/executions/{dropped}/cancel", headers=headers)
    assert cancelled.json()["status"] == "cancelled", cancelled.text
    await wait_for(wclient, headers, running, {"running"})
    stopped = await wclient.post(f"{API}/executions/{running}/cancel", headers=headers)
    assert stopped.json()["status"] == "cancelled", stopped.text

    done = await wait_for(wclient, headers, kept, FINISHED, limit=40)
    assert done["status"] == "completed" and done["output"] == {"text": "done 3"}, done
    never = await wclient.get(f"{API}/executions/{dropped}", headers=headers)
    assert never.json()["status"] == "cancelled" and never.json()["started_at"] is None


async def test_an_agent_that_rejects_over_its_limit_answers_429(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    headers = wworld.editor.headers
    agent_id = await published_agent(
        wclient, wworld.editor, slow_flow(), {"concurrency_limit": 1, "on_concurrency_limit": "reject"}
    )
    first = await start(wclient, headers, agent_id, 1)
    assert first.status_code == 202, first.text
    refused = await start(wclient, headers, agent_id, 2)
    body = assert_error(refused, 429, "CONCURRENCY_LIMIT")
    assert body["details"] == {"concurrency_limit": 1}
    listed = await wclient.get(f"{API}/executions", headers=headers, params={"agent_id": agent_id})
    assert [e["id"] for e in listed.json()["items"]] == [first.json()["execution_id"]]  # nothing half-written
    await wait_for(wclient, headers, first.json()["execution_id"], FINISHED)
    after = await start(wclient, headers, agent_id, 3)
    assert after.status_code == 202, after.text


async def test_concurrent_starts_never_exceed_the_limit(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    headers = wworld.editor.headers
    agent_id = await published_agent(wclient, wworld.editor, slow_flow(), {"concurrency_limit": 2})
    responses = await asyncio.gather(*(start(wclient, headers, agent_id, n) for n in range(8)))
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["pending"] * 2 + ["queued"] * 6, statuses
    for response in responses:  # leave the shared worker idle for the next tests
        await wclient.post(f"{API}/executions/{response.json()['execution_id']}/cancel", headers=headers)


async def test_the_plan_limits_runs_per_org(stack: Any) -> None:
    settings = settings_for(stack.env, rate_limit_executions={"starter": "2/minute"})
    application = create_app(settings)
    async with application.router.lifespan_context(application), client_for(application) as client:
        owner = await signup(client)
        agent_id = await published_agent(client, owner, approval_flow())
        key = {**owner.headers, "Idempotency-Key": unique("plan")}
        first = await client.post(f"{API}/agents/{agent_id}/execute", headers=key, json={"input": {}})
        second = await start(client, owner.headers, agent_id, 2)
        assert first.status_code == second.status_code == 202
        # Replaying the first request returns its run and counts against nothing.
        replay = await client.post(f"{API}/agents/{agent_id}/execute", headers=key, json={"input": {}})
        assert replay.json()["execution_id"] == first.json()["execution_id"]
        refused = await start(client, owner.headers, agent_id, 3)
        assert_error(refused, 429, "RATE_LIMITED")
        assert int(refused.headers["Retry-After"]) >= 1
        # The refused run's row (inserted before its org was counted) went with its transaction.
        listed = await client.get(f"{API}/executions", headers=owner.headers, params={"agent_id": agent_id})
        assert sorted(e["id"] for e in listed.json()["items"]) == sorted(
            r.json()["execution_id"] for r in (first, second)
        )
        # Another org has a window of its own.
        other = await signup(client)
        other_agent = await published_agent(client, other, approval_flow())
        assert (await start(client, other.headers, other_agent, 1)).status_code == 202


def outbox(stack: Any, org_id: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(libpq_url(stack.owner_url)) as conn:
        conn.execute("SELECT set_config('app.org_id', %s, false)", (org_id,))
        rows = conn.execute(
            "SELECT to_address, subject, body FROM outbox_emails WHERE org_id = %s ORDER BY to_address", (org_id,)
        ).fetchall()
    return [(str(a), str(s), str(b)) for a, s, b in rows]


async def test_approvers_are_emailed_and_only_members(wclient: httpx.AsyncClient, wworld: OrgWorld, stack: Any) -> None:
    before = {address for address, _, _ in outbox(stack, wworld.org_id)}
    agent_id = await published_agent(
        wclient, wworld.editor, approval_flow(["admin", wworld.viewer.email, "stranger@example.com"])
    )
    execution_id = await execute(wclient, wworld.editor.headers, agent_id, {"name": "Mo"})
    await wait_for(wclient, wworld.editor.headers, execution_id, {"waiting_approval"})
    mails: list[tuple[str, str, str]] = []
    for _ in range(100):
        mails = [m for m in outbox(stack, wworld.org_id) if execution_id in m[2]]
        if mails:
            break
        await asyncio.sleep(0.05)
    # Admins and owners (admin or above); not the editor (outranked), not the viewer named by
    # address (viewers cannot decide), not a stranger.
    expected = sorted([wworld.owner.email, wworld.admin.email])
    assert sorted(address for address, _, _ in mails) == expected, (mails, before)
    _, subject, body = mails[0]
    assert subject.startswith("Approval needed: ")
    assert "Send? Reply to Mo" in body and f"/executions/detail/?id={execution_id}" in body
