"""Two orgs, every route: org A can neither see nor touch org B (ARCHITECTURE.md §3).

The routes are read from the app, so a route added later is covered automatically. If it takes
a path parameter or a body this module does not know yet, the test fails and says what to add to
`FOREIGN_RESOURCE_FACTORIES` or `REQUEST_BODIES`.

Public templates (official ones included) are shared with every org on purpose; the foreign
template used here is a private one of org B.

Some path parameters are names, not ids: `/org/providers/{provider}` names an LLM provider (every
org has its own key slot behind the same name), `/integrations/{integration}/connect` a kind of
integration. Such routes (`NAME_PARAMS`) are walked by
`test_a_provider_name_reaches_only_the_callers_own_key`, where each must have an entry in
`NAMED_ROUTE_CHECKS` saying what org A's call must (not) see or do to org B's key.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext

from agentflow.kit.permissions import ALL_SCOPES, Permission, scopes_allow
from tests.api_fixtures import (
    API,
    PASSWORD,
    OrgWorld,
    add_member,
    assert_error,
    create_agent,
    create_api_key,
    create_execution,
    create_template,
    make_org_world,
    signup,
    unique,
)
from tests.engine.graphs import chat, minimal
from tests.routes import (
    PATH_PARAM,
    collection_time_app,
    dependency_calls,
    protected_routes,
    route_id,
    routes_by_key,
    with_random_ids,
)

_ROUTES = sorted(protected_routes(collection_time_app()))
# Path parameters naming something each org has its own of (an LLM provider's key slot), rather
# than a row that belongs to one org: see `test_a_provider_name_reaches_only_the_callers_own_key`.
NAME_PARAMS = frozenset({"provider", "integration"})
ROUTES_WITH_NAMES = [key for key in _ROUTES if NAME_PARAMS & set(PATH_PARAM.findall(key[1]))]
ROUTES_WITH_IDS = [key for key in _ROUTES if PATH_PARAM.search(key[1]) and key not in ROUTES_WITH_NAMES]
LIST_ROUTES = [key for key in _ROUTES if key[0] == "GET" and not PATH_PARAM.search(key[1])]


def assert_no_leak(response: httpx.Response, needles: Iterator[str] | list[str]) -> None:
    where = f"{response.request.method} {response.request.url}"
    leaked = [n for n in needles if n and n.lower() in response.text.lower()]
    assert not leaked, f"{where} shows org B data {leaked}: {response.text[:500]}"


def required_permission(route: RouteContext) -> Permission | None:
    found = [c.required_permission for c in dependency_calls(route.dependant) if hasattr(c, "required_permission")]
    return found[0] if found else None


# -- the two orgs: A is `module_world` (its people are never the target of a call here), B below ---


@pytest.fixture(scope="module")
async def other_world(module_client: httpx.AsyncClient) -> OrgWorld:
    """Org B, with data of every kind, and `extra["needles"]`: strings that identify it."""
    b = await make_org_world(module_client)
    org = (await module_client.get(f"{API}/org", headers=b.owner.headers)).json()
    pending = await _invite(module_client, b, f"{unique('b-pending')}@example.com")
    agent = await create_agent(module_client, b.owner, description=unique("b-agent-description"))
    template = await create_template(module_client, b.owner, description=unique("b-template-description"))
    b.extra["agent"], b.extra["template"] = agent, template
    b.extra["provider_key"] = await _store_provider_key(module_client, b.owner.headers, B_PROVIDER_KEY)
    b.extra["integration"] = await _connect_http(module_client, b, B_INTEGRATION_TOKEN)
    keys = (await module_client.get(f"{API}/org/api-keys", headers=b.owner.headers)).json()["items"]
    people = [b.owner, b.admin, b.editor, b.viewer]
    b.extra["needles"] = [
        b.org_id,
        org["name"],
        org["slug"],
        *(p.email for p in people),
        *(p.user_id for p in people),
        *(str(p.member_id) for p in people),
        b.api_key_id,
        *(k["prefix"] for k in keys),
        pending["id"],
        pending["email"],
        agent["id"],
        agent["name"],
        agent["description"],
        template["id"],
        template["name"],
        template["description"],
        b.extra["provider_key"]["key_hint"],
        b.extra["integration"]["id"],
        b.extra["integration"]["name"],
        b.extra["integration"]["hint"],
    ]
    # Never shown even to org B, so no control can find them; they must not appear anywhere either.
    b.extra["secrets"] = [B_PROVIDER_KEY, B_INTEGRATION_TOKEN]
    return b


# Org B's OpenAI key: its last four characters (the hint "…ORGB") show in B's answers only.
B_PROVIDER_KEY = f"sk-org-b-{uuid.uuid4().hex}-ORGB"
A_PROVIDER_KEY = f"sk-org-a-{uuid.uuid4().hex}-ORGA"


# Org B's HTTP integration token (its hint "…ORGB" shows in B's answers only).
B_INTEGRATION_TOKEN = f"tok-org-b-{uuid.uuid4().hex}-ORGB"
A_INTEGRATION_TOKEN = f"tok-org-a-{uuid.uuid4().hex}-ORGA"


async def _connect_http(client: httpx.AsyncClient, org: OrgWorld, token: str) -> dict[str, Any]:
    response = await client.post(
        f"{API}/integrations/http/connect",
        headers=org.owner.headers,
        json={"name": unique("b-integration"), "credentials": {"type": "bearer", "token": token}},
    )
    assert response.status_code == 201, response.text
    connected: dict[str, Any] = response.json()
    return connected


async def _store_provider_key(client: httpx.AsyncClient, headers: dict[str, str], api_key: str) -> dict[str, Any]:
    """Store `api_key` as the org's OpenAI key; returns the provider's status as the org sees it."""
    response = await client.put(f"{API}/org/providers/openai", headers=headers, json={"api_key": api_key})
    assert response.status_code == 200, response.text
    status: dict[str, Any] = response.json()
    assert status["source"] == "org" and status["key_hint"] == f"…{api_key[-4:]}", status
    return status


async def _invite(client: httpx.AsyncClient, org: OrgWorld, email: str) -> dict[str, Any]:
    response = await client.post(
        f"{API}/org/members/invite", headers=org.owner.headers, json={"email": email, "role": "viewer"}
    )
    assert response.status_code == 201, response.text
    invitation: dict[str, Any] = response.json()
    return invitation


# -- registries: how to make a resource of each kind, and a valid body for each route --------------


@dataclass
class Resource:
    id: str
    needles: list[str]  # strings identifying it that must not appear in the other org's answers
    check_unchanged: Callable[[], Awaitable[None]]


async def _member(client: httpx.AsyncClient, org: OrgWorld) -> Resource:
    member = await add_member(client, org.owner, "viewer")

    async def check_unchanged() -> None:
        members = await client.get(f"{API}/org/members", headers=org.owner.headers, params={"limit": 100})
        roles = {m["id"]: m["role"] for m in members.json()["items"]}
        assert roles.get(str(member.member_id)) == "viewer", f"member {member.member_id} changed: {roles}"
        assert (await client.get(f"{API}/org", headers=member.headers)).status_code == 200

    return Resource(str(member.member_id), [member.email, member.user_id], check_unchanged)


async def _api_key(client: httpx.AsyncClient, org: OrgWorld) -> Resource:
    key = await create_api_key(client, org.owner, scopes=["org:read"])

    async def check_unchanged() -> None:
        still = await client.get(f"{API}/org", headers={"X-API-Key": key["key"]})
        assert still.status_code == 200, f"key {key['id']} stopped working: {still.text}"
        assert still.json()["id"] == org.org_id
        listed = await client.get(f"{API}/org/api-keys", headers=org.owner.headers, params={"limit": 100})
        status = {k["id"]: k["status"] for k in listed.json()["items"]}
        assert status.get(key["id"]) == "active", status

    return Resource(key["id"], [key["name"], key["prefix"]], check_unchanged)


async def _invitation(client: httpx.AsyncClient, org: OrgWorld) -> Resource:
    invitation = await _invite(client, org, f"{unique('inv')}@example.com")

    async def check_unchanged() -> None:
        listed = await client.get(f"{API}/org/invitations", headers=org.owner.headers, params={"limit": 100})
        status = {i["id"]: i["status"] for i in listed.json()["items"]}
        assert status.get(invitation["id"]) == "pending", status

    return Resource(invitation["id"], [invitation["email"]], check_unchanged)


async def _agent_state(client: httpx.AsyncClient, org: OrgWorld, agent_id: str) -> dict[str, Any]:
    """The agent, its draft and its versions, as its own org sees them."""
    state = {}
    for part in ("", "/draft", "/versions"):
        response = await client.get(f"{API}/agents/{agent_id}{part}", headers=org.owner.headers)
        assert response.status_code == 200, response.text
        state[part] = response.json()
    return state


async def _agent(client: httpx.AsyncClient, org: OrgWorld) -> Resource:
    """A fresh agent with version 1 published (so version routes and restore have one)."""
    agent = await create_agent(client, org.owner, description=unique("agent-description"))
    before = await _agent_state(client, org, agent["id"])

    async def check_unchanged() -> None:
        assert await _agent_state(client, org, agent["id"]) == before, f"agent {agent['id']} changed"

    return Resource(agent["id"], [agent["name"], agent["description"]], check_unchanged)


async def _version(client: httpx.AsyncClient, org: OrgWorld) -> Resource:
    """A version number is no resource of its own: version 1 of the agent made by `_agent`."""

    async def check_unchanged() -> None:
        return None  # the agent's check covers its versions

    return Resource("1", [], check_unchanged)


async def _template(client: httpx.AsyncClient, org: OrgWorld) -> Resource:
    """A fresh private template (public ones are visible to every org on purpose)."""
    template = await create_template(client, org.owner, description=unique("template-description"))
    assert template["is_public"] is False

    async def check_unchanged() -> None:
        response = await client.get(f"{API}/templates/{template['id']}", headers=org.owner.headers)
        assert response.status_code == 200, response.text
        assert response.json() == template, f"template {template['id']} changed"  # install_count included

    return Resource(template["id"], [template["name"], template["description"]], check_unchanged)


async def _execution_state(client: httpx.AsyncClient, org: OrgWorld, execution_id: str) -> dict[str, Any]:
    state = {}
    for part in ("", "/steps", "/logs"):
        response = await client.get(f"{API}/executions/{execution_id}{part}", headers=org.owner.headers)
        assert response.status_code == 200, response.text
        state[part] = response.json()
    return state


async def _execution(client: httpx.AsyncClient, org: OrgWorld) -> Resource:
    """A fresh execution waiting for an approval (so cancel and approve have something to act on)."""
    execution = await create_execution(client, org.owner)
    before = await _execution_state(client, org, execution["id"])
    assert before[""]["status"] == "waiting_approval", before

    async def check_unchanged() -> None:
        assert await _execution_state(client, org, execution["id"]) == before, f"execution {execution['id']} changed"

    return Resource(execution["id"], [execution["agent_id"]], check_unchanged)


async def _integrations(client: httpx.AsyncClient, org: OrgWorld) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/integrations", headers=org.owner.headers)
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed


async def _integration(client: httpx.AsyncClient, org: OrgWorld) -> Resource:
    connected = await _connect_http(client, org, f"tok-{uuid.uuid4().hex}")

    async def check_unchanged() -> None:
        assert connected in await _integrations(client, org), f"integration {connected['id']} changed"

    return Resource(connected["id"], [connected["name"]], check_unchanged)


# Path parameter name -> a factory creating a fresh resource of that kind in the given org.
FOREIGN_RESOURCE_FACTORIES: dict[str, Callable[[httpx.AsyncClient, OrgWorld], Awaitable[Resource]]] = {
    "member_id": _member,
    "key_id": _api_key,
    "invitation_id": _invitation,
    "agent_id": _agent,
    "version": _version,
    "template_id": _template,
    "execution_id": _execution,
    "integration_id": _integration,
}


async def _webhook_agent(client: httpx.AsyncClient, org: OrgWorld) -> Resource:
    """A published agent started by a webhook, whose URL and secret must not change."""
    graph = minimal(chat("greet"))
    graph["nodes"][0] = {**graph["nodes"][0], "type": "trigger", "subtype": "webhook", "config": {}}
    agent = await create_agent(client, org.owner, definition=graph)
    before = (await client.get(f"{API}/agents/{agent['id']}/triggers", headers=org.owner.headers)).json()

    async def check_unchanged() -> None:
        after = await client.get(f"{API}/agents/{agent['id']}/triggers", headers=org.owner.headers)
        assert after.json() == before, f"agent {agent['id']}'s webhook changed"

    return Resource(agent["id"], [agent["name"], before["webhook"]["url"]], check_unchanged)


# Routes whose target must be of a particular kind: (route) -> {path parameter: factory}.
ResourceFactory = Callable[[httpx.AsyncClient, OrgWorld], Awaitable[Resource]]
ROUTE_RESOURCE_FACTORIES: dict[tuple[str, str], dict[str, ResourceFactory]] = {
    ("POST", f"{API}/agents/{{agent_id}}/triggers/webhook/rotate"): {"agent_id": _webhook_agent},
}

# A body that depends on the resource's current state, built as its own org would send it.
BodyFactory = Callable[[httpx.AsyncClient, OrgWorld, list[Resource]], Awaitable[dict[str, Any]]]


async def _draft_body(client: httpx.AsyncClient, org: OrgWorld, resources: list[Resource]) -> dict[str, Any]:
    """A new draft sent with the draft's current revision, so only tenancy can refuse it."""
    draft = await client.get(f"{API}/agents/{resources[0].id}/draft", headers=org.owner.headers)
    assert draft.status_code == 200, draft.text
    return {"definition": minimal(chat("hijacked", "Hijacked")), "revision": draft.json()["revision"]}


