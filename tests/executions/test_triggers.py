"""Webhooks and cron schedules, end to end on a real worker: signed requests start runs, bad,
stale and replayed ones do not; schedules fire from the database once, even from two schedulers
at once, and follow the missed-fire policy."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from celery import Celery

from agentflow.kit.db import Database
from agentflow.kit.ratelimit import RateLimiter
from agentflow.settings import Settings
from agentflow.triggers.schedules import fire_due
from agentflow.triggers.webhooks import sign
from agentflow.worker import create_celery
from tests.api_fixtures import API, OrgWorld, assert_error
from tests.engine.graphs import definition, edge, node
from tests.executions.flows import FINISHED, published_agent, wait_for

pytestmark = pytest.mark.usefixtures("worker")


def webhook_flow(**trigger: Any) -> dict[str, Any]:
    return definition(
        [
            node("hook", "trigger.webhook", trigger),
            node(
                "greet",
                "transform.template",
                {"template": "Hi {{trigger.data.body.name}} ({{trigger.data.query.src}})"},
            ),
        ],
        [edge("hook", "greet")],
    )


async def webhook_of(client: httpx.AsyncClient, world: OrgWorld, agent_id: str) -> dict[str, Any]:
    response = await client.get(f"{API}/agents/{agent_id}/triggers", headers=world.editor.headers)
    assert response.status_code == 200, response.text
    assert response.json()["trigger_type"] == "webhook"
    webhook: dict[str, Any] = response.json()["webhook"]
    return webhook


def hook_path(webhook: dict[str, Any]) -> str:
    return "/api/v1/hooks/" + webhook["url"].rsplit("/", 1)[1]


def signed(secret: str, body: bytes, *, at: int | None = None, event_id: str | None = None) -> dict[str, str]:
    stamp = at if at is not None else int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-AgentFlow-Timestamp": str(stamp),
        "X-AgentFlow-Signature": sign(secret, stamp, body),
    }
    if event_id:
        headers["X-AgentFlow-Event-Id"] = event_id
    return headers


async def runs_of(client: httpx.AsyncClient, world: OrgWorld, agent_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/executions", headers=world.editor.headers, params={"agent_id": agent_id})
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_signed_webhook_starts_a_run(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    agent_id = await published_agent(wclient, wworld.editor, webhook_flow())
    webhook = await webhook_of(wclient, wworld, agent_id)
    assert webhook["require_signature"] is True and webhook["signing_secret"].startswith("whsec_")
    # Stable: a second look shows the same URL and secret.
    assert await webhook_of(wclient, wworld, agent_id) == webhook

    body = b'{"name": "Ada"}'
    response = await wclient.post(
        hook_path(webhook) + "?src=crm",
        content=body,
        headers={**signed(webhook["signing_secret"], body), "Authorization": "Bearer leak-me-not", "X-Custom": "1"},
    )
    assert response.status_code == 202, response.text
    execution_id = response.json()["execution_id"]
    done = await wait_for(wclient, wworld.editor.headers, execution_id, FINISHED)
    assert done["status"] == "completed" and done["output"] == {"text": "Hi Ada (crm)"}, done
    assert done["triggered_by"] == "webhook"
    data = done["trigger_data"]
    assert data["body"] == {"name": "Ada"} and data["query"] == {"src": "crm"} and data["method"] == "POST"
    assert data["headers"]["x-custom"] == "1"
    assert "authorization" not in data["headers"] and "x-agentflow-signature" not in data["headers"]


async def test_bad_stale_and_replayed_signatures_start_nothing(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    agent_id = await published_agent(wclient, wworld.editor, webhook_flow())
    webhook = await webhook_of(wclient, wworld, agent_id)
    path, secret = hook_path(webhook), webhook["signing_secret"]
    body = b'{"name": "Eve"}'

    missing = await wclient.post(path, content=body, headers={"Content-Type": "application/json"})
    assert_error(missing, 401, "SIGNATURE_MISSING")
    wrong_key = await wclient.post(path, content=body, headers=signed("whsec_wrong", body))
    assert_error(wrong_key, 401, "INVALID_SIGNATURE")
    tampered = await wclient.post(path, content=b'{"name": "Mallory"}', headers=signed(secret, body))
    assert_error(tampered, 401, "INVALID_SIGNATURE")
    stale = await wclient.post(path, content=body, headers=signed(secret, body, at=int(time.time()) - 400))
    assert_error(stale, 401, "SIGNATURE_EXPIRED")
    future = await wclient.post(path, content=body, headers=signed(secret, body, at=int(time.time()) + 400))
    assert_error(future, 401, "SIGNATURE_EXPIRED")

    headers = signed(secret, body, event_id=f"evt-{uuid.uuid4()}")
    first = await wclient.post(path, content=body, headers=headers)
    assert first.status_code == 202, first.text
    replayed = await wclient.post(path, content=body, headers=headers)
    assert_error(replayed, 409, "WEBHOOK_REPLAYED")
    # Same event id, freshly signed a second later: still the same event.
    await asyncio.sleep(1.1)
    again = signed(secret, body, event_id=headers["X-AgentFlow-Event-Id"])
    resent = await wclient.post(path, content=body, headers=again)
    assert_error(resent, 409, "WEBHOOK_REPLAYED")
    assert [r["id"] for r in await runs_of(wclient, wworld, agent_id)] == [first.json()["execution_id"]]


async def test_unsigned_bodies_rotation_and_paused_agents(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    agent_id = await published_agent(wclient, wworld.editor, webhook_flow(require_signature=False))
    webhook = await webhook_of(wclient, wworld, agent_id)
    path = hook_path(webhook)

    form = await wclient.post(path + "?src=form", data={"name": "Flo"})
    assert form.status_code == 202, form.text
    done = await wait_for(wclient, wworld.editor.headers, form.json()["execution_id"], FINISHED)
    assert done["output"] == {"text": "Hi Flo (form)"}, done
    raw = await wclient.post(path, content=b"plain words", headers={"Content-Type": "text/plain"})
    raw_done = await wait_for(wclient, wworld.editor.headers, raw.json()["execution_id"], FINISHED)
    assert raw_done["trigger_data"]["body"] == "plain words"

    assert_error(await wclient.post(path, content=b"{nope", headers={"Content-Type": "application/json"}), 400)
    big = b'{"name": "' + b"x" * 2_000_000 + b'"}'
    assert_error(await wclient.post(path, content=big, headers={"Content-Type": "application/json"}), 413)
    assert_error(await wclient.post("/api/v1/hooks/wh_" + "x" * 40), 404, "WEBHOOK_NOT_FOUND")

    rotated = await wclient.post(f"{API}/agents/{agent_id}/triggers/webhook/rotate", headers=wworld.editor.headers)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["webhook"]
    assert new["url"] != webhook["url"] and new["signing_secret"] != webhook["signing_secret"]
    assert_error(await wclient.post(path, json={"name": "Old"}), 404, "WEBHOOK_NOT_FOUND")
    assert (await wclient.post(hook_path(new), json={"name": "New"})).status_code == 202

    paused = await wclient.put(
        f"{API}/agents/{agent_id}/status", headers=wworld.editor.headers, json={"status": "paused"}
    )
    assert paused.status_code == 200, paused.text
    assert_error(await wclient.post(hook_path(new), json={"name": "Zzz"}), 409, "AGENT_NOT_RUNNABLE")


async def test_when_done_answers_with_the_runs_response(wclient: httpx.AsyncClient, wworld: OrgWorld) -> None:
    graph = definition(
        [
            node("hook", "trigger.webhook", {"require_signature": False, "respond_mode": "when_done"}),
            node("answer", "flow.respond", {"body": "Thanks {{trigger.data.body.name}}", "status_code": 201}),
        ],
        [edge("hook", "answer")],
    )
    agent_id = await published_agent(wclient, wworld.editor, graph)
    webhook = await webhook_of(wclient, wworld, agent_id)
    response = await wclient.post(hook_path(webhook), json={"name": "Wes"})
    assert response.status_code == 201, response.text
    assert response.text == "Thanks Wes"
    assert response.headers["x-agentflow-execution-id"]


# -- schedules --------------------------------------------------------------------------------------


def schedule_flow(cron: str = "*/5 * * * *", timezone: str = "Europe/Paris", **extra: Any) -> dict[str, Any]:
    return definition(
        [
            node("tick", "trigger.schedule", {"cron": cron, "timezone": timezone, **extra}),
            node("note", "transform.template", {"template": "missed {{trigger.data.missed}}"}),
        ],
        [edge("tick", "note")],
    )


async def schedule_of(client: httpx.AsyncClient, world: OrgWorld, agent_id: str) -> dict[str, Any]:
    response = await client.get(f"{API}/agents/{agent_id}/triggers", headers=world.editor.headers)
    assert response.status_code == 200, response.text
    schedule: dict[str, Any] = response.json()["schedule"]
    return schedule


class Scheduler:
    """What beat's tick runs, called here with a chosen clock; the runs it starts go to the
    shared worker like beat's would."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.celery: Celery = create_celery(settings)

    async def tick(self, now: datetime) -> int:
        from redis.asyncio import Redis

        db = Database(self.settings.database_url or "", pool_size=2, max_overflow=0)
        redis = Redis.from_url(self.settings.redis_url or "", decode_responses=True)
        try:
            result = await fire_due(db, RateLimiter(redis), self.settings, now=now)
        finally:
            await db.dispose()
            await redis.aclose()
        for execution_id, org_id in result.to_send:
            self.celery.send_task("executions.run", args=[str(execution_id), str(org_id)])
        return result.fired


