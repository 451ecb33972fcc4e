"""Helpers for the execution tests: agents to run, starting runs, waiting for them, reading
what they left behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg

from agentflow.app import create_app
from agentflow.kit.db import libpq_url
from tests.api_fixtures import API, Account, client_for, settings_for, unique
from tests.engine.graphs import definition, edge, node

FINISHED = {"completed", "failed", "cancelled"}


@asynccontextmanager
async def api(env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The API (its lifespan included) on the settings of this environment, and a client for it."""
    application = create_app(settings_for(env))
    async with application.router.lifespan_context(application), client_for(application) as client:
        yield client


def chat_flow() -> dict[str, Any]:
    return definition(
        [
            node("start", "trigger.manual"),
            node("greet", "transform.template", {"template": "Hello {{trigger.data.name}}"}),
            node("chat", "ai.chat", {"model": "scripted-echo", "prompt": "{{greet.output.text}}"}),
        ],
        [edge("start", "greet"), edge("greet", "chat")],
    )


def approval_flow(approvers: list[str] | None = None) -> dict[str, Any]:
    return definition(
        [
            node("start", "trigger.manual"),
            node("draft", "transform.template", {"template": "Reply to {{trigger.data.name}}"}),
            node(
                "review",
                "human.approval",
                {"message": "Send? {{draft.output.text}}", "approvers": approvers or ["admin"]},
            ),
            node("send", "transform.template", {"template": "sent"}),
            node("discard", "transform.template", {"template": "discarded"}),
        ],
        [
            edge("start", "draft"),
            edge("draft", "review"),
            edge("review", "send", "approved"),
            edge("review", "discard", "rejected"),
        ],
    )


async def published_agent(
    client: httpx.AsyncClient, account: Account, graph: dict[str, Any], settings: dict[str, Any] | None = None
) -> str:
    body = {"name": unique("agent"), "definition": graph, **({"settings": settings} if settings else {})}
    created = await client.post(f"{API}/agents", headers=account.headers, json=body)
    assert created.status_code == 201, created.text
    agent_id: str = created.json()["id"]
    published = await client.post(f"{API}/agents/{agent_id}/publish", headers=account.headers, json={})
    assert published.status_code == 201, published.text
    return agent_id


async def execute(
    client: httpx.AsyncClient, headers: dict[str, str], agent_id: str, data: dict[str, Any], **extra: Any
) -> str:
    response = await client.post(f"{API}/agents/{agent_id}/execute", headers=headers, json={"input": data, **extra})
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    execution_id: str = response.json()["execution_id"]
    return execution_id


async def wait_for(
    client: httpx.AsyncClient, headers: dict[str, str], execution_id: str, statuses: set[str], limit: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    while True:
        response = await client.get(f"{API}/executions/{execution_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, f"still {body['status']}: {body}"
        await asyncio.sleep(0.05)


def stored_events(stack: Any, org_id: str, execution_id: str) -> list[tuple[int, str]]:
    with psycopg.connect(libpq_url(stack.owner_url)) as conn:
        conn.execute("SELECT set_config('app.org_id', %s, false)", (org_id,))
        rows = conn.execute(
            "SELECT seq, type FROM execution_events WHERE execution_id = %s ORDER BY seq", (execution_id,)
        ).fetchall()
    return [(int(seq), str(kind)) for seq, kind in rows]


async def steps_of(client: httpx.AsyncClient, headers: dict[str, str], execution_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/executions/{execution_id}/steps", headers=headers, params={"limit": 100})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
