"""Two orgs, every route: org A can neither see nor touch org B (ARCHITECTURE.md §3).

The routes are read from the app, so a route added later is covered automatically. If it takes
a path parameter or a body this module does not know yet, the test fails and says what to add to
`FOREIGN_RESOURCE_FACTORIES` or `REQUEST_BODIES`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

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
    create_api_key,
    make_org_world,
    unique,
)
from tests.routes import (
    PATH_PARAM,
    collection_time_app,
    dependency_calls,
    protected_routes,
    route_id,
    with_random_ids,
)

_ROUTES = sorted(protected_routes(collection_time_app()))
ROUTES_WITH_IDS = [key for key in _ROUTES if PATH_PARAM.search(key[1])]
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
    ]
    return b


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


# Path parameter name -> a factory creating a fresh resource of that kind in the given org.
FOREIGN_RESOURCE_FACTORIES: dict[str, Callable[[httpx.AsyncClient, OrgWorld], Awaitable[Resource]]] = {
    "member_id": _member,
    "key_id": _api_key,
    "invitation_id": _invitation,
}

# (method, path template) -> a valid body; one that would visibly change the resource if applied.
REQUEST_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", f"{API}/org/members/{{member_id}}/role"): {"role": "admin"},
}


async def build_request(
    app: FastAPI, client: httpx.AsyncClient, org: OrgWorld, key: tuple[str, str]
) -> tuple[str, dict[str, Any] | None, list[Resource]]:
    """The route's path with fresh resources of `org` in its parameters, and a valid body."""
    template = key[1]
    path, resources = template, []
    for name in PATH_PARAM.findall(template):
        if name not in FOREIGN_RESOURCE_FACTORIES:
            pytest.fail(
                f"{route_id(key)}: no factory for path parameter '{name}'. Add one to FOREIGN_RESOURCE_FACTORIES "
                "in tests/test_cross_tenant.py so this route is checked across tenants."
            )
        resource = await FOREIGN_RESOURCE_FACTORIES[name](client, org)
        resources.append(resource)
        path = path.replace(f"{{{name}}}", resource.id)
    body = None
    if protected_routes(app)[key].body_field is not None:
        if key not in REQUEST_BODIES:
            pytest.fail(
                f"{route_id(key)} takes a body: add a valid one to REQUEST_BODIES in tests/test_cross_tenant.py"
            )
        body = REQUEST_BODIES[key]
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

    unknown = await module_client.request(method, with_random_ids(template), headers=headers, json=body)
    unknown_error = assert_error(unknown, expected)
    response = await module_client.request(method, path, headers=headers, json=body)
    assert_error(response, expected, unknown_error["code"])
    assert_no_leak(response, [*other_world.extra["needles"], *(n for r in foreign for n in r.needles)])
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
    assert_no_leak(response, other_world.extra["needles"])


async def test_org_b_strings_are_visible_to_org_b(module_client: httpx.AsyncClient, other_world: OrgWorld) -> None:
    """Control: every needle really is in org B's own answers, so its absence above means something."""
    seen = ""
    for _, path in LIST_ROUTES:
        response = await module_client.get(path, headers=other_world.owner.headers, params={"limit": 100})
        assert response.status_code == 200, response.text
        seen += response.text.lower()
    missing = [n for n in other_world.extra["needles"] if n.lower() not in seen]
    assert not missing, f"org B's own lists do not show {missing}"


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
