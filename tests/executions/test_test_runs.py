"""Dry runs (`POST /agents/{id}/test`): the draft runs on a real worker, marked `is_test`, not
billed; pinned outputs stand in for nodes with real side effects."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from agentflow.kit.db import libpq_url
from tests.api_fixtures import API, Account, OrgWorld, assert_error, unique
from tests.engine.graphs import definition, edge, node
from tests.executions.flows import FINISHED, chat_flow, steps_of, wait_for

pytestmark = pytest.mark.usefixtures("worker")


async def draft_agent(client: httpx.AsyncClient, account: Account, graph: dict[str, Any]) -> str:
    created = await client.post(
        f"{API}/agents", headers=account.headers, json={"name": unique("draft"), "definition": graph}
    )
    assert created.status_code == 201, created.text
    agent_id: str = created.json()["id"]
    return agent_id


async def start_test_run(
    client: httpx.AsyncClient, account: Account, agent_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"{API}/agents/{agent_id}/test", headers=account.headers, json=body)


def usage_rows(stack: Any, org_id: str, execution_id: str) -> int:
    with psycopg.connect(libpq_url(stack.owner_url)) as conn:
        conn.execute("SELECT set_config('app.org_id', %s, false)", (org_id,))
        row = conn.execute("SELECT count(*) FROM usage_records WHERE execution_id = %s", (execution_id,)).fetchone()
    return int(row[0]) if row else 0


async def test_an_unpublished_draft_runs_as_a_test_and_is_not_billed(
    wclient: httpx.AsyncClient, wworld: OrgWorld, stack: Any
) -> None:
    agent_id = await draft_agent(wclient, wworld.editor, chat_flow())
    # Not published: a normal run is refused, a test run is not.
    refused = await wclient.post(f"{API}/agents/{agent_id}/execute", headers=wworld.editor.headers, json={})
    assert_error(refused, 409, "AGENT_NOT_RUNNABLE")
    started = await start_test_run(wclient, wworld.editor, agent_id, {"input": {"name": "Tess"}})
    assert started.status_code == 202, started.text
    execution_id = started.json()["execution_id"]
    done = await wait_for(wclient, wworld.editor.headers, execution_id, FINISHED)
    assert done["status"] == "completed", done
    assert done["is_test"] is True and done["triggered_by"] == "test" and done["agent_version_id"] is None
    assert "Hello Tess" in str(done["output"])
    assert done["total_tokens"] > 0  # tokens are shown, just not billed
    assert usage_rows(stack, wworld.org_id, execution_id) == 0

    # A real run of the published agent is billed: the control that makes the 0 above mean something.
    await wclient.post(f"{API}/agents/{agent_id}/publish", headers=wworld.editor.headers, json={})
    real = await wclient.post(
        f"{API}/agents/{agent_id}/execute", headers=wworld.editor.headers, json={"input": {"name": "Rea"}}
    )
    real_done = await wait_for(wclient, wworld.editor.headers, real.json()["execution_id"], FINISHED)
    assert real_done["is_test"] is False
    assert usage_rows(stack, wworld.org_id, real.json()["execution_id"]) >= 1


def side_effect_flow() -> dict[str, Any]:
    return definition(
        [
            node("start", "trigger.manual"),
            node(
                "lookup",
                "action.tool",
                # Would fail for real: the egress guard blocks loopback addresses.
                {"tool": "http.request", "params": {"url": "http://127.0.0.1:9/customers/{{trigger.data.id}}"}},
            ),
            node(
                "check",
                "logic.if_else",
                {
                    "conditions": {
                        "conditions": [{"left": "{{lookup.output.status_code}}", "operator": "equals", "right": 200}]
                    }
                },
            ),
            node("known", "transform.template", {"template": "Hello {{lookup.output.body.name}}"}),
            node("unknown", "transform.template", {"template": "Who?"}),
        ],
        [
            edge("start", "lookup"),
            edge("lookup", "check"),
            edge("check", "known", "true"),
            edge("check", "unknown", "false"),
        ],
    )


async def test_pinned_outputs_replace_side_effects(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    agent_id = await draft_agent(wclient, wworld.editor, side_effect_flow())
    body = {
        "input": {"id": 7},
        "pinned_outputs": {
            "lookup": {"output": {"status_code": 200, "body": {"name": "Pinned Customer"}}},
            "check": {"output": {"result": True}, "handle": "true"},
        },
    }
    started = await start_test_run(wclient, wworld.editor, agent_id, body)
    assert started.status_code == 202, started.text
    execution_id = started.json()["execution_id"]
    done = await wait_for(wclient, wworld.editor.headers, execution_id, FINISHED)
    assert done["status"] == "completed", done
    assert done["output"] == {"text": "Hello Pinned Customer"}
    steps = {s["node_key"]: s for s in await steps_of(wclient, wworld.editor.headers, execution_id)}
    assert set(steps) == {"start", "lookup", "check", "known"}
    assert steps["lookup"]["output"] == body["pinned_outputs"]["lookup"]["output"]  # type: ignore[index]
    logs = await wclient.get(f"{API}/executions/{execution_id}/logs", headers=wworld.editor.headers)
    assert any("pinned output" in entry["message"] for entry in logs.json()["items"])

    # The other branch when pinned so.
    body["pinned_outputs"]["check"] = {"output": {"result": False}, "handle": "false"}  # type: ignore[index]
    other = await start_test_run(wclient, wworld.editor, agent_id, body)
    other_done = await wait_for(wclient, wworld.editor.headers, other.json()["execution_id"], FINISHED)
    assert other_done["output"] == {"text": "Who?"}

    # Without the pin, the real call happens, and the egress guard stops it.
    unpinned = await start_test_run(wclient, wworld.editor, agent_id, {"input": {"id": 7}})
    failed = await wait_for(wclient, wworld.editor.headers, unpinned.json()["execution_id"], FINISHED)
    assert failed["status"] == "failed" and "private or internal" in (failed["error_message"] or ""), failed


async def test_bad_test_runs_are_refused(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    agent_id = await draft_agent(wclient, wworld.editor, side_effect_flow())
    unknown = await start_test_run(wclient, wworld.editor, agent_id, {"pinned_outputs": {"nope": {"output": 1}}})
    assert_error(unknown, 422, "UNKNOWN_PINNED_NODE")
    bad_handle = await start_test_run(
        wclient, wworld.editor, agent_id, {"pinned_outputs": {"check": {"output": 1, "handle": "maybe"}}}
    )
    assert_error(bad_handle, 422, "UNKNOWN_PINNED_HANDLE")
    viewer = await start_test_run(wclient, wworld.viewer, agent_id, {})
    assert_error(viewer, 403)

    broken = definition([node("start", "trigger.manual"), node("x", "transform.template", {})], [])
    invalid_agent = await draft_agent(wclient, wworld.editor, broken)
    invalid = await start_test_run(wclient, wworld.editor, invalid_agent, {})
    assert_error(invalid, 422, "INVALID_DEFINITION")
    listed = await wclient.get(f"{API}/executions", headers=wworld.editor.headers, params={"agent_id": invalid_agent})
    assert listed.json()["items"] == []