# (method, path template) -> a valid body; one that would visibly change the resource if applied.
REQUEST_BODIES: dict[tuple[str, str], dict[str, Any] | BodyFactory] = {
    ("PUT", f"{API}/org/members/{{member_id}}/role"): {"role": "admin"},
    ("PUT", f"{API}/agents/{{agent_id}}"): {"name": "Hijacked", "description": "Hijacked"},
    ("PUT", f"{API}/agents/{{agent_id}}/status"): {"status": "paused"},
    ("PUT", f"{API}/agents/{{agent_id}}/draft"): _draft_body,
    ("POST", f"{API}/agents/{{agent_id}}/validate"): {"definition": minimal(chat("greet"))},
    ("POST", f"{API}/agents/{{agent_id}}/publish"): {"change_message": "Hijacked"},
    ("POST", f"{API}/templates/{{template_id}}/install"): {"name": "Hijacked"},
    ("PUT", f"{API}/org/providers/{{provider}}"): {"api_key": A_PROVIDER_KEY},
    ("POST", f"{API}/agents/{{agent_id}}/execute"): {"input": {"hijacked": True}},
    ("POST", f"{API}/agents/{{agent_id}}/test"): {"input": {"hijacked": True}},
    ("POST", f"{API}/executions/{{execution_id}}/approve"): {"decision": "approve", "comment": "Hijacked"},
    ("POST", f"{API}/integrations/{{integration}}/connect"): {
        "name": "Hijacked",
        "credentials": {"type": "bearer", "token": A_INTEGRATION_TOKEN},
    },
}

