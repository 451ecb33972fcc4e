"""API fixtures: the real app (real embedded Postgres and Valkey from the `stack` fixture) driven
in-process over ASGI, plus helpers that build orgs the way users do — through the API.

Tests are isolated by tenancy: each test works in orgs it creates (unique emails and slugs), so
no test can see another's data, exactly as in production.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from agentflow.app import create_app
from agentflow.settings import Settings
from tests.engine.graphs import chat, minimal

API = "/api/v1"
PASSWORD = "correct horse battery"
CLIENT_IP = "203.0.113.7"
CLOSED_PORT_URL = "http://127.0.0.1:9"  # the discard port: nothing listens there


def settings_for(env: dict[str, str], **overrides: Any) -> Settings:
    """Settings for an app on the test stack, with limits high enough not to trip other tests."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": env["AGENTFLOW_DATABASE_URL"],
        "migration_database_url": env["AGENTFLOW_MIGRATION_DATABASE_URL"],
        "redis_url": env["AGENTFLOW_REDIS_URL"],
        "jwt_secret": env["AGENTFLOW_JWT_SECRET"],
        "vault_master_key": env["AGENTFLOW_VAULT_MASTER_KEY"],
        "rate_limit_org": "1000000/minute",
        "rate_limit_api_key": "1000000/minute",
        "rate_limit_auth_ip": "1000000/minute",
        "rate_limit_auth_account": "1000000/minute",
        "log_level": "WARNING",
        "db_pool_size": 5,
        # Checking a stored LLM key calls its provider: in tests those calls go to a closed local
        # port and fail at once (the key is kept, unverified), never to the real services.
        "openai_base_url": CLOSED_PORT_URL,
        "anthropic_base_url": CLOSED_PORT_URL,
        "google_base_url": CLOSED_PORT_URL,
        # API only, whether or not web/out was built: the UI's serving has its own tests.
        "web_dir": Path(__file__).parent / "no-web-ui",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# The schema owner's URL of the test stack (set by `app_settings`), for helpers that must put a
# row in a state no API call reaches without a worker (e.g. an execution waiting for approval).
OWNER_DB: dict[str, str] = {}


@pytest.fixture(scope="session")
def app_settings(stack: Any) -> Settings:
    OWNER_DB["url"] = stack.owner_url
    return settings_for(stack.env)