@pytest.fixture
def scheduler(worker_settings: Settings) -> Scheduler:
    return Scheduler(worker_settings)


async def test_a_schedule_fires_once_even_with_two_schedulers(
    wclient: httpx.AsyncClient, wworld: OrgWorld, scheduler: Scheduler
) -> None:
    agent_id = await published_agent(wclient, wworld.editor, schedule_flow())
    schedule = await schedule_of(wclient, wworld, agent_id)
    times = [datetime.fromisoformat(t) for t in schedule["next_fire_times"]]
    assert len(times) == 5 and times == sorted(times) and schedule["active"] is True
    assert all(t.minute % 5 == 0 and t.second == 0 for t in times)
    assert all(b - a == timedelta(minutes=5) for a, b in itertools.pairwise(times))

    # The first fire time comes; two schedulers tick at the same moment.
    at = times[0] + timedelta(seconds=1)
    fired = await asyncio.gather(scheduler.tick(at), scheduler.tick(at))
    runs = [r for r in await runs_of(wclient, wworld, agent_id)]
    assert len(runs) == 1 and sum(fired) >= 1, (fired, runs)
    done = await wait_for(wclient, wworld.editor.headers, runs[0]["id"], FINISHED)
    assert done["status"] == "completed" and done["triggered_by"] == "schedule", done
    assert done["trigger_data"]["scheduled_for"] == times[0].isoformat()
    # Ticking again at the same moment fires nothing: the schedule moved on.
    await scheduler.tick(at)
    assert len(await runs_of(wclient, wworld, agent_id)) == 1


