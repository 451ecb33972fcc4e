"""Sliding-window rate limits in Valkey: per org, per API key, and on auth per IP and per account."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from agentflow.app import create_app
from tests.api_fixtures import API, client_for, create_api_key, settings_for, signup


@pytest.fixture(scope="module")
async def strict_app(stack) -> AsyncIterator[FastAPI]:
    settings = settings_for(
        stack.env,
        rate_limit_org="5/minute",
        rate_limit_api_key="3/minute",
        rate_limit_auth_ip="4/minute",
        rate_limit_auth_account="2/minute",
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def _ip() -> str:
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


async def test_org_limit_counts_down_then_answers_429(client: httpx.AsyncClient, strict_app: FastAPI) -> None:
    owner = await signup(client)
    async with client_for(strict_app, ip=_ip()) as strict:
        remaining = []
        for _ in range(5):
            ok = await strict.get(f"{API}/org", headers=owner.headers)
            assert ok.status_code == 200
            assert ok.headers["x-ratelimit-limit"] == "5"
            remaining.append(int(ok.headers["x-ratelimit-remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        limited = await strict.get(f"{API}/org", headers=owner.headers)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["x-ratelimit-remaining"] == "0"


async def test_api_key_limit_is_separate_from_the_org(client: httpx.AsyncClient, strict_app: FastAPI) -> None:
    owner = await signup(client)
    key = (await create_api_key(client, owner, scopes=["org:read"]))["key"]
    async with client_for(strict_app, ip=_ip()) as strict:
        statuses = [(await strict.get(f"{API}/org", headers={"X-API-Key": key})).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        # The org still has budget for its people.
        assert (await strict.get(f"{API}/org", headers=owner.headers)).status_code == 200


async def test_login_is_limited_per_ip(client: httpx.AsyncClient, strict_app: FastAPI) -> None:
    ip = _ip()
    async with client_for(strict_app, ip=ip) as attacker, client_for(strict_app, ip=_ip()) as bystander:
        statuses = []
        for i in range(5):
            response = await attacker.post(
                f"{API}/auth/login", json={"email": f"nobody{i}-{uuid.uuid4().hex[:6]}@example.com", "password": "x"}
            )
            statuses.append(response.status_code)
        assert statuses == [401, 401, 401, 401, 429]
        other = await bystander.post(f"{API}/auth/login", json={"email": "someone@example.com", "password": "x"})
        assert other.status_code == 401


async def test_login_is_limited_per_account_across_ips(client: httpx.AsyncClient, strict_app: FastAPI) -> None:
    victim = await signup(client)
    statuses = []
    for _ in range(3):
        async with client_for(strict_app, ip=_ip()) as bot:
            response = await bot.post(f"{API}/auth/login", json={"email": victim.email, "password": "wrong-guess"})
            statuses.append(response.status_code)
    assert statuses == [401, 401, 429]