@pytest.fixture(scope="session")
async def app(app_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(app_settings)
    async with application.router.lifespan_context(application):
        yield application


def client_for(application: FastAPI, ip: str = CLIENT_IP, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    """A client calling `application` in-process. With `raise_app_exceptions=False` a crash
    reaches the test as the 500 response a real client would get, not as the exception."""
    transport = httpx.ASGITransport(app=application, client=(ip, 40000), raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """One client shared by all tests of a module (for module-scoped data such as `module_world`)."""
    async with client_for(app) as c:
        yield c


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """`response` is an error in the API's envelope (status, optional code, a message, details and
    an X-Request-ID); returns the `error` object."""
    where = f"{response.request.method} {response.request.url.path}"
    assert response.status_code == status, f"{where}: {response.status_code} {response.text[:500]}"
    body = response.json()
    assert set(body) == {"error"}, f"{where}: not the error envelope: {body}"
    error: dict[str, Any] = body["error"]
    assert isinstance(error["message"], str) and error["message"], f"{where}: no message: {error}"
    assert isinstance(error["details"], dict), f"{where}: details is not an object: {error}"
    if code is not None:
        assert error["code"] == code, f"{where}: {error}"
    assert response.headers.get("x-request-id"), f"{where}: an error without X-Request-ID"
    return error


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Account:
    email: str
    password: str
    token: str
    user_id: str
    org_id: str
    role: str
    member_id: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@dataclass
class OrgWorld:
    """An org with one person in each role and an API key holding every scope."""

    owner: Account
    admin: Account
    editor: Account
    viewer: Account
    api_key: str
    api_key_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def org_id(self) -> str:
        return self.owner.org_id

    def by_role(self, role: str) -> Account:
        account: Account = getattr(self, role)
        return account


async def signup(client: httpx.AsyncClient, *, name: str = "Test User", org_name: str | None = None) -> Account:
    email = f"{unique('user')}@example.com"
    response = await client.post(
        f"{API}/auth/signup",
        json={"email": email, "password": PASSWORD, "name": name, "org_name": org_name or unique("Org")},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(
        email=email,
        password=PASSWORD,
        token=body["access_token"],
        user_id=body["user"]["id"],
        org_id=body["org"]["id"],
        role="owner",
    )


async def latest_invite_token(client: httpx.AsyncClient, admin: Account, email: str) -> str:
    response = await client.get(f"{API}/org/outbox", headers=admin.headers, params={"limit": 100})
    assert response.status_code == 200, response.text
    for mail in response.json()["items"]:
        if mail["to"] == email:
            match = re.search(r"token=([A-Za-z0-9_\-]+)", mail["body"])
            assert match, mail["body"]
            return match.group(1)
    raise AssertionError(f"no invitation mail to {email}")


async def add_member(client: httpx.AsyncClient, inviter: Account, role: str) -> Account:
    """Invite someone and accept as a new user, exactly as a person would."""
    email = f"{unique(role)}@example.com"
    response = await client.post(
        f"{API}/org/members/invite", headers=inviter.headers, json={"email": email, "role": role}
    )
    assert response.status_code == 201, response.text
    token = await latest_invite_token(client, inviter, email)
    accepted = await client.post(
        f"{API}/auth/accept-invite", json={"token": token, "name": role.title(), "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    members = await client.get(f"{API}/org/members", headers=inviter.headers, params={"limit": 100})
    member_id = next(m["id"] for m in members.json()["items"] if m["email"] == email)
    return Account(
        email=email,
        password=PASSWORD,
        token=body["access_token"],
        user_id=body["user"]["id"],
        org_id=body["org"]["id"],
        role=role,
        member_id=member_id,
    )


async def create_api_key(
    client: httpx.AsyncClient, admin: Account, scopes: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": unique("key"), **extra}
    if scopes is not None:
        body["scopes"] = scopes
    response = await client.post(f"{API}/org/api-keys", headers=admin.headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def make_org_world(client: httpx.AsyncClient) -> OrgWorld:
    from agentflow.kit.permissions import ALL_SCOPES

    owner = await signup(client, name="Owner")
    members = await client.get(f"{API}/org/members", headers=owner.headers)
    owner.member_id = members.json()["items"][0]["id"]
    admin = await add_member(client, owner, "admin")
    editor = await add_member(client, owner, "editor")
    viewer = await add_member(client, owner, "viewer")
    key = await create_api_key(client, owner, scopes=list(ALL_SCOPES))
    return OrgWorld(owner=owner, admin=admin, editor=editor, viewer=viewer, api_key=key["key"], api_key_id=key["id"])


async def create_agent(
    client: httpx.AsyncClient, account: Account, *, published: bool = True, **body: Any
) -> dict[str, Any]:
    """An agent with a valid draft (a manual trigger and one chat node), made by `account`; with
    `published`, that draft is also version 1. Returns the agent as GET /agents/{id} shows it."""
    response = await client.post(
        f"{API}/agents",
        headers=account.headers,
        json={"name": unique("agent"), "definition": minimal(chat("greet")), **body},
    )
    assert response.status_code == 201, response.text
    agent: dict[str, Any] = response.json()
    if published:
        version = await client.post(
            f"{API}/agents/{agent['id']}/publish", headers=account.headers, json={"change_message": "first"}
        )
        assert version.status_code == 201, version.text
        assert version.json()["version"] == 1
        agent = (await client.get(f"{API}/agents/{agent['id']}", headers=account.headers)).json()
    return agent


async def create_execution(client: httpx.AsyncClient, account: Account, *, waiting: bool = True) -> dict[str, Any]:
    """An execution of a fresh published agent, started through the API by `account`. The apps of
    these fixtures have no worker, so it stays `pending`; with `waiting`, it is then put (as the
    schema owner) in the state an approval node leaves it in: `waiting_approval`, any member with
    the execute permission may decide."""
    agent = await create_agent(client, account)
    response = await client.post(f"{API}/agents/{agent['id']}/execute", headers=account.headers, json={"input": {}})
    assert response.status_code == 202, response.text
    execution: dict[str, Any] = {"id": response.json()["execution_id"], "agent_id": agent["id"]}
    if waiting:
        import psycopg

        from agentflow.kit.db import libpq_url

        approval = {"approval": {"kind": "approval", "message": "Review", "approvers": [], "node_id": "greet"}}
        async with await psycopg.AsyncConnection.connect(libpq_url(OWNER_DB["url"])) as conn:
            await conn.execute("SELECT set_config('app.org_id', %s, true)", (account.org_id,))
            await conn.execute(
                "UPDATE executions SET status = 'waiting_approval', metadata = metadata || %s::jsonb WHERE id = %s",
                (json.dumps(approval), execution["id"]),
            )
    return execution


async def create_template(
    client: httpx.AsyncClient, account: Account, *, visibility: str = "org", **body: Any
) -> dict[str, Any]:
    """A template published by `account` from version 1 of a fresh agent; private to the
    account's org unless `visibility="public"`."""
    agent = await create_agent(client, account)
    response = await client.post(
        f"{API}/templates",
        headers=account.headers,
        json={"agent_id": agent["id"], "name": unique("template"), "visibility": visibility, **body},
    )
    assert response.status_code == 201, response.text
    template: dict[str, Any] = response.json()
    return template


@pytest.fixture
async def world(client: httpx.AsyncClient) -> OrgWorld:
    return await make_org_world(client)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_world(module_client: httpx.AsyncClient) -> OrgWorld:
    """An org shared by all tests of a module: tests must leave its four people and its key as they
    are, and act on fresh targets they create instead."""
    return await make_org_world(module_client)


@pytest.fixture
async def other_world(client: httpx.AsyncClient) -> OrgWorld:
    return await make_org_world(client)