async def test_pausing_stops_the_schedule_and_missed_fires_follow_the_policy(
    wclient: httpx.AsyncClient, wworld: OrgWorld, scheduler: Scheduler
) -> None:
    agent_id = await published_agent(wclient, wworld.editor, schedule_flow())
    first = datetime.fromisoformat((await schedule_of(wclient, wworld, agent_id))["next_fire_times"][0])
    await wclient.put(f"{API}/agents/{agent_id}/status", headers=wworld.editor.headers, json={"status": "paused"})
    assert (await schedule_of(wclient, wworld, agent_id))["active"] is False
    await scheduler.tick(first + timedelta(hours=1))
    assert await runs_of(wclient, wworld, agent_id) == []

    # Back on, then three hours pass with beat down: one run for all of the missed fire times.
    await wclient.put(f"{API}/agents/{agent_id}/status", headers=wworld.editor.headers, json={"status": "active"})
    resumed = datetime.fromisoformat((await schedule_of(wclient, wworld, agent_id))["next_fire_times"][0])
    await scheduler.tick(resumed + timedelta(hours=3))
    runs = await runs_of(wclient, wworld, agent_id)
    assert len(runs) == 1
    done = await wait_for(wclient, wworld.editor.headers, runs[0]["id"], FINISHED)
    assert done["trigger_data"]["missed"] == 36, done["trigger_data"]  # every 5 min for 3 h, after the first

    # With the skip policy, a late fire is dropped and the schedule simply moves on.
    skipping = await published_agent(wclient, wworld.editor, schedule_flow(missed_fires="skip"))
    late = datetime.fromisoformat((await schedule_of(wclient, wworld, skipping))["next_fire_times"][0])
    assert await scheduler.tick(late + timedelta(hours=1)) == 0
    assert await runs_of(wclient, wworld, skipping) == []
    assert await scheduler.tick(late + timedelta(hours=1, minutes=5, seconds=1)) == 1
    assert len(await runs_of(wclient, wworld, skipping)) == 1