# (method, path template) -> query parameters: the required ones, and ones reaching more data.
QUERY_PARAMS: dict[tuple[str, str], dict[str, str]] = {
    ("GET", f"{API}/agents/{{agent_id}}/diff"): {"from": "1", "to": "draft"},
    ("GET", f"{API}/agents/{{agent_id}}/export"): {"format": "json", "version": "1"},
}


def query_string(app: FastAPI, key: tuple[str, str]) -> str:
    query = protected_routes(app)[key].dependant.query_params
    required = [q.alias or q.name for q in query if q.field_info.is_required()]
    params = QUERY_PARAMS.get(key, {})
    missing = [name for name in required if name not in params]
    if missing:
        pytest.fail(f"{route_id(key)} requires query parameters {missing}: add them to QUERY_PARAMS")
    return f"?{urlencode(params)}" if params else ""


async def build_request(
    app: FastAPI, client: httpx.AsyncClient, org: OrgWorld, key: tuple[str, str]
) -> tuple[str, dict[str, Any] | None, list[Resource]]:
    """The route's path with fresh resources of `org` in its parameters (and query parameters
    from QUERY_PARAMS), and a valid body."""
    template = key[1]
    path, resources = template, []
    for name in PATH_PARAM.findall(template):
        if name not in FOREIGN_RESOURCE_FACTORIES:
            pytest.fail(
                f"{route_id(key)}: no factory for path parameter '{name}'. Add one to FOREIGN_RESOURCE_FACTORIES "
                "in tests/test_cross_tenant.py so this route is checked across tenants."
            )
        factory = ROUTE_RESOURCE_FACTORIES.get(key, {}).get(name, FOREIGN_RESOURCE_FACTORIES[name])
        resource = await factory(client, org)
        resources.append(resource)
        path = path.replace(f"{{{name}}}", resource.id)
    path += query_string(app, key)
    body = None
    if protected_routes(app)[key].body_field is not None:
        if key not in REQUEST_BODIES:
            pytest.fail(
                f"{route_id(key)} takes a body: add a valid one to REQUEST_BODIES in tests/test_cross_tenant.py"
            )
        entry = REQUEST_BODIES[key]
        body = entry if isinstance(entry, dict) else await entry(client, org, resources)
    return path, body, resources


