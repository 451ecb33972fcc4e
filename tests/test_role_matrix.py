"""Role and API-key matrix (spec §8.2): who may call what, checked route by route.

`EXPECTED_MIN_ROLE` is written from the spec, not derived from the code, and must list every
non-public route the app serves: a new route fails `test_the_table_covers_every_route` until
someone decides who may call it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from agentflow.kit.permissions import ALL_SCOPES
from tests.api_fixtures import (
    API,
    Account,
    OrgWorld,
    add_member,
    assert_error,
    create_agent,
    create_api_key,
    create_execution,
    create_template,
    signup,
    unique,
)
from tests.engine.graphs import chat, minimal
from tests.routes import PATH_PARAM, protected_routes, route_id

ROLES = ("viewer", "editor", "admin", "owner")  # weakest first
ANY_USER = None  # any signed-in member, whatever their role

EXPECTED_MIN_ROLE: dict[tuple[str, str], str | None] = {
    ("GET", f"{API}/auth/me"): ANY_USER,
    ("POST", f"{API}/auth/switch-org"): ANY_USER,
    ("GET", f"{API}/org"): "viewer",
    ("PUT", f"{API}/org"): "admin",
    ("GET", f"{API}/org/members"): "viewer",
    ("POST", f"{API}/org/members/invite"): "admin",
    ("PUT", f"{API}/org/members/{{member_id}}/role"): "admin",
    ("DELETE", f"{API}/org/members/{{member_id}}"): "admin",
    ("GET", f"{API}/org/invitations"): "admin",
    ("DELETE", f"{API}/org/invitations/{{invitation_id}}"): "admin",
    ("GET", f"{API}/org/outbox"): "admin",
    ("GET", f"{API}/org/api-keys"): "admin",
    ("POST", f"{API}/org/api-keys"): "admin",
    ("DELETE", f"{API}/org/api-keys/{{key_id}}"): "admin",
    ("GET", f"{API}/org/audit-logs"): "admin",
    # Agents: viewers read, editors build and publish, admins archive.
    ("GET", f"{API}/node-types"): "viewer",
    ("GET", f"{API}/agents"): "viewer",
    ("POST", f"{API}/agents"): "editor",
    ("POST", f"{API}/agents/import"): "editor",
    ("GET", f"{API}/agents/{{agent_id}}"): "viewer",
    ("PUT", f"{API}/agents/{{agent_id}}"): "editor",
    ("DELETE", f"{API}/agents/{{agent_id}}"): "admin",
    ("PUT", f"{API}/agents/{{agent_id}}/status"): "editor",
    ("GET", f"{API}/agents/{{agent_id}}/draft"): "viewer",
    ("PUT", f"{API}/agents/{{agent_id}}/draft"): "editor",
    ("POST", f"{API}/agents/{{agent_id}}/validate"): "viewer",
    ("POST", f"{API}/agents/{{agent_id}}/publish"): "editor",
    ("GET", f"{API}/agents/{{agent_id}}/versions"): "viewer",
    ("GET", f"{API}/agents/{{agent_id}}/versions/{{version}}"): "viewer",
    ("POST", f"{API}/agents/{{agent_id}}/versions/{{version}}/restore"): "editor",
    ("GET", f"{API}/agents/{{agent_id}}/diff"): "viewer",
    ("GET", f"{API}/agents/{{agent_id}}/export"): "viewer",
    # Templates: viewers browse; editors install and publish org templates (public ones need an
    # admin, checked in the service: test_only_admins_publish_public_templates).
    ("GET", f"{API}/templates"): "viewer",
    ("GET", f"{API}/templates/{{template_id}}"): "viewer",
    ("POST", f"{API}/templates/{{template_id}}/install"): "editor",
    ("POST", f"{API}/templates"): "editor",
    # LLM providers: admins manage the org's own keys; everyone may see which models it can use.
    ("GET", f"{API}/org/providers"): "admin",
    ("GET", f"{API}/org/providers/{{provider}}"): "admin",
    ("PUT", f"{API}/org/providers/{{provider}}"): "admin",
    ("DELETE", f"{API}/org/providers/{{provider}}"): "admin",
    ("GET", f"{API}/models"): "viewer",
    # Executions: viewers read, editors run, cancel and decide approvals (signed-in people only).
    ("POST", f"{API}/agents/{{agent_id}}/execute"): "editor",
    ("POST", f"{API}/agents/{{agent_id}}/test"): "editor",
    ("GET", f"{API}/executions"): "viewer",
    ("GET", f"{API}/executions/pending-approvals"): "viewer",
    ("GET", f"{API}/executions/{{execution_id}}"): "viewer",
    ("GET", f"{API}/executions/{{execution_id}}/steps"): "viewer",
    ("GET", f"{API}/executions/{{execution_id}}/logs"): "viewer",
    ("POST", f"{API}/executions/{{execution_id}}/cancel"): "editor",
    ("POST", f"{API}/executions/{{execution_id}}/approve"): "editor",
    # Watching a run live (the WebSocket stream is checked in tests/executions/test_stream.py).
    ("GET", f"{API}/executions/{{execution_id}}/events"): "viewer",
    ("POST", f"{API}/executions/{{execution_id}}/stream-ticket"): "viewer",
    # Integrations: everyone sees what is connected (never the secrets); admins connect and disconnect.
    ("GET", f"{API}/integrations/available"): "viewer",
    ("GET", f"{API}/integrations"): "viewer",
    ("POST", f"{API}/integrations/{{integration}}/connect"): "admin",
    ("DELETE", f"{API}/integrations/{{integration_id}}"): "admin",
    # Triggers: the webhook URL and signing secret start the agent, so only its editors see them.
    ("GET", f"{API}/agents/{{agent_id}}/triggers"): "editor",
    ("POST", f"{API}/agents/{{agent_id}}/triggers/webhook/rotate"): "editor",
}

PEOPLE_ONLY = None  # no API key may call it, whatever its scopes
ANY_KEY = "*"  # any valid key, whatever its scopes

# The scope an API key needs for each route (spec §8.1/§8.2: keys never manage members, keys,
# billing, the org itself or its integrations' credentials).
KEY_SCOPE: dict[tuple[str, str], str | None] = {
    ("GET", f"{API}/auth/me"): ANY_KEY,
    ("POST", f"{API}/auth/switch-org"): PEOPLE_ONLY,
    ("GET", f"{API}/org"): "org:read",
    ("PUT", f"{API}/org"): PEOPLE_ONLY,
    ("GET", f"{API}/org/members"): "org:read",
    ("POST", f"{API}/org/members/invite"): PEOPLE_ONLY,
    ("PUT", f"{API}/org/members/{{member_id}}/role"): PEOPLE_ONLY,
    ("DELETE", f"{API}/org/members/{{member_id}}"): PEOPLE_ONLY,
    ("GET", f"{API}/org/invitations"): PEOPLE_ONLY,
    ("DELETE", f"{API}/org/invitations/{{invitation_id}}"): PEOPLE_ONLY,
    ("GET", f"{API}/org/outbox"): PEOPLE_ONLY,
    ("GET", f"{API}/org/api-keys"): PEOPLE_ONLY,
    ("POST", f"{API}/org/api-keys"): PEOPLE_ONLY,
    ("DELETE", f"{API}/org/api-keys/{{key_id}}"): PEOPLE_ONLY,
    ("GET", f"{API}/org/audit-logs"): "audit:read",
    ("GET", f"{API}/node-types"): "agents:read",
    ("GET", f"{API}/agents"): "agents:read",
    ("POST", f"{API}/agents"): "agents:write",
    ("POST", f"{API}/agents/import"): "agents:write",
    ("GET", f"{API}/agents/{{agent_id}}"): "agents:read",
    ("PUT", f"{API}/agents/{{agent_id}}"): "agents:write",
    ("DELETE", f"{API}/agents/{{agent_id}}"): "agents:delete",
    ("PUT", f"{API}/agents/{{agent_id}}/status"): "agents:write",
    ("GET", f"{API}/agents/{{agent_id}}/draft"): "agents:read",
    ("PUT", f"{API}/agents/{{agent_id}}/draft"): "agents:write",
    ("POST", f"{API}/agents/{{agent_id}}/validate"): "agents:read",
    ("POST", f"{API}/agents/{{agent_id}}/publish"): "agents:write",
    ("GET", f"{API}/agents/{{agent_id}}/versions"): "agents:read",
    ("GET", f"{API}/agents/{{agent_id}}/versions/{{version}}"): "agents:read",
    ("POST", f"{API}/agents/{{agent_id}}/versions/{{version}}/restore"): "agents:write",
    ("GET", f"{API}/agents/{{agent_id}}/diff"): "agents:read",
    ("GET", f"{API}/agents/{{agent_id}}/export"): "agents:read",
    ("GET", f"{API}/templates"): "agents:read",
    ("GET", f"{API}/templates/{{template_id}}"): "agents:read",
    ("POST", f"{API}/templates/{{template_id}}/install"): "agents:write",
    ("POST", f"{API}/templates"): "agents:write",
    ("GET", f"{API}/org/providers"): PEOPLE_ONLY,
    ("GET", f"{API}/org/providers/{{provider}}"): PEOPLE_ONLY,
    ("PUT", f"{API}/org/providers/{{provider}}"): PEOPLE_ONLY,
    ("DELETE", f"{API}/org/providers/{{provider}}"): PEOPLE_ONLY,
    ("GET", f"{API}/models"): "agents:read",
    ("POST", f"{API}/agents/{{agent_id}}/execute"): "executions:write",
    ("POST", f"{API}/agents/{{agent_id}}/test"): "executions:write",
    ("GET", f"{API}/executions"): "executions:read",
    ("GET", f"{API}/executions/pending-approvals"): PEOPLE_ONLY,
    ("GET", f"{API}/executions/{{execution_id}}"): "executions:read",
    ("GET", f"{API}/executions/{{execution_id}}/steps"): "executions:read",
    ("GET", f"{API}/executions/{{execution_id}}/logs"): "executions:read",
    ("POST", f"{API}/executions/{{execution_id}}/cancel"): "executions:write",
    ("POST", f"{API}/executions/{{execution_id}}/approve"): PEOPLE_ONLY,
    ("GET", f"{API}/executions/{{execution_id}}/events"): "executions:read",
    ("POST", f"{API}/executions/{{execution_id}}/stream-ticket"): "executions:read",
    ("GET", f"{API}/integrations/available"): "integrations:read",
    ("GET", f"{API}/integrations"): "integrations:read",
    ("POST", f"{API}/integrations/{{integration}}/connect"): PEOPLE_ONLY,
    ("DELETE", f"{API}/integrations/{{integration_id}}"): PEOPLE_ONLY,
    ("GET", f"{API}/agents/{{agent_id}}/triggers"): "agents:write",
    ("POST", f"{API}/agents/{{agent_id}}/triggers/webhook/rotate"): "agents:write",
}

# A write scope includes reading (spec §8.1): these scopes also pass a route needing the key scope.
IMPLIED_BY: dict[str, tuple[str, ...]] = {
    "agents:read": ("agents:write",),
    "executions:read": ("executions:write",),
    "knowledge:read": ("knowledge:write",),
}


def assert_ok(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    assert 200 <= response.status_code < 300, f"{where}: {response.status_code} {response.text[:500]}"


# -- fresh targets and bodies, so allowed calls have something valid to act on ---------------------
# (calls act on these, never on the four people of `module_world`, the org shared by the module)

TargetFactory = Callable[[httpx.AsyncClient, OrgWorld], Awaitable[str]]


async def _fresh_member(client: httpx.AsyncClient, world: OrgWorld) -> str:
    member = await add_member(client, world.owner, "viewer")
    assert member.member_id
    return member.member_id


async def _fresh_invitation(client: httpx.AsyncClient, world: OrgWorld) -> str:
    response = await client.post(
        f"{API}/org/members/invite", headers=world.owner.headers, json={"email": f"{unique('inv')}@example.com"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _fresh_key(client: httpx.AsyncClient, world: OrgWorld) -> str:
    return str((await create_api_key(client, world.owner, scopes=["org:read"]))["id"])


async def _fresh_agent(client: httpx.AsyncClient, world: OrgWorld) -> str:
    """An agent with a valid draft and version 1 published: every agent route can act on it."""
    return str((await create_agent(client, world.owner))["id"])


async def _version(client: httpx.AsyncClient, world: OrgWorld) -> str:
    return "1"  # the version `_fresh_agent` published


async def _fresh_template(client: httpx.AsyncClient, world: OrgWorld) -> str:
    return str((await create_template(client, world.owner))["id"])


def provider_key_body() -> dict[str, str]:
    """A fresh OpenAI key (checking it fails at once in tests: it is stored unverified)."""
    return {"api_key": f"sk-test-{unique('key')}"}


async def _provider_with_key(client: httpx.AsyncClient, world: OrgWorld) -> str:
    """OpenAI, with a fresh key of the org stored for it, so there is one to read, replace or delete."""
    response = await client.put(f"{API}/org/providers/openai", headers=world.owner.headers, json=provider_key_body())
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "org", response.text
    return "openai"


async def _waiting_execution(client: httpx.AsyncClient, world: OrgWorld) -> str:
    """An execution waiting for an approval any editor may give (cancel and approve act on it)."""
    return str((await create_execution(client, world.owner))["id"])


def http_credentials_body() -> dict[str, Any]:
    return {"name": unique("api"), "credentials": {"type": "bearer", "token": f"tok-{unique('secret')}"}}


async def _http_integration(client: httpx.AsyncClient, world: OrgWorld) -> str:
    return "http"


async def _fresh_connection(client: httpx.AsyncClient, world: OrgWorld) -> str:
    response = await client.post(
        f"{API}/integrations/http/connect", headers=world.owner.headers, json=http_credentials_body()
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


TARGET_FACTORIES: dict[str, TargetFactory] = {
    "member_id": _fresh_member,
    "invitation_id": _fresh_invitation,
    "key_id": _fresh_key,
    "agent_id": _fresh_agent,
    "version": _version,
    "template_id": _fresh_template,
    "provider": _provider_with_key,
    "execution_id": _waiting_execution,
    "integration": _http_integration,
    "integration_id": _fresh_connection,
}


async def _webhook_agent(client: httpx.AsyncClient, world: OrgWorld) -> str:
    """A published agent started by a webhook (rotating its URL needs one)."""
    graph = minimal(chat("greet"))
    graph["nodes"][0] = {**graph["nodes"][0], "type": "trigger", "subtype": "webhook", "config": {}}
    return str((await create_agent(client, world.owner, definition=graph))["id"])


# Routes whose target must be of a particular kind: (route) -> {path parameter: factory}.
ROUTE_TARGET_FACTORIES: dict[tuple[str, str], dict[str, TargetFactory]] = {
    ("POST", f"{API}/agents/{{agent_id}}/triggers/webhook/rotate"): {"agent_id": _webhook_agent},
}


@dataclass
class Call:
    """What a test sends: the path (with its targets and query) and the body, if any."""

    path: str
    params: dict[str, str] = field(default_factory=dict)  # the path parameters' values
    json: dict[str, Any] | None = None
    content: bytes | None = None  # a raw body (the agent import's YAML document)
    headers: dict[str, str] = field(default_factory=dict)

    async def send(self, client: httpx.AsyncClient, method: str, headers: dict[str, str]) -> httpx.Response:
        return await client.request(
            method, self.path, json=self.json, content=self.content, headers={**self.headers, **headers}
        )


BODIES: dict[tuple[str, str], Callable[[OrgWorld], dict[str, Any]]] = {
    ("POST", f"{API}/auth/switch-org"): lambda w: {"org_id": w.org_id},
    ("PUT", f"{API}/org"): lambda w: {"name": unique("Renamed")},
    ("POST", f"{API}/org/members/invite"): lambda w: {"email": f"{unique('inv')}@example.com", "role": "viewer"},
    ("PUT", f"{API}/org/members/{{member_id}}/role"): lambda w: {"role": "editor"},
    ("POST", f"{API}/org/api-keys"): lambda w: {"name": unique("key"), "scopes": ["org:read"]},
    ("POST", f"{API}/agents"): lambda w: {"name": unique("agent"), "definition": minimal(chat("greet"))},
    ("PUT", f"{API}/agents/{{agent_id}}"): lambda w: {"name": unique("Renamed"), "description": "Renamed"},
    ("PUT", f"{API}/agents/{{agent_id}}/status"): lambda w: {"status": "paused"},
    ("POST", f"{API}/agents/{{agent_id}}/validate"): lambda w: {"definition": minimal(chat("greet"))},
    ("POST", f"{API}/agents/{{agent_id}}/publish"): lambda w: {"change_message": "Second"},
    ("POST", f"{API}/templates/{{template_id}}/install"): lambda w: {"name": unique("installed")},
    ("PUT", f"{API}/org/providers/{{provider}}"): lambda w: provider_key_body(),
    ("POST", f"{API}/agents/{{agent_id}}/execute"): lambda w: {"input": {"name": "Matrix"}},
    ("POST", f"{API}/agents/{{agent_id}}/test"): lambda w: {"input": {"name": "Matrix"}},
    ("POST", f"{API}/executions/{{execution_id}}/approve"): lambda w: {"decision": "approve", "comment": "ok"},
    ("POST", f"{API}/integrations/{{integration}}/connect"): lambda w: http_credentials_body(),
}


async def _draft_body(client: httpx.AsyncClient, world: OrgWorld, params: dict[str, str]) -> dict[str, Any]:
    """The draft as GET /draft shows it, changed, with the revision it was loaded at."""
    draft = await client.get(f"{API}/agents/{params['agent_id']}/draft", headers=world.owner.headers)
    assert draft.status_code == 200, draft.text
    return {"definition": minimal(chat("greet", "Changed")), "revision": draft.json()["revision"]}


async def _template_body(client: httpx.AsyncClient, world: OrgWorld, params: dict[str, str]) -> dict[str, Any]:
    """An org template from a fresh published agent."""
    agent = await create_agent(client, world.owner)
    return {"agent_id": agent["id"], "version": 1, "name": unique("template"), "visibility": "org"}


# Bodies that depend on the target's current state (or need a target of their own).
TARGET_BODIES: dict[tuple[str, str], Callable[[httpx.AsyncClient, OrgWorld, dict[str, str]], Awaitable[Any]]] = {
    ("PUT", f"{API}/agents/{{agent_id}}/draft"): _draft_body,
    ("POST", f"{API}/templates"): _template_body,
}

# Routes reading a raw body (no schema body): (content type, body).
RAW_BODIES: dict[tuple[str, str], Callable[[OrgWorld], tuple[str, bytes]]] = {
    ("POST", f"{API}/agents/import"): lambda w: (
        "application/yaml",
        yaml.safe_dump({"name": unique("imported"), "definition": minimal(chat("greet"))}).encode(),
    ),
}

# Required query parameters.
QUERY: dict[tuple[str, str], dict[str, str]] = {
    ("GET", f"{API}/agents/{{agent_id}}/diff"): {"from": "1"},
}


async def build_request(app: FastAPI, client: httpx.AsyncClient, world: OrgWorld, key: tuple[str, str]) -> Call:
    template = key[1]
    route = protected_routes(app)[key]
    path, params = template, {}
    for name in PATH_PARAM.findall(template):
        if name not in TARGET_FACTORIES:
            pytest.fail(f"{route_id(key)}: add a factory for path parameter '{name}' to TARGET_FACTORIES")
        factory = ROUTE_TARGET_FACTORIES.get(key, {}).get(name, TARGET_FACTORIES[name])
        params[name] = await factory(client, world)
        path = path.replace(f"{{{name}}}", params[name])
    required = [q.alias or q.name for q in route.dependant.query_params if q.field_info.is_required()]
    if any(name not in QUERY.get(key, {}) for name in required):
        pytest.fail(f"{route_id(key)} requires query parameters {required}: add them to QUERY")
    if key in QUERY:
        path += "?" + "&".join(f"{k}={v}" for k, v in QUERY[key].items())
    call = Call(path, params)
    if key in RAW_BODIES:
        content_type, call.content = RAW_BODIES[key](world)
        call.headers = {"Content-Type": content_type}
    elif route.body_field is not None:
        if key in TARGET_BODIES:
            call.json = await TARGET_BODIES[key](client, world, params)
        elif key in BODIES:
            call.json = BODIES[key](world)
        else:
            pytest.fail(f"{route_id(key)} takes a body: add a valid one to BODIES in tests/test_role_matrix.py")
    return call


def _comparable(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for item in items:
        item.pop("last_used_at", None)  # touched by the key's own authentication
    return items


async def org_snapshot(client: httpx.AsyncClient, owner: Account) -> dict[str, Any]:
    """Everything a denied call could have changed, as the owner sees it: the org, its people and
    keys, its newest agents (a target's status, name, draft revision and latest version included),
    its own templates (with their install counts) and its LLM provider keys (hint and time of the
    last change included)."""
    snapshot: dict[str, Any] = {}
    lists: dict[str, dict[str, str]] = {
        "/org/members": {},
        "/org/invitations": {},
        "/org/api-keys": {},
        "/agents": {"include_archived": "true"},
        "/templates": {"mine": "true"},
    }
    org = await client.get(f"{API}/org", headers=owner.headers)
    assert org.status_code == 200, org.text
    snapshot["/org"] = org.json()
    providers = await client.get(f"{API}/org/providers", headers=owner.headers)
    assert providers.status_code == 200, providers.text
    snapshot["/org/providers"] = providers.json()
    for path, params in lists.items():
        response = await client.get(f"{API}{path}", headers=owner.headers, params={**params, "limit": 100})
        assert response.status_code == 200, response.text
        snapshot[path] = _comparable(response.json()["items"])
    return snapshot


# -- the table matches the app ---------------------------------------------------------------------


def test_the_table_covers_every_route(app: FastAPI) -> None:
    served = set(protected_routes(app))
    missing = sorted(served - set(EXPECTED_MIN_ROLE))
    assert not missing, f"Routes without an expected minimum role; add them to EXPECTED_MIN_ROLE: {missing}"
    stale = sorted(set(EXPECTED_MIN_ROLE) - served)
    assert not stale, f"EXPECTED_MIN_ROLE lists routes the app does not serve: {stale}"
    assert set(KEY_SCOPE) == set(EXPECTED_MIN_ROLE), "KEY_SCOPE must list exactly the routes of EXPECTED_MIN_ROLE"


# -- people ----------------------------------------------------------------------------------------

MATRIX = [(key, role) for key in EXPECTED_MIN_ROLE for role in ROLES]


def _allowed(key: tuple[str, str], role: str) -> bool:
    minimum = EXPECTED_MIN_ROLE[key]
    return minimum is ANY_USER or ROLES.index(role) >= ROLES.index(minimum)


@pytest.mark.parametrize(("key", "role"), MATRIX, ids=[f"{route_id(k)}-{r}" for k, r in MATRIX])
async def test_role_matrix(
    app: FastAPI, module_client: httpx.AsyncClient, module_world: OrgWorld, key: tuple[str, str], role: str
) -> None:
    method, _ = key
    call = await build_request(app, module_client, module_world, key)
    before = await org_snapshot(module_client, module_world.owner)
    response = await call.send(module_client, method, module_world.by_role(role).headers)
    if _allowed(key, role):
        assert_ok(response)
    else:
        error = assert_error(response, 403, "FORBIDDEN")
        assert error["details"].get("required_permission"), error
        assert await org_snapshot(module_client, module_world.owner) == before, "a refused call changed the org"


# -- API keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(KEY_SCOPE), ids=route_id)
async def test_a_key_with_every_scope_reaches_only_key_routes(
    app: FastAPI, module_client: httpx.AsyncClient, module_world: OrgWorld, key: tuple[str, str]
) -> None:
    method, _ = key
    call = await build_request(app, module_client, module_world, key)
    before = await org_snapshot(module_client, module_world.owner)
    response = await call.send(module_client, method, {"X-API-Key": module_world.api_key})
    if KEY_SCOPE[key] is PEOPLE_ONLY:
        error = assert_error(response, 403)
        assert error["code"] in {"FORBIDDEN", "USER_REQUIRED"}, error
        assert await org_snapshot(module_client, module_world.owner) == before, "a refused key changed the org"
    else:
        assert_ok(response)


SCOPED_ROUTES = [key for key, scope in KEY_SCOPE.items() if scope not in (PEOPLE_ONLY, ANY_KEY)]


@pytest.mark.parametrize("key", SCOPED_ROUTES, ids=route_id)
async def test_a_key_needs_exactly_the_routes_scope(
    app: FastAPI, module_client: httpx.AsyncClient, module_world: OrgWorld, key: tuple[str, str]
) -> None:
    """The route's scope (or one including it) lets a key in; every other scope together does not."""
    method, _ = key
    scope = KEY_SCOPE[key]
    assert scope is not None
    granting = (scope, *IMPLIED_BY.get(scope, ()))
    without = await create_api_key(
        module_client, module_world.owner, scopes=[s for s in ALL_SCOPES if s not in granting]
    )
    call = await build_request(app, module_client, module_world, key)
    before = await org_snapshot(module_client, module_world.owner)
    refused = await call.send(module_client, method, {"X-API-Key": without["key"]})
    assert_error(refused, 403, "FORBIDDEN")
    assert await org_snapshot(module_client, module_world.owner) == before, "a refused key changed the org"
    for granted in granting:
        with_scope = await create_api_key(module_client, module_world.owner, scopes=[granted])
        call = await build_request(app, module_client, module_world, key)  # fresh targets for each call
        assert_ok(await call.send(module_client, method, {"X-API-Key": with_scope["key"]}))


async def test_any_key_may_ask_who_it_is(module_client: httpx.AsyncClient, module_world: OrgWorld) -> None:
    narrow = await create_api_key(module_client, module_world.owner, scopes=["agents:read"])
    response = await module_client.get(f"{API}/auth/me", headers={"X-API-Key": narrow["key"]})
    assert_ok(response)
    assert response.json()["api_key"]["id"] == narrow["id"]
    assert response.json()["user"] is None


async def test_org_read_key_reads_the_org_but_not_the_audit_log(
    module_client: httpx.AsyncClient, module_world: OrgWorld
) -> None:
    key = {"X-API-Key": (await create_api_key(module_client, module_world.owner, scopes=["org:read"]))["key"]}
    org = await module_client.get(f"{API}/org", headers=key)
    assert_ok(org)
    assert org.json()["id"] == module_world.org_id
    members = await module_client.get(f"{API}/org/members", headers=key)
    assert_ok(members)
    assert module_world.viewer.email in {m["email"] for m in members.json()["items"]}
    assert_error(await module_client.get(f"{API}/org/audit-logs", headers=key), 403, "FORBIDDEN")


async def test_audit_read_key_reads_the_audit_log(module_client: httpx.AsyncClient, module_world: OrgWorld) -> None:
    key = {"X-API-Key": (await create_api_key(module_client, module_world.owner, scopes=["audit:read"]))["key"]}
    logs = await module_client.get(f"{API}/org/audit-logs", headers=key, params={"action": "member.invited"})
    assert_ok(logs)
    assert {entry["action"] for entry in logs.json()["items"]} == {"member.invited"}
    assert_error(await module_client.get(f"{API}/org/members", headers=key), 403, "FORBIDDEN")


# -- templates for everyone ------------------------------------------------------------------------


@pytest.mark.parametrize("credential", [*ROLES, "api_key"])
async def test_only_admins_publish_public_templates(
    module_client: httpx.AsyncClient, module_world: OrgWorld, credential: str
) -> None:
    """Publishing a template is editor work, but one for every org needs an admin (checked in the
    service, so the route's own permission is the editor's); an API key never holds that power."""
    agent = await create_agent(module_client, module_world.owner)
    headers = (
        {"X-API-Key": module_world.api_key} if credential == "api_key" else module_world.by_role(credential).headers
    )
    # "zz-": public templates are listed to every org by name; these sort after everyone else's.
    body = {"agent_id": agent["id"], "name": unique("zz-public"), "visibility": "public"}
    before = await org_snapshot(module_client, module_world.owner)
    response = await module_client.post(f"{API}/templates", headers=headers, json=body)
    if credential in ("admin", "owner"):
        assert_ok(response)
        assert response.json()["is_public"] is True
    else:
        assert_error(response, 403, "FORBIDDEN")
        assert await org_snapshot(module_client, module_world.owner) == before, "a refused publish changed the org"
        public = await module_client.get(
            f"{API}/templates", headers=module_world.owner.headers, params={"q": body["name"]}
        )
        assert public.json()["items"] == []


# -- ownership -------------------------------------------------------------------------------------


async def _roles(client: httpx.AsyncClient, owner: Account) -> dict[str, str]:
    response = await client.get(f"{API}/org/members", headers=owner.headers, params={"limit": 100})
    assert response.status_code == 200, response.text
    return {m["id"]: m["role"] for m in response.json()["items"]}


async def _set_role(client: httpx.AsyncClient, actor: Account, member_id: str | None, role: str) -> httpx.Response:
    return await client.put(f"{API}/org/members/{member_id}/role", headers=actor.headers, json={"role": role})


async def _owner_org(client: httpx.AsyncClient) -> Account:
    owner = await signup(client, name="Owner")
    members = await client.get(f"{API}/org/members", headers=owner.headers)
    owner.member_id = members.json()["items"][0]["id"]
    return owner


async def test_an_admin_cannot_grant_change_or_remove_ownership(module_client: httpx.AsyncClient) -> None:
    owner = await _owner_org(module_client)
    admin = await add_member(module_client, owner, "admin")
    target = await add_member(module_client, owner, "viewer")
    co_owner = await add_member(module_client, owner, "viewer")
    assert_ok(await _set_role(module_client, owner, co_owner.member_id, "owner"))  # two owners: no LAST_OWNER in play

    assert_error(await _set_role(module_client, admin, target.member_id, "owner"), 403, "OWNER_REQUIRED")
    for an_owner in (owner, co_owner):
        assert_error(await _set_role(module_client, admin, an_owner.member_id, "admin"), 403, "OWNER_REQUIRED")
        removed = await module_client.delete(f"{API}/org/members/{an_owner.member_id}", headers=admin.headers)
        assert_error(removed, 403, "OWNER_REQUIRED")
    invite = await module_client.post(
        f"{API}/org/members/invite", headers=admin.headers, json={"email": f"{unique()}@example.com", "role": "owner"}
    )
    assert_error(invite, 403, "OWNER_REQUIRED")

    roles = await _roles(module_client, owner)
    assert roles[str(owner.member_id)] == "owner"
    assert roles[str(co_owner.member_id)] == "owner"
    assert roles[str(target.member_id)] == "viewer"
    # The admin still manages everyone below owner.
    assert_ok(await _set_role(module_client, admin, target.member_id, "editor"))


async def test_the_owner_can_grant_change_and_remove_ownership(module_client: httpx.AsyncClient) -> None:
    owner = await _owner_org(module_client)
    member = await add_member(module_client, owner, "viewer")
    promoted = await _set_role(module_client, owner, member.member_id, "owner")
    assert_ok(promoted)
    assert promoted.json()["role"] == "owner"
    demoted = await _set_role(module_client, owner, member.member_id, "admin")
    assert_ok(demoted)
    assert demoted.json()["role"] == "admin"
    assert_ok(await _set_role(module_client, owner, member.member_id, "owner"))
    removed = await module_client.delete(f"{API}/org/members/{member.member_id}", headers=owner.headers)
    assert removed.status_code == 204, removed.text
    assert await _roles(module_client, owner) == {owner.member_id: "owner"}


async def test_the_last_owner_can_be_neither_demoted_nor_removed(module_client: httpx.AsyncClient) -> None:
    owner = await _owner_org(module_client)
    for role in ("admin", "editor", "viewer"):
        assert_error(await _set_role(module_client, owner, owner.member_id, role), 409, "LAST_OWNER")
    removed = await module_client.delete(f"{API}/org/members/{owner.member_id}", headers=owner.headers)
    assert_error(removed, 409, "LAST_OWNER")
    assert await _roles(module_client, owner) == {owner.member_id: "owner"}

    # With a second owner one may go; then the remaining one is the last again.
    other = await add_member(module_client, owner, "viewer")
    assert_ok(await _set_role(module_client, owner, other.member_id, "owner"))
    leaving = await module_client.delete(f"{API}/org/members/{owner.member_id}", headers=other.headers)
    assert leaving.status_code == 204, leaving.text
    assert_error(await _set_role(module_client, other, other.member_id, "admin"), 409, "LAST_OWNER")
    assert_error(
        await module_client.delete(f"{API}/org/members/{other.member_id}", headers=other.headers), 409, "LAST_OWNER"
    )
    assert await _roles(module_client, other) == {other.member_id: "owner"}
    assert_ok(await module_client.get(f"{API}/org", headers=other.headers))
