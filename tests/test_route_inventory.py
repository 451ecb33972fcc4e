"""Every route is either on the reviewed public list or authenticates (ARCHITECTURE.md §3).

The inventory is read from the app itself, so a route added later is checked without anyone
remembering to add it here: it must authenticate, or be added to `PUBLIC_ROUTES` in app.py
(and get a call in `PUBLIC_CALLS` below showing it really answers without credentials).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from agentflow.app import PUBLIC_ROUTES
from agentflow.auth.dependencies import authenticate, authenticate_user, reads
from agentflow.auth.router import identify
from agentflow.executions.stream_auth import stream_reader
from agentflow.kit.deps import _session
from agentflow.kit.permissions import Permission
from tests.api_fixtures import (
    API,
    PASSWORD,
    assert_error,
    client_for,
    create_agent,
    latest_invite_token,
    signup,
    unique,
)
from tests.engine.graphs import chat, minimal
from tests.routes import (
    collection_time_app,
    dependency_calls,
    route_id,
    route_keys,
    routes_by_key,
    websocket_paths,
    with_random_ids,
)

# `identify` (GET /auth/me) takes either kind of caller and calls `authenticate` or
# `authenticate_user` itself rather than through Depends; so does `stream_reader` (the execution
# event routes), which also takes a single-use stream ticket instead, and so do the dependencies
# `reads(...)` makes. The behavioural test below checks they really refuse anonymous callers.
AUTHENTICATORS: frozenset[Callable[..., Any]] = frozenset({authenticate, authenticate_user, identify, stream_reader})


def is_tenant_reads(call: Any) -> bool:
    """A dependency made by `reads(...)`: each is a new closure, all of one function."""
    return getattr(call, "__code__", None) is reads(Permission.ORG_READ).dependency.__code__


def authenticates(call: Any) -> bool:
    return call in AUTHENTICATORS or is_tenant_reads(call)


def resolves_org_principal(call: Any) -> bool:
    return call is authenticate or is_tenant_reads(call)


ALL_ROUTES = sorted(route_keys(collection_time_app()))
PROTECTED_ROUTES = [key for key in ALL_ROUTES if key not in PUBLIC_ROUTES]


def api_route(application: FastAPI, method: str, path: str) -> RouteContext:
    return routes_by_key(application)[(method, path)]


# -- static inventory ------------------------------------------------------------------------------


def test_the_collected_routes_are_the_running_apps_routes(app: FastAPI) -> None:
    assert sorted(route_keys(app)) == ALL_ROUTES


def test_the_inventory_misses_no_documented_operation(app: FastAPI) -> None:
    """Cross-check the walk against the OpenAPI document, so a router the walk cannot see
    (e.g. one included in a new way) fails here instead of silently escaping every check."""
    documented = {(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops}
    assert documented <= set(ALL_ROUTES), sorted(documented - set(ALL_ROUTES))
    assert ("GET", f"{API}/org/members") in ALL_ROUTES


@pytest.mark.parametrize("key", PROTECTED_ROUTES, ids=route_id)
def test_every_non_public_route_authenticates(app: FastAPI, key: tuple[str, str]) -> None:
    route = api_route(app, *key)
    calls = set(dependency_calls(route.dependant))
    assert any(authenticates(c) for c in calls), (
        f"{route_id(key)} has neither `authenticate` nor `authenticate_user` in its dependencies. "
        "Declare a permission (requires(...)) or CurrentUser, or - after review - add it to PUBLIC_ROUTES."
    )


@pytest.mark.parametrize("key", PROTECTED_ROUTES, ids=route_id)
def test_every_org_scoped_route_declares_its_permission(app: FastAPI, key: tuple[str, str]) -> None:
    """A route that resolves an org principal states the permission it needs in its signature."""
    calls = list(dependency_calls(api_route(app, *key).dependant))
    if not any(resolves_org_principal(c) for c in calls):
        return
    permissions = {c.required_permission for c in calls if hasattr(c, "required_permission")}
    assert len(permissions) == 1, f"{route_id(key)} must use exactly one requires(Permission.…); found {permissions}"


@pytest.mark.parametrize("key", PROTECTED_ROUTES, ids=route_id)
def test_a_route_that_reads_outside_a_transaction_takes_no_session(app: FastAPI, key: tuple[str, str]) -> None:
    """A `reads(...)` route's reads set their own tenant context; a session would have none (it
    would fail closed, showing no rows), so taking one there is a mistake this catches early."""
    calls = set(dependency_calls(api_route(app, *key).dependant))
    if any(is_tenant_reads(c) for c in calls):
        assert _session not in calls, f"{route_id(key)} authenticates outside a transaction but takes a session"


def test_the_members_list_reads_outside_a_transaction(app: FastAPI) -> None:
    """The check above is not vacuous: the busiest list is a `reads(...)` route."""
    calls = dependency_calls(api_route(app, "GET", f"{API}/org/members").dependant)
    assert any(is_tenant_reads(c) for c in calls)
    assert not any(is_tenant_reads(c) for c in dependency_calls(api_route(app, "GET", f"{API}/org").dependant))


def test_every_public_route_exists(app: FastAPI) -> None:
    missing = PUBLIC_ROUTES - set(route_keys(app))
    assert not missing, f"PUBLIC_ROUTES lists routes the app does not have: {sorted(missing)}"


def test_inventory_helper_sees_authentication_through_nested_dependencies(app: FastAPI) -> None:
    """The walk must look below the first level: requires() wraps `authenticate` one level down."""
    route = api_route(app, "PUT", f"{API}/org/members/{{member_id}}/role")
    top_level = {d.call for d in route.dependant.dependencies}
    assert authenticate not in top_level
    assert authenticate in set(dependency_calls(route.dependant))
    signup_route = api_route(app, "POST", f"{API}/auth/signup")
    assert not set(dependency_calls(signup_route.dependant)) & AUTHENTICATORS


# -- behaviour without credentials -----------------------------------------------------------------


@pytest.mark.parametrize("key", PROTECTED_ROUTES, ids=route_id)
async def test_protected_routes_answer_401_without_credentials(app: FastAPI, key: tuple[str, str]) -> None:
    method, path = key
    async with client_for(app) as anonymous:
        response = await anonymous.request(method, with_random_ids(path, api_route(app, method, path)))
    assert_error(response, 401, "AUTH_REQUIRED")
    assert response.headers.get("www-authenticate") == "Bearer"


PublicCall = Callable[[FastAPI], Awaitable[httpx.Response]]


def _signup_body() -> dict[str, str]:
    return {"email": f"{unique('pub')}@example.com", "password": PASSWORD, "name": "Pub", "org_name": unique("Pub")}


async def _call_signup(app: FastAPI) -> httpx.Response:
    async with client_for(app) as anonymous:
        return await anonymous.post(f"{API}/auth/signup", json=_signup_body())


async def _call_login(app: FastAPI) -> httpx.Response:
    async with client_for(app) as setup:
        account = await signup(setup)
    async with client_for(app) as anonymous:
        return await anonymous.post(f"{API}/auth/login", json={"email": account.email, "password": PASSWORD})


async def _call_refresh(app: FastAPI) -> httpx.Response:
    async with client_for(app) as anonymous:
        created = await anonymous.post(f"{API}/auth/signup", json=_signup_body())
        assert created.status_code == 201
        # Only the refresh cookie from sign-up: no access token, no API key.
        assert "authorization" not in anonymous.headers
        return await anonymous.post(f"{API}/auth/refresh")


async def _call_logout(app: FastAPI) -> httpx.Response:
    async with client_for(app) as anonymous:
        return await anonymous.post(f"{API}/auth/logout")


async def _call_accept_invite(app: FastAPI) -> httpx.Response:
    email = f"{unique('invitee')}@example.com"
    async with client_for(app) as setup:
        owner = await signup(setup)
        invited = await setup.post(f"{API}/org/members/invite", headers=owner.headers, json={"email": email})
        assert invited.status_code == 201, invited.text
        token = await latest_invite_token(setup, owner, email)
    async with client_for(app) as anonymous:
        return await anonymous.post(f"{API}/auth/accept-invite", json={"token": token, "password": PASSWORD})


async def _call_webhook(app: FastAPI) -> httpx.Response:
    graph = minimal(chat("greet"))
    hook = {"type": "trigger", "subtype": "webhook", "config": {"require_signature": False}}
    graph["nodes"][0] = {**graph["nodes"][0], **hook}
    async with client_for(app) as setup:
        owner = await signup(setup)
        agent = await create_agent(setup, owner, definition=graph)
        triggers = await setup.get(f"{API}/agents/{agent['id']}/triggers", headers=owner.headers)
        token = triggers.json()["webhook"]["url"].rsplit("/", 1)[1]
    async with client_for(app) as anonymous:
        return await anonymous.post(f"{API}/hooks/{token}", json={"hello": "world"})


async def _call_get(path: str, app: FastAPI) -> httpx.Response:
    async with client_for(app) as anonymous:
        return await anonymous.get(path)


# One call per public route that shows it works for an anonymous caller, and the status expected.
PUBLIC_CALLS: dict[tuple[str, str], tuple[PublicCall, int]] = {
    ("GET", "/healthz"): (lambda app: _call_get("/healthz", app), 200),
    ("GET", "/readyz"): (lambda app: _call_get("/readyz", app), 200),
    ("POST", f"{API}/auth/signup"): (_call_signup, 201),
    ("POST", f"{API}/auth/login"): (_call_login, 200),
    ("POST", f"{API}/auth/refresh"): (_call_refresh, 200),
    ("POST", f"{API}/auth/logout"): (_call_logout, 204),
    ("POST", f"{API}/auth/accept-invite"): (_call_accept_invite, 200),
    ("POST", f"{API}/hooks/{{token}}"): (_call_webhook, 202),
}


@pytest.mark.parametrize("key", sorted(PUBLIC_ROUTES), ids=route_id)
async def test_public_routes_answer_without_credentials(app: FastAPI, key: tuple[str, str]) -> None:
    if key not in PUBLIC_CALLS:
        pytest.fail(
            f"{route_id(key)} is public but has no anonymous call in PUBLIC_CALLS "
            "(tests/test_route_inventory.py): add one showing it works without credentials."
        )
    call, expected = PUBLIC_CALLS[key]
    response = await call(app)
    assert response.status_code == expected, f"{route_id(key)}: {response.status_code} {response.text[:500]}"
    if response.status_code != 204:
        assert "error" not in response.json()


# -- WebSocket routes --------------------------------------------------------------------------------

# WebSocket routes authenticate inside the handler (an upgrade request has no `Request` for the
# HTTP dependencies, and a browser can send no auth header on it), so no walk above sees them. Each
# is reviewed here, with the module testing its authentication and tenancy against a real server.
WEBSOCKET_ROUTES: dict[str, str] = {
    f"{API}/executions/{{execution_id}}/stream": "tests/executions/test_stream.py",
}


def test_every_websocket_route_is_reviewed(app: FastAPI) -> None:
    assert sorted(websocket_paths(app)) == sorted(WEBSOCKET_ROUTES), (
        "A WebSocket route escapes every HTTP route walk: authenticate it in its handler, test that "
        "against a running server, and list it in WEBSOCKET_ROUTES."
    )


@pytest.mark.parametrize("path", sorted(WEBSOCKET_ROUTES))
def test_websocket_routes_close_anonymous_connections_with_4401(path: str) -> None:
    """Before reading anything: the app built from collection-time settings has no database or
    Redis, so any I/O before the check would fail differently."""
    client = TestClient(collection_time_app())
    with client.websocket_connect(with_random_ids(path)) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (4401, "AUTH_REQUIRED")