# -- (a) another org's ids -------------------------------------------------------------------------


@pytest.mark.parametrize("credential", ["owner", "api_key"])
@pytest.mark.parametrize("key", ROUTES_WITH_IDS, ids=route_id)
async def test_another_orgs_ids_answer_like_unknown_ids(
    app: FastAPI,
    module_client: httpx.AsyncClient,
    module_world: OrgWorld,
    other_world: OrgWorld,
    key: tuple[str, str],
    credential: str,
) -> None:
    method, template = key
    headers = module_world.owner.headers if credential == "owner" else {"X-API-Key": module_world.api_key}
    path, body, foreign = await build_request(app, module_client, other_world, key)

    # A key whose scopes cannot grant the route is refused before any lookup (same answer for
    # every id, so nothing leaks); everyone else gets 404, for unknown and foreign ids alike.
    permission = required_permission(protected_routes(app)[key])
    key_may_call = permission is not None and scopes_allow(frozenset(ALL_SCOPES), permission)
    expected = 404 if credential == "owner" or key_may_call else 403

    unknown_path = with_random_ids(template, routes_by_key(app)[key]) + query_string(app, key)
    unknown = await module_client.request(method, unknown_path, headers=headers, json=body)
    unknown_error = assert_error(unknown, expected)
    response = await module_client.request(method, path, headers=headers, json=body)
    assert_error(response, expected, unknown_error["code"])
    assert_no_leak(
        response,
        [*other_world.extra["needles"], *other_world.extra["secrets"], *(n for r in foreign for n in r.needles)],
    )
    for resource in foreign:
        await resource.check_unchanged()


@pytest.mark.parametrize("key", ROUTES_WITH_IDS, ids=route_id)
async def test_the_same_call_on_own_ids_succeeds(
    app: FastAPI, module_client: httpx.AsyncClient, module_world: OrgWorld, key: tuple[str, str]
) -> None:
    """Control: the 404s above come from tenancy, not from a bad request."""
    method, _ = key
    path, body, _ = await build_request(app, module_client, module_world, key)
    response = await module_client.request(method, path, headers=module_world.owner.headers, json=body)
    assert 200 <= response.status_code < 300, f"{route_id(key)}: {response.status_code} {response.text[:500]}"


# -- (a') names: every org has its own key slot behind the same provider name ---------------------

# Name parameter -> the value used in calls (org B stored a key under it).
NAME_VALUES: dict[str, str] = {"provider": "openai", "integration": "http"}


async def _fresh_org_a(client: httpx.AsyncClient) -> OrgWorld:
    """A fresh org A (its owner and an every-scope key), so a call storing A's own key leaves no
    trace in the next test's org A."""
    owner = await signup(client, name="Owner A")
    key = await create_api_key(client, owner, scopes=list(ALL_SCOPES))
    return OrgWorld(owner=owner, admin=owner, editor=owner, viewer=owner, api_key=key["key"], api_key_id=key["id"])


async def _provider_status(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"{API}/org/providers/openai", headers=headers)
    assert response.status_code == 200, response.text
    status: dict[str, Any] = response.json()
    return status


def assert_no_org_key(status: dict[str, Any]) -> None:
    """A provider as an org that stored no key for it sees it: nothing of anyone's key."""
    assert status["source"] != "org", status
    for field in ("key_hint", "base_url", "verified_at", "last_error", "updated_at"):
        assert status[field] is None, status


async def _sees_no_key(client: httpx.AsyncClient, a: OrgWorld, response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert_no_org_key(response.json())


async def _stores_only_its_own_key(client: httpx.AsyncClient, a: OrgWorld, response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "org"
    assert response.json()["key_hint"] == f"…{A_PROVIDER_KEY[-4:]}", response.text
    assert (await _provider_status(client, a.owner.headers))["key_hint"] == f"…{A_PROVIDER_KEY[-4:]}"


async def _finds_no_key_to_delete(client: httpx.AsyncClient, a: OrgWorld, response: httpx.Response) -> None:
    assert_error(response, 404, "PROVIDER_KEY_NOT_FOUND")
    assert_no_org_key(await _provider_status(client, a.owner.headers))


async def _connects_only_in_its_own_org(client: httpx.AsyncClient, a: OrgWorld, response: httpx.Response) -> None:
    assert response.status_code == 201, response.text
    assert response.json()["hint"] == f"…{A_INTEGRATION_TOKEN[-4:]}", response.text
    assert [i["id"] for i in await _integrations(client, a)] == [response.json()["id"]]


# (method, path template) -> what org A's own call must have answered (and done in org A).
NAMED_ROUTE_CHECKS: dict[tuple[str, str], Callable[[httpx.AsyncClient, OrgWorld, httpx.Response], Awaitable[None]]] = {
    ("GET", f"{API}/org/providers/{{provider}}"): _sees_no_key,
    ("PUT", f"{API}/org/providers/{{provider}}"): _stores_only_its_own_key,
    ("DELETE", f"{API}/org/providers/{{provider}}"): _finds_no_key_to_delete,
    ("POST", f"{API}/integrations/{{integration}}/connect"): _connects_only_in_its_own_org,
}


def named_path(key: tuple[str, str]) -> str:
    path = key[1]
    for name in PATH_PARAM.findall(path):
        if name not in NAME_VALUES:
            pytest.fail(f"{route_id(key)}: add a value for path parameter '{name}' to NAME_VALUES")
        path = path.replace(f"{{{name}}}", NAME_VALUES[name])
    return path


def named_body(app: FastAPI, key: tuple[str, str]) -> dict[str, Any] | None:
    if protected_routes(app)[key].body_field is None:
        return None
    entry = REQUEST_BODIES.get(key)
    if not isinstance(entry, dict):
        pytest.fail(f"{route_id(key)} takes a body: add a valid one to REQUEST_BODIES in tests/test_cross_tenant.py")
    return entry


async def assert_b_key_unchanged(client: httpx.AsyncClient, b: OrgWorld) -> None:
    assert await _provider_status(client, b.owner.headers) == b.extra["provider_key"], "org B's key changed"
    models = await client.get(f"{API}/models", headers=b.owner.headers)
    assert models.status_code == 200, models.text
    assert all(m["available"] for m in models.json()["models"] if m["provider"] == "openai"), "org B lost its key"


@pytest.mark.parametrize("credential", ["owner", "api_key"])
@pytest.mark.parametrize("key", ROUTES_WITH_NAMES, ids=route_id)
async def test_a_provider_name_reaches_only_the_callers_own_key(
    app: FastAPI, module_client: httpx.AsyncClient, other_world: OrgWorld, key: tuple[str, str], credential: str
) -> None:
    """Org B stored an OpenAI key; org A, which stored none, calls the same provider's routes: A
    sees no key, deletes none (404 PROVIDER_KEY_NOT_FOUND), stores only its own, and B's key and
    its hint stay where they were, unseen."""
    if key not in NAMED_ROUTE_CHECKS:
        pytest.fail(f"{route_id(key)} takes a name: add what org A's call must answer to NAMED_ROUTE_CHECKS")
    method, _ = key
    a = await _fresh_org_a(module_client)
    headers = a.owner.headers if credential == "owner" else {"X-API-Key": a.api_key}
    response = await module_client.request(method, named_path(key), headers=headers, json=named_body(app, key))

    permission = required_permission(protected_routes(app)[key])
    key_may_call = permission is not None and scopes_allow(frozenset(ALL_SCOPES), permission)
    if credential == "owner" or key_may_call:
        await NAMED_ROUTE_CHECKS[key](module_client, a, response)
    else:
        assert_error(response, 403, "FORBIDDEN")
        assert_no_org_key(await _provider_status(module_client, a.owner.headers))
    assert_no_leak(response, [*other_world.extra["needles"], *other_world.extra["secrets"]])
    await assert_b_key_unchanged(module_client, other_world)


@pytest.mark.parametrize("key", ROUTES_WITH_NAMES, ids=route_id)
async def test_the_same_call_on_own_names_succeeds(
    app: FastAPI, module_client: httpx.AsyncClient, key: tuple[str, str]
) -> None:
    """Control: an org that stored its own key gets a 2xx from the same call, so the answers above
    come from tenancy, not from a bad request."""
    method, _ = key
    org = await _fresh_org_a(module_client)
    await _store_provider_key(module_client, org.owner.headers, f"sk-own-{uuid.uuid4().hex}")
    response = await module_client.request(
        method, named_path(key), headers=org.owner.headers, json=named_body(app, key)
    )
    assert 200 <= response.status_code < 300, f"{route_id(key)}: {response.status_code} {response.text[:500]}"


async def test_another_orgs_provider_key_is_not_the_callers(
    module_client: httpx.AsyncClient, other_world: OrgWorld
) -> None:
    """Org B's key neither shows in org A's provider list nor makes a model usable for org A
    (calls would otherwise run, and bill, on B's key)."""
    a = await _fresh_org_a(module_client)
    listed = await module_client.get(f"{API}/org/providers", headers=a.owner.headers)
    assert listed.status_code == 200, listed.text
    for status in listed.json():
        assert_no_org_key(status)
    models = await module_client.get(f"{API}/models", headers={"X-API-Key": a.api_key})
    assert models.status_code == 200, models.text
    openai_models = [m for m in models.json()["models"] if m["provider"] == "openai"]
    assert openai_models and not any(m["available"] for m in openai_models), openai_models
    for response in (listed, models):
        assert_no_leak(response, [*other_world.extra["needles"], *other_world.extra["secrets"]])
    # Control: org B sees its own key in both.
    b_listed = await module_client.get(f"{API}/org/providers", headers=other_world.owner.headers)
    assert {p["provider"]: p["source"] for p in b_listed.json()}["openai"] == "org"
    await assert_b_key_unchanged(module_client, other_world)


# -- (b) lists never show the other org --------------------------------------------------------------


@pytest.mark.parametrize("credential", ["owner", "api_key"])
@pytest.mark.parametrize("key", LIST_ROUTES, ids=route_id)
async def test_lists_never_show_another_org(
    module_client: httpx.AsyncClient,
    module_world: OrgWorld,
    other_world: OrgWorld,
    key: tuple[str, str],
    credential: str,
) -> None:
    headers = module_world.owner.headers if credential == "owner" else {"X-API-Key": module_world.api_key}
    # Unknown query parameters are ignored, so `limit` is safe to send to every GET.
    response = await module_client.get(key[1], headers=headers, params={"limit": 100})
    assert response.status_code < 500, response.text
    if credential == "owner":
        assert response.status_code == 200, f"{route_id(key)}: {response.status_code} {response.text[:300]}"
    assert_no_leak(response, [*other_world.extra["needles"], *other_world.extra["secrets"]])


async def test_org_b_strings_are_visible_to_org_b(module_client: httpx.AsyncClient, other_world: OrgWorld) -> None:
    """Control: every needle really is in org B's own answers, so its absence above means something."""
    seen = ""
    for _, path in LIST_ROUTES:
        response = await module_client.get(path, headers=other_world.owner.headers, params={"limit": 100})
        assert response.status_code == 200, response.text
        seen += response.text.lower()
    missing = [n for n in other_world.extra["needles"] if n.lower() not in seen]
    assert not missing, f"org B's own lists do not show {missing}"
    shown = [s for s in other_world.extra["secrets"] if s.lower() in seen]
    assert not shown, f"org B's lists show its write-only secrets {shown}"


# -- ids in query strings and bodies ---------------------------------------------------------------


async def test_audit_filters_with_another_orgs_ids_find_nothing(
    module_client: httpx.AsyncClient, module_world: OrgWorld, other_world: OrgWorld
) -> None:
    b_owner = other_world.owner
    own = await module_client.get(
        f"{API}/org/audit-logs", headers=other_world.owner.headers, params={"actor_id": b_owner.user_id}
    )
    assert own.json()["items"], "control: org B sees its owner's actions"
    for params in (
        {"actor_id": b_owner.user_id},
        {"resource_id": other_world.org_id},
        {"resource_id": str(other_world.viewer.member_id)},
        {"resource_id": other_world.extra["agent"]["id"]},
        {"resource_id": other_world.extra["template"]["id"]},
    ):
        response = await module_client.get(f"{API}/org/audit-logs", headers=module_world.owner.headers, params=params)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == [], params


async def test_another_orgs_cursor_pages_only_own_rows(
    module_client: httpx.AsyncClient, module_world: OrgWorld, other_world: OrgWorld
) -> None:
    b_page = await module_client.get(f"{API}/org/members", headers=other_world.owner.headers, params={"limit": 1})
    cursor = b_page.json()["next_cursor"]
    assert cursor
    response = await module_client.get(
        f"{API}/org/members", headers=module_world.owner.headers, params={"cursor": cursor}
    )
    assert response.status_code < 500, response.text
    assert_no_leak(response, other_world.extra["needles"])


@pytest.mark.parametrize("path", [f"{API}/agents", f"{API}/templates"])
async def test_another_orgs_cursor_pages_only_own_agents_and_templates(
    module_client: httpx.AsyncClient, module_world: OrgWorld, other_world: OrgWorld, path: str
) -> None:
    # Org B has two agents (one behind its template) and sees its template beside the public ones.
    b_page = await module_client.get(path, headers=other_world.owner.headers, params={"limit": 1})
    cursor = b_page.json()["next_cursor"]
    assert cursor, b_page.text
    response = await module_client.get(
        path, headers=module_world.owner.headers, params={"cursor": cursor, "limit": 100}
    )
    assert response.status_code == 200, response.text
    assert_no_leak(response, other_world.extra["needles"])


async def test_a_template_cannot_be_made_from_another_orgs_agent(
    module_client: httpx.AsyncClient, module_world: OrgWorld, other_world: OrgWorld
) -> None:
    """Ids in bodies are looked up in the caller's org: another org's agent is an unknown agent."""
    foreign = await _agent(module_client, other_world)
    answers = []
    for agent_id in (foreign.id, str(uuid.uuid4())):
        for headers in (module_world.owner.headers, {"X-API-Key": module_world.api_key}):
            response = await module_client.post(
                f"{API}/templates", headers=headers, json={"agent_id": agent_id, "version": 1, "name": "Stolen"}
            )
            answers.append(assert_error(response, 404, "AGENT_NOT_FOUND")["message"])
            assert_no_leak(response, [*other_world.extra["needles"], *foreign.needles])
    assert len(set(answers)) == 1
    await foreign.check_unchanged()
    mine = await module_client.get(
        f"{API}/templates", headers=module_world.owner.headers, params={"mine": "true", "q": "Stolen"}
    )
    assert mine.json()["items"] == []


async def test_switching_to_another_org_is_refused_like_an_unknown_org(
    module_client: httpx.AsyncClient, module_world: OrgWorld, other_world: OrgWorld
) -> None:
    answers = []
    for org_id in (other_world.org_id, str(uuid.uuid4())):
        response = await module_client.post(
            f"{API}/auth/switch-org", headers=module_world.owner.headers, json={"org_id": org_id}
        )
        answers.append(assert_error(response, 403, "NOT_A_MEMBER"))
        assert_no_leak(response, other_world.extra["needles"])
    assert answers[0] == answers[1]


async def test_logging_in_to_another_org_is_refused_like_an_unknown_org(
    module_client: httpx.AsyncClient, module_world: OrgWorld, other_world: OrgWorld
) -> None:
    answers = []
    for org_id in (other_world.org_id, str(uuid.uuid4())):
        response = await module_client.post(
            f"{API}/auth/login", json={"email": module_world.viewer.email, "password": PASSWORD, "org_id": org_id}
        )
        answers.append(assert_error(response, 403, "NOT_A_MEMBER"))
        assert_no_leak(response, other_world.extra["needles"])
    assert answers[0] == answers[1]


async def test_org_b_key_works_only_in_org_b(
    module_client: httpx.AsyncClient, module_world: OrgWorld, other_world: OrgWorld
) -> None:
    response = await module_client.get(f"{API}/org/members", headers={"X-API-Key": other_world.api_key})
    assert response.status_code == 200
    emails = {m["email"] for m in response.json()["items"]}
    assert other_world.owner.email in emails
    assert not emails & {
        module_world.owner.email,
        module_world.admin.email,
        module_world.editor.email,
        module_world.viewer.email,
    }
