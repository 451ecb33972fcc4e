"""Bad input everywhere (ARCHITECTURE.md §6): a 4xx error envelope, never a 500, nothing half-written.

Routes with a body are read from the app; a new one fails here until it has a valid body in
`VALID_BODIES`, from which the broken variants (wrong types, unknown fields, over-long strings)
are derived automatically. A route that reads its body itself instead of through a schema (the
agent import takes a YAML or JSON document) must be listed in `RAW_BODY_ROUTES` with how it
reports broken bodies; it then gets the same walk with its JSON form, plus its own tests below.
"""

from __future__ import annotations

import base64
import inspect
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import psycopg
import pytest
import pytest_asyncio
import yaml
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from agentflow.app import PUBLIC_ROUTES
from agentflow.kit.permissions import ALL_SCOPES
from agentflow.kit.security import generate_api_key
from agentflow.settings import Settings
from tests.api_fixtures import (
    API,
    PASSWORD,
    Account,
    OrgWorld,
    add_member,
    assert_error,
    client_for,
    create_agent,
    create_api_key,
    create_execution,
    create_template,
    unique,
)
from tests.engine.graphs import chat, minimal, node
from tests.routes import PATH_PARAM, collection_time_app, path_param_types, route_id, routes_by_key

RouteKey = tuple[str, str]


@dataclass(frozen=True)
class BodyRules:
    """How a route answers a broken body: the codes it uses and where field errors point."""

    malformed: str = "MALFORMED_JSON"  # the body does not parse
    invalid: str = "VALIDATION_ERROR"  # it parses but does not fit the schema
    loc: tuple[str, ...] = ("body",)  # prefix of a field error's location
    non_object_lists_fields: bool = True  # a body that is not an object gets per-field errors


JSON_BODY = BodyRules()
IMPORT: RouteKey = ("POST", f"{API}/agents/import")

# Routes that read the raw request body themselves (no schema body FastAPI could check):
# POST /agents/import takes an agent document as YAML or JSON (agentflow/agents/portability.py).
# Sent as application/json it goes through the same walk as every JSON body, with its own codes:
# MALFORMED_DOCUMENT for what does not parse, INVALID_DOCUMENT (fields located in the document,
# without a "body" prefix; none for a document that is not a mapping) for the rest.
RAW_BODY_ROUTES: dict[RouteKey, BodyRules] = {
    IMPORT: BodyRules(
        malformed="MALFORMED_DOCUMENT", invalid="INVALID_DOCUMENT", loc=(), non_object_lists_fields=False
    ),
}

ROUTES = routes_by_key(collection_time_app())
SCHEMA_BODY_ROUTES = {k for k, r in ROUTES.items() if k[0] in {"POST", "PUT", "PATCH", "DELETE"} and r.body_field}
# Routes that take any body by design, so no body is "bad": the webhook ingress stores what the
# sender posted (JSON, form or text) as trigger data. Its parsing limits (invalid JSON, size,
# NaN, huge integers) are tested in tests/executions/test_triggers.py.
FREE_FORM_BODY_ROUTES: set[RouteKey] = {("POST", f"{API}/hooks/{{token}}")}
BODY_ROUTES = sorted(SCHEMA_BODY_ROUTES | set(RAW_BODY_ROUTES))
# Routes whose body may be left out: for them JSON `null` means "no body", as FastAPI reads it.
OPTIONAL_BODY_ROUTES = {k for k in SCHEMA_BODY_ROUTES if not ROUTES[k].body_field.field_info.is_required()}  # type: ignore[union-attr]
PATH_ROUTES = sorted(k for k in ROUTES if PATH_PARAM.search(k[1]) and k not in PUBLIC_ROUTES)
UUID_PATH_ROUTES = [k for k in PATH_ROUTES if uuid.UUID in path_param_types(ROUTES[k]).values()]
INT_PATH_ROUTES = [k for k in PATH_ROUTES if int in path_param_types(ROUTES[k]).values()]
NAME_PATH_ROUTES = [k for k in PATH_ROUTES if str in path_param_types(ROUTES[k]).values()]
PROVIDER_KEY: RouteKey = ("PUT", f"{API}/org/providers/{{provider}}")


def rules_for(key: RouteKey) -> BodyRules:
    return RAW_BODY_ROUTES.get(key, JSON_BODY)


def assert_field_error(response: httpx.Response, loc: list[str], rules: BodyRules = JSON_BODY) -> None:
    error = assert_error(response, 422, rules.invalid)
    locs = [f["loc"] for f in error["details"]["fields"]]
    assert any(found[: len(loc)] == loc for found in locs), f"no error at {loc}: {locs}"


_READS_BODY = re.compile(r"\brequest\.(body|json|form|stream)\(")


def test_every_route_reading_its_own_body_is_registered() -> None:
    """A route that reads the request body itself escapes FastAPI's schema checks and so every
    walk above; it must be registered in RAW_BODY_ROUTES to be walked."""
    unregistered = [
        route_id(k)
        for k, r in ROUTES.items()
        if not r.body_field and _READS_BODY.search(inspect.getsource(r.dependant.call or (lambda: None)))
    ]
    registered = {*RAW_BODY_ROUTES, *FREE_FORM_BODY_ROUTES}
    assert sorted(unregistered) == sorted(route_id(k) for k in registered), unregistered


# -- fixtures --------------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Overrides the shared one here: a client that sees a crash as the 500 response a real client
    would get."""
    async with client_for(app, raise_app_exceptions=False) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_world(module_client: httpx.AsyncClient, module_world: OrgWorld) -> OrgWorld:
    """The shared module org plus targets: `extra["target"]`, a viewer; `extra["agent"]`, an agent
    with version 1 published; `extra["template"]`, a private template. Bad requests change
    nothing, and valid ones only touch these targets."""
    module_world.extra["target"] = await add_member(module_client, module_world.owner, "viewer")
    module_world.extra["agent"] = await create_agent(module_client, module_world.owner)
    module_world.extra["template"] = await create_template(module_client, module_world.owner)
    module_world.extra["execution"] = await create_execution(module_client, module_world.owner)
    return module_world


class RowState:
    """A fingerprint of every table a request here could write, read as the schema owner."""

    TABLES = (
        "users",
        "organizations",
        "org_memberships",
        "invitations",
        "api_keys",
        "refresh_tokens",
        "outbox_emails",
        "audit_logs",
        "agents",
        "agent_versions",
        "agent_nodes",
        "agent_edges",
        "agent_templates",
        "provider_credentials",
        "executions",
        "execution_events",
    )

    def __init__(self, owner_url: str) -> None:
        self.owner_url = owner_url

    async def snapshot(self) -> dict[str, tuple[int, str]]:
        async with await psycopg.AsyncConnection.connect(self.owner_url) as conn:
            state = {}
            for table in self.TABLES:
                cursor = await conn.execute(
                    f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
                )
                state[table] = await cursor.fetchone()
            return state


@pytest.fixture(scope="module")
def rows(stack: Any) -> RowState:
    return RowState(stack.owner_url)


# -- valid bodies and the variants derived from them -------------------------------------------------

VALID_BODIES: dict[tuple[str, str], Callable[[OrgWorld], dict[str, Any]]] = {
    ("POST", f"{API}/auth/signup"): lambda w: {
        "email": f"{unique('signup')}@example.com",
        "password": PASSWORD,
        "name": "Valid Name",
        "org_name": "Valid Org",
        "org_slug": unique("slug"),
    },
    ("POST", f"{API}/auth/login"): lambda w: {"email": w.viewer.email, "password": PASSWORD, "org_id": w.org_id},
    ("POST", f"{API}/auth/accept-invite"): lambda w: {"token": "t" * 43, "name": "Valid Name", "password": PASSWORD},
    ("POST", f"{API}/auth/switch-org"): lambda w: {"org_id": w.org_id},
    ("PUT", f"{API}/org"): lambda w: {"name": "Valid Org", "settings": {"theme": "dark"}},
    ("POST", f"{API}/org/members/invite"): lambda w: {"email": f"{unique('inv')}@example.com", "role": "viewer"},
    ("PUT", f"{API}/org/members/{{member_id}}/role"): lambda w: {"role": "editor"},
    ("POST", f"{API}/org/api-keys"): lambda w: {
        "name": "valid key",
        "scopes": ["org:read"],
        "expires_at": "2099-01-01T00:00:00Z",
    },
    ("POST", f"{API}/agents"): lambda w: {
        "name": "Valid agent",
        "description": "Valid description",
        "settings": {"timeout_seconds": 60},
        "definition": minimal(chat("greet")),
    },
    ("POST", f"{API}/agents/import"): lambda w: {
        "agentflow": 1,
        "kind": "agent",
        "name": "Imported agent",
        "description": "Valid description",
        "settings": {"timeout_seconds": 60},
        "definition": minimal(chat("greet")),
    },
    ("PUT", f"{API}/agents/{{agent_id}}"): lambda w: {
        "name": "Valid agent",
        "description": "Valid description",
        "settings": {"timeout_seconds": 60},
    },
    ("PUT", f"{API}/agents/{{agent_id}}/status"): lambda w: {"status": "paused"},
    ("PUT", f"{API}/agents/{{agent_id}}/draft"): lambda w: {
        "definition": minimal(chat("greet")),
        "revision": w.extra["agent"]["draft_revision"],
    },
    ("POST", f"{API}/agents/{{agent_id}}/validate"): lambda w: {"definition": minimal(chat("greet"))},
    ("POST", f"{API}/agents/{{agent_id}}/publish"): lambda w: {
        "change_message": "Valid message",
        "definition": minimal(chat("greet")),
    },
    ("POST", f"{API}/templates"): lambda w: {
        "agent_id": w.extra["agent"]["id"],
        "version": 1,
        "name": "Valid template",
        "description": "Valid description",
        "category": "General",
        "icon": "robot",
        "visibility": "org",
    },
    ("POST", f"{API}/templates/{{template_id}}/install"): lambda w: {"name": "Valid install"},
    # Without a base_url: a valid one must resolve to a public address and would then be called;
    # its bad values are walked by test_provider_key_base_urls_are_checked.
    ("POST", f"{API}/agents/{{agent_id}}/execute"): lambda w: {"input": {"name": "Valid"}, "version": 1},
    ("POST", f"{API}/agents/{{agent_id}}/test"): lambda w: {
        "input": {"name": "Valid"},
        "pinned_outputs": {"greet": {"output": {"text": "pinned"}, "handle": "out"}},
    },
    ("POST", f"{API}/executions/{{execution_id}}/approve"): lambda w: {"decision": "approve", "comment": "Valid"},
    ("POST", f"{API}/integrations/{{integration}}/connect"): lambda w: {
        "name": "Valid connection",
        "credentials": {"type": "header", "name": "X-API-Key", "value": "valid-secret-0001"},
    },
    PROVIDER_KEY: lambda w: {
        "api_key": "sk-valid-key-0001",
        "api_version": "2024-10-21",
        "organization": "org-valid",
    },
}

# Bodies made only of a definition (and a revision number) have no string field to stretch; the
# strings inside a definition are checked by `test_definitions_must_be_storable_and_bounded`.
NO_STRING_FIELDS = {
    ("PUT", f"{API}/agents/{{agent_id}}/draft"),
    ("POST", f"{API}/agents/{{agent_id}}/validate"),
    ("POST", f"{API}/agents/{{agent_id}}/execute"),
    ("POST", f"{API}/agents/{{agent_id}}/test"),
}

PATH_VALUES: dict[str, Callable[[OrgWorld], str]] = {
    "member_id": lambda w: str(w.extra["target"].member_id),
    "agent_id": lambda w: str(w.extra["agent"]["id"]),
    "version": lambda w: "1",
    "template_id": lambda w: str(w.extra["template"]["id"]),
    "provider": lambda w: "openai",
    "integration": lambda w: "http",
    "execution_id": lambda w: str(w.extra["execution"]["id"]),
}


def valid_body(key: tuple[str, str], world: OrgWorld) -> dict[str, Any]:
    if key not in VALID_BODIES:
        pytest.fail(f"{route_id(key)} takes a body: add a valid one to VALID_BODIES in tests/test_bad_input.py")
    return VALID_BODIES[key](world)


def request_path(key: tuple[str, str], world: OrgWorld) -> str:
    path = key[1]
    for name in PATH_PARAM.findall(path):
        if name not in PATH_VALUES:
            pytest.fail(f"{route_id(key)}: add a value for path parameter '{name}' to PATH_VALUES")
        path = path.replace(f"{{{name}}}", PATH_VALUES[name](world))
    return path


def auth_for(key: tuple[str, str], world: OrgWorld) -> dict[str, str]:
    return {} if key in PUBLIC_ROUTES else world.owner.headers


async def send(
    client: httpx.AsyncClient, key: tuple[str, str], world: OrgWorld, content: bytes, **headers: str
) -> httpx.Response:
    return await client.request(
        key[0],
        request_path(key, world),
        content=content,
        headers={"Content-Type": "application/json", **auth_for(key, world), **headers},
    )


def wrong_type_for(value: Any) -> Any:
    """A JSON value of another type, one no lax coercion turns back into `value`'s type."""
    return {"unexpected": "object"} if isinstance(value, list) else [1, 2]


# -- body shape ------------------------------------------------------------------------------------

MALFORMED = [b'{"name": ', b"{'name': 'x'}", b'{"name": "x",}', b"not json at all", b'{"name": "x"} trailing']


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_malformed_json_is_400(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str]
) -> None:
    before = await rows.snapshot()
    for payload in MALFORMED:
        assert_error(await send(module_client, key, module_world, payload), 400, rules_for(key).malformed)
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_a_body_that_is_not_an_object_is_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str]
) -> None:
    rules = rules_for(key)
    before = await rows.snapshot()
    payloads: list[Any] = [[], [valid_body(key, module_world)], "a string", 42, True]
    if key not in OPTIONAL_BODY_ROUTES:  # there `null` is "no body", which is valid
        payloads.append(None)
    for payload in payloads:
        response = await send(module_client, key, module_world, json.dumps(payload).encode())
        error = assert_error(response, 422, rules.invalid)
        if rules.non_object_lists_fields:
            assert error["details"]["fields"], error
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_wrong_types_are_422_per_field(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str]
) -> None:
    rules = rules_for(key)
    before = await rows.snapshot()
    for field, value in valid_body(key, module_world).items():
        body = {**valid_body(key, module_world), field: wrong_type_for(value)}
        response = await send(module_client, key, module_world, json.dumps(body).encode())
        assert_field_error(response, [*rules.loc, field], rules)
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_unknown_fields_are_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str]
) -> None:
    rules = rules_for(key)
    before = await rows.snapshot()
    for extra in ({"is_superuser": True}, {"role_override": "owner"}, {"org_id_": str(uuid.uuid4())}):
        body = {**valid_body(key, module_world), **extra}
        response = await send(module_client, key, module_world, json.dumps(body).encode())
        assert_field_error(response, [*rules.loc, *extra], rules)
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_over_long_strings_are_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str]
) -> None:
    rules = rules_for(key)
    before = await rows.snapshot()
    string_fields = [f for f, v in valid_body(key, module_world).items() if isinstance(v, str)]
    assert bool(string_fields) != (key in NO_STRING_FIELDS), f"{route_id(key)}: string fields {string_fields}"
    for field in string_fields:
        body = {**valid_body(key, module_world), field: "x" * 10_000}
        response = await send(module_client, key, module_world, json.dumps(body).encode())
        assert_field_error(response, [*rules.loc, field], rules)
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_text_postgres_cannot_store_is_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str]
) -> None:
    """U+0000 in a string (PostgreSQL text and JSON cannot hold it) is invalid input, not a crash."""
    before = await rows.snapshot()
    for field, value in valid_body(key, module_world).items():
        if isinstance(value, str):
            body = {**valid_body(key, module_world), field: value[:3] + "\x00" + value[3:]}
            assert_error(
                await send(module_client, key, module_world, json.dumps(body).encode()), 422, rules_for(key).invalid
            )
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_the_valid_body_passes_validation(
    module_client: httpx.AsyncClient, module_world: OrgWorld, key: tuple[str, str]
) -> None:
    """Control: the variants above fail because of what was broken, not because the base was bad."""
    rules = rules_for(key)
    response = await send(module_client, key, module_world, json.dumps(valid_body(key, module_world)).encode())
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert assert_error(response, response.status_code)["code"] not in {rules.malformed, rules.invalid}


async def test_org_settings_must_be_storable_json(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState
) -> None:
    before = await rows.snapshot()
    key = ("PUT", f"{API}/org")
    for settings_json in (
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b'{"a": 1000000000000000000000000000000}',
        b'{"a\\u0000": 1}',
        b'{"a": "\\u0000"}',
        b'{"a": "' + b"x" * 20_000 + b'"}',
    ):
        response = await send(module_client, key, module_world, b'{"settings": ' + settings_json + b"}")
        assert_error(response, 422, "VALIDATION_ERROR")
    assert await rows.snapshot() == before


async def test_query_text_postgres_cannot_store_is_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld
) -> None:
    for param in ("action", "resource_type", "resource_id"):
        response = await module_client.get(
            f"{API}/org/audit-logs", headers=module_world.owner.headers, params={param: "a\x00b"}
        )
        assert_error(response, 422, "VALIDATION_ERROR")


# The routes whose body carries an agent definition (test_definition_routes_are_listed keeps this
# list in step with VALID_BODIES).
DEFINITION_ROUTES: list[RouteKey] = [
    ("POST", f"{API}/agents"),
    ("POST", f"{API}/agents/import"),
    ("PUT", f"{API}/agents/{{agent_id}}/draft"),
    ("POST", f"{API}/agents/{{agent_id}}/validate"),
    ("POST", f"{API}/agents/{{agent_id}}/publish"),
]


def test_definition_routes_are_listed(module_world: OrgWorld) -> None:
    taking_definitions = {k for k in BODY_ROUTES if "definition" in valid_body(k, module_world)}
    assert taking_definitions == set(DEFINITION_ROUTES)


def _broken_definitions() -> dict[str, tuple[dict[str, Any], str]]:
    """Definitions that must be refused, each with the code every definition route answers:
    VALIDATION_ERROR (or the raw route's own code) for what no JSON column can store, and
    INVALID_DEFINITION for what the engine refuses to store."""

    def with_config(config: dict[str, Any]) -> dict[str, Any]:
        return minimal(node("greet", "ai.chat", {"prompt": "hi", **config}))

    def with_variable(value: Any) -> dict[str, Any]:  # a node whose config takes any JSON value
        return minimal(node("set", "transform.set_variables", {"variables": {"x": value}}))

    nested: dict[str, Any] = {}
    deepest = nested
    for _ in range(100):
        deepest["a"] = {}
        deepest = deepest["a"]
    return {
        "nul-in-a-config-string": (with_config({"prompt": "a\x00b"}), "storable"),
        "nul-in-a-config-key": (with_config({"a\x00": 1}), "storable"),
        "integer-beyond-64-bits": (with_variable(2**64), "INVALID_DEFINITION"),
        "negative-integer-beyond-64-bits": (with_variable(-(2**63) - 1), "INVALID_DEFINITION"),
        "config-nested-too-deep": (with_variable(nested), "INVALID_DEFINITION"),
        "over-long-node-label": (minimal({**chat("greet"), "label": "x" * 10_000}), "INVALID_DEFINITION"),
        "nodes-not-a-list": ({"schema_version": 1, "nodes": {"a": 1}, "edges": []}, "INVALID_DEFINITION"),
        "unknown-schema-version": ({**minimal(chat("greet")), "schema_version": 99}, "INVALID_DEFINITION"),
    }


# The import's JSON parser reads an integer beyond 64 bits as a float, which is storable; YAML
# imports of such integers are refused in test_yaml_that_is_no_agent_document_is_422.
DEFINITION_CASES = [
    (key, case)
    for key in DEFINITION_ROUTES
    for case in _broken_definitions()
    if not (key == IMPORT and "beyond-64-bits" in case)
]


@pytest.mark.parametrize(("key", "case"), DEFINITION_CASES, ids=[f"{route_id(k)}-{c}" for k, c in DEFINITION_CASES])
async def test_definitions_must_be_storable_and_bounded(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str], case: str
) -> None:
    """Every route taking a definition refuses one it could not store or export back, with nothing
    written (a JSON integer beyond 64 bits used to be stored, then crash the JSON export)."""
    definition, code = _broken_definitions()[case]
    expected = rules_for(key).invalid if code == "storable" else code
    body = {**valid_body(key, module_world), "definition": definition}
    if "revision" in body:  # the current one, so the definition is what gets refused
        draft = await module_client.get(
            f"{API}/agents/{PATH_VALUES['agent_id'](module_world)}/draft", headers=module_world.owner.headers
        )
        body["revision"] = draft.json()["revision"]
    before = await rows.snapshot()
    assert_error(await send(module_client, key, module_world, json.dumps(body).encode()), 422, expected)
    assert await rows.snapshot() == before


def test_the_variable_node_takes_any_json_value() -> None:
    """Control for the cases above: with a storable value that definition is valid, so only the
    value is what gets it refused."""
    from agentflow.engine.validation import validate_definition

    _, issues = validate_definition(minimal(node("set", "transform.set_variables", {"variables": {"x": 2**63 - 1}})))
    assert issues == []


async def test_numbers_beyond_what_columns_hold(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState
) -> None:
    """Numbers in bodies that name rows (a version) are bounded; ones only compared are harmless."""
    before = await rows.snapshot()
    for version in (0, 1_000_001, 2**31, 2**63, 10**30):
        body = {**VALID_BODIES[("POST", f"{API}/templates")](module_world), "version": version}
        response = await module_client.post(f"{API}/templates", headers=module_world.owner.headers, json=body)
        assert_field_error(response, ["body", "version"])
    agent = f"{API}/agents/{PATH_VALUES['agent_id'](module_world)}"
    for revision in (2**31, 2**63, 10**30):
        draft = {"definition": minimal(chat("greet")), "revision": revision}
        response = await module_client.put(f"{agent}/draft", headers=module_world.owner.headers, json=draft)
        assert_error(response, 409, "DRAFT_CONFLICT")
        publish = await module_client.post(
            f"{agent}/publish", headers=module_world.owner.headers, json={"draft_revision": revision}
        )
        assert_error(publish, 409, "DRAFT_CONFLICT")
    assert await rows.snapshot() == before


LIST_QUERY_CASES: list[tuple[str, dict[str, Any]]] = [
    (f"{API}/agents", {"q": "a\x00b"}),
    (f"{API}/agents", {"trigger_type": "a\x00b"}),
    (f"{API}/agents", {"trigger_type": "Not-A-Trigger"}),
    (f"{API}/agents", {"status": "deleted"}),
    (f"{API}/agents", {"sort": "org_id"}),
    (f"{API}/agents", {"order": "sideways"}),
    (f"{API}/agents", {"include_archived": "perhaps"}),
    (f"{API}/agents", {"q": "x" * 256}),
    (f"{API}/templates", {"q": "a\x00b"}),
    (f"{API}/templates", {"category": "a\x00b"}),
    (f"{API}/templates", {"category": "x" * 101}),
    (f"{API}/templates", {"official": "perhaps"}),
    (f"{API}/agents/{{agent_id}}/diff", {}),
    (f"{API}/agents/{{agent_id}}/diff", {"from": "0"}),
    (f"{API}/agents/{{agent_id}}/diff", {"from": "1", "to": "-1"}),
    (f"{API}/agents/{{agent_id}}/diff", {"from": "1' OR 1=1 --"}),
    (f"{API}/agents/{{agent_id}}/diff", {"from": "99999999"}),
    (f"{API}/agents/{{agent_id}}/export", {"format": "xml"}),
    (f"{API}/agents/{{agent_id}}/export", {"version": "latest"}),
    (f"{API}/agents/{{agent_id}}/versions", {"limit": "0"}),
]


@pytest.mark.parametrize(("path", "params"), LIST_QUERY_CASES, ids=lambda v: str(v)[:60])
async def test_bad_query_parameters_are_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, path: str, params: dict[str, Any]
) -> None:
    url = path.replace("{agent_id}", PATH_VALUES["agent_id"](module_world))
    assert_error(await module_client.get(url, headers=module_world.owner.headers, params=params), 422)


def _cursor(value: Any, row_id: str = "6c4b2583-9f84-4c4b-908b-f0a4f4b9ef39") -> str:
    return base64.urlsafe_b64encode(json.dumps([value, row_id]).encode()).decode().rstrip("=")


# Cursors a client could forge: wrong types for the sort column, values its column cannot hold.
BAD_CURSORS: list[tuple[str, dict[str, Any]]] = [
    (f"{API}/agents", {"cursor": "!!!"}),
    (f"{API}/agents", {"cursor": _cursor("not a time")}),
    (f"{API}/agents", {"cursor": _cursor("2020-01-01T00:00:00Z", "not-a-uuid")}),
    (f"{API}/agents", {"cursor": _cursor(5), "sort": "name"}),
    (f"{API}/agents", {"cursor": _cursor("a\x00b"), "sort": "name"}),
    (f"{API}/agents", {"cursor": _cursor("alpha"), "sort": "updated_at"}),
    (f"{API}/templates", {"cursor": _cursor(True)}),
    (f"{API}/templates", {"cursor": _cursor("a\x00b")}),
    (f"{API}/agents/{{agent_id}}/versions", {"cursor": _cursor("1")}),
    (f"{API}/agents/{{agent_id}}/versions", {"cursor": _cursor(True)}),
    (f"{API}/agents/{{agent_id}}/versions", {"cursor": _cursor(2**40)}),
    (f"{API}/agents/{{agent_id}}/versions", {"cursor": _cursor(-(2**31) - 1)}),
    (f"{API}/agents/{{agent_id}}/versions", {"cursor": _cursor(10**30)}),
]


@pytest.mark.parametrize(("path", "params"), BAD_CURSORS, ids=lambda v: str(v)[:60])
async def test_forged_cursors_are_400(
    module_client: httpx.AsyncClient, module_world: OrgWorld, path: str, params: dict[str, Any]
) -> None:
    url = path.replace("{agent_id}", PATH_VALUES["agent_id"](module_world))
    response = await module_client.get(url, headers=module_world.owner.headers, params=params)
    assert_error(response, 400, "INVALID_CURSOR")


# -- the agent import: a raw YAML or JSON document -------------------------------------------------


async def _import(
    client: httpx.AsyncClient, world: OrgWorld, content: bytes, content_type: str | None
) -> httpx.Response:
    headers = {**world.owner.headers, **({"Content-Type": content_type} if content_type else {})}
    return await client.post(IMPORT[1], content=content, headers=headers)


def _yaml_document(world: OrgWorld) -> bytes:
    return yaml.safe_dump(VALID_BODIES[IMPORT](world), sort_keys=False).encode()


@pytest.mark.parametrize(
    "content_type", ["application/yaml", "application/x-yaml", "text/yaml", "text/plain", None, "application/json"]
)
async def test_a_valid_document_imports(
    module_client: httpx.AsyncClient, module_world: OrgWorld, content_type: str | None
) -> None:
    """Control for the document tests: the valid document imports as YAML (any YAML media type,
    or none) and as JSON."""
    content = (
        json.dumps(VALID_BODIES[IMPORT](module_world)).encode()
        if content_type == "application/json"
        else _yaml_document(module_world)
    )
    response = await _import(module_client, module_world, content, content_type)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Imported agent"


BOMB = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode() for i in range(8)
)
MALFORMED_YAML: dict[str, bytes] = {
    "unclosed-flow": b"name: [unclosed\ndefinition: {}\n",
    "bad-indentation": b"name: x\n definition:\n- a\n  b: c\n",
    "tab-indentation": b"name: x\ndefinition:\n\tnodes: []\n",
    "not-utf8": b"name: \xe9t\xe9\ndefinition: {}\n",
    "alias-bomb": BOMB,
    "single-alias": b"base: &b {nodes: []}\nname: x\ndefinition: *b\n",
    "python-object-tag": b"name: !!python/object/apply:os.system ['true']\ndefinition: {}\n",
    "unhashable-key": b"name: x\ndefinition: {[1, 2]: 3}\n",
    "nested-too-deep": b"name: x\ndefinition: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "two-documents": b"name: x\ndefinition: {}\n---\nname: y\n",
    "unterminated-string": b'name: "x\ndefinition: {}\n',
}


@pytest.mark.parametrize("content_type", ["application/yaml", "text/yaml", None])
async def test_malformed_yaml_is_400(
    module_client: httpx.AsyncClient,
    module_world: OrgWorld,
    rows: RowState,
    content_type: str | None,
) -> None:
    before = await rows.snapshot()
    for name, content in MALFORMED_YAML.items():
        response = await _import(module_client, module_world, content, content_type)
        assert response.status_code == 400, f"{name}: {response.status_code} {response.text[:300]}"
        assert_error(response, 400, "MALFORMED_DOCUMENT")
    assert await rows.snapshot() == before


# YAML well-formed but holding what an agent document cannot: values JSON has no type for, keys
# that are not strings, non-finite numbers, NUL, and documents that are not a mapping.
INVALID_YAML: dict[str, tuple[bytes, str]] = {
    "name-is-a-date": (b"name: 2024-01-01\ndefinition: {}\n", "INVALID_DOCUMENT"),
    "name-is-a-number": (b"name: 42\ndefinition: {}\n", "INVALID_DOCUMENT"),
    "name-is-invalid-utf8-binary": (b"name: !!binary //79\ndefinition: {}\n", "INVALID_DOCUMENT"),
    "definition-is-a-set": (b"name: x\ndefinition: !!set {a, b}\n", "INVALID_DOCUMENT"),
    "definition-has-a-number-key": (b"name: x\ndefinition: {1: 2}\n", "INVALID_DOCUMENT"),
    "nan-in-config": (b"name: x\ndefinition: {nodes: [{id: a, config: {x: .nan}}]}\n", "INVALID_DOCUMENT"),
    "inf-setting": (b"name: x\nsettings: {timeout_seconds: .inf}\ndefinition: {}\n", "INVALID_DOCUMENT"),
    "nul-escape": (b'name: "a\\0b"\ndefinition: {}\n', "INVALID_DOCUMENT"),
    "missing-definition": (b"name: x\n", "INVALID_DOCUMENT"),
    "wrong-kind": (b"kind: template\nname: x\ndefinition: {}\n", "INVALID_DOCUMENT"),
    "wrong-format-version": (b"agentflow: 2\nname: x\ndefinition: {}\n", "INVALID_DOCUMENT"),
    "empty": (b"", "INVALID_DOCUMENT"),
    "only-a-comment": (b"# nothing here\n", "INVALID_DOCUMENT"),
    "a-list": (b"- name: x\n  definition: {}\n", "INVALID_DOCUMENT"),
    "a-scalar": (b"just words\n", "INVALID_DOCUMENT"),
    "date-in-config": (
        b"name: x\ndefinition:\n  nodes:\n  - {id: start, type: trigger, subtype: manual, config: {at: 2024-01-01}}\n",
        "INVALID_DEFINITION",
    ),
    "number-key-in-config": (
        b"name: x\ndefinition:\n  nodes:\n  - {id: start, type: trigger, subtype: manual, config: {1: 2}}\n",
        "INVALID_DEFINITION",
    ),
    "integer-beyond-64-bits": (
        b"name: x\ndefinition:\n  nodes:\n  - {id: start, type: trigger, subtype: manual, config: {x: 1"
        + b"0" * 30
        + b"}}\n",
        "INVALID_DEFINITION",
    ),
}


async def test_yaml_that_is_no_agent_document_is_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState
) -> None:
    before = await rows.snapshot()
    for name, (content, code) in INVALID_YAML.items():
        response = await _import(module_client, module_world, content, "application/yaml")
        assert response.status_code == 422, f"{name}: {response.status_code} {response.text[:300]}"
        assert_error(response, 422, code)
    assert await rows.snapshot() == before


@pytest.mark.parametrize(
    "content_type", ["application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"]
)
async def test_import_refuses_other_media_types(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, content_type: str
) -> None:
    before = await rows.snapshot()
    response = await _import(module_client, module_world, _yaml_document(module_world), content_type)
    assert_error(response, 400, "UNSUPPORTED_MEDIA_TYPE")
    assert await rows.snapshot() == before


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_oversized_yaml_documents_are_413(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, app_settings: Settings, framing: str
) -> None:
    body = b"name: x\ndescription: " + b"x" * (2 * app_settings.max_body_bytes) + b"\ndefinition: {}\n"
    content: bytes | AsyncIterator[bytes] = body if framing == "content-length" else _chunks(body)
    before = await rows.snapshot()
    response = await module_client.post(
        IMPORT[1], content=content, headers={"Content-Type": "application/yaml", **module_world.owner.headers}
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await rows.snapshot() == before


@settings(max_examples=60, deadline=None, database=None)
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
            max_leaves=10,
        ).map(lambda v: yaml.safe_dump({"name": "fuzz", "definition": v}).encode()),
    ),
    content_type=st.sampled_from(["application/yaml", "application/json", "text/plain"]),
)
async def test_random_documents_never_cause_a_5xx(
    module_client: httpx.AsyncClient, module_world: OrgWorld, content: bytes, content_type: str
) -> None:
    response = await _import(module_client, module_world, content, content_type)
    assert response.status_code < 500, f"{content!r}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert_error(response, response.status_code)


# -- body size -------------------------------------------------------------------------------------


def _padded_body(size: int) -> bytes:
    prefix, suffix = b'{"name": "', b'"}'
    return prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_oversized_bodies_are_413(
    module_client: httpx.AsyncClient,
    module_world: OrgWorld,
    rows: RowState,
    app_settings: Settings,
    key: tuple[str, str],
    framing: str,
) -> None:
    body = _padded_body(2 * app_settings.max_body_bytes)
    before = await rows.snapshot()
    content: bytes | AsyncIterator[bytes] = body if framing == "content-length" else _chunks(body)
    response = await module_client.request(
        key[0],
        request_path(key, module_world),
        content=content,
        headers={"Content-Type": "application/json", **auth_for(key, module_world)},
    )
    assert ("content-length" in response.request.headers) == (framing == "content-length")
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await rows.snapshot() == before


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_body_just_under_the_limit_is_read(
    module_client: httpx.AsyncClient, module_world: OrgWorld, app_settings: Settings, framing: str
) -> None:
    """The limit is the configured one: just below it the body is parsed (and its 1 MiB name refused)."""
    body = _padded_body(app_settings.max_body_bytes - 1024)
    content: bytes | AsyncIterator[bytes] = body if framing == "content-length" else _chunks(body)
    response = await module_client.put(
        f"{API}/org", content=content, headers={"Content-Type": "application/json", **module_world.owner.headers}
    )
    assert_field_error(response, ["body", "name"])


# -- path parameters -------------------------------------------------------------------------------


def path_with(key: RouteKey, world: OrgWorld, bad: dict[str, str]) -> str:
    """The route's path with the `bad` values where named and valid values everywhere else."""
    return PATH_PARAM.sub(
        lambda m: quote(bad[m.group(1)], safe="") if m.group(1) in bad else PATH_VALUES[m.group(1)](world), key[1]
    )


@pytest.mark.parametrize("key", PATH_ROUTES, ids=route_id)
def test_every_path_parameter_has_bad_values(key: RouteKey) -> None:
    kinds = path_param_types(ROUTES[key])
    unknown = {name: kind for name, kind in kinds.items() if kind not in (uuid.UUID, int, str)}
    assert not unknown, f"{route_id(key)}: add invalid-value tests for path parameters {unknown}"
    names = {name for name, kind in kinds.items() if kind is str}
    assert names <= set(UNKNOWN_NAMES), f"{route_id(key)}: add the unknown-name answer for {names} to UNKNOWN_NAMES"


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "' OR 1=1 --"])
@pytest.mark.parametrize("key", UUID_PATH_ROUTES, ids=route_id)
async def test_invalid_uuid_in_path_is_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str], bad_id: str
) -> None:
    method, _ = key
    names = [name for name, kind in path_param_types(ROUTES[key]).items() if kind is uuid.UUID]
    path = path_with(key, module_world, dict.fromkeys(names, bad_id))
    body = valid_body(key, module_world) if ROUTES[key].body_field else None
    before = await rows.snapshot()
    response = await module_client.request(method, path, headers=module_world.owner.headers, json=body)
    for name in names:
        assert_field_error(response, ["path", name])
    assert await rows.snapshot() == before


@pytest.mark.parametrize("bad_number", ["0", "-1", "1.5", "one", "1e3", "0x10", "1000001", "9" * 30, "' OR 1=1 --"])
@pytest.mark.parametrize("key", INT_PATH_ROUTES, ids=route_id)
async def test_invalid_number_in_path_is_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str], bad_number: str
) -> None:
    """Version numbers in paths run from 1 to 1,000,000; anything else is refused before any lookup."""
    method, _ = key
    names = [name for name, kind in path_param_types(ROUTES[key]).items() if kind is int]
    path = path_with(key, module_world, dict.fromkeys(names, bad_number))
    body = valid_body(key, module_world) if ROUTES[key].body_field else None
    before = await rows.snapshot()
    response = await module_client.request(method, path, headers=module_world.owner.headers, json=body)
    for name in names:
        assert_field_error(response, ["path", name])
    assert await rows.snapshot() == before


# Name parameter -> (well-formed names that name nothing, the error code answering them).
# `scripted` is the offline test provider: real, but no org can bring a key for it.
UNKNOWN_NAMES: dict[str, tuple[list[str], str]] = {
    "provider": (["nope", "scripted", "openai_compatible_", "x" * 50], "PROVIDER_NOT_FOUND"),
    "integration": (["nope", "https", "x" * 50], "INTEGRATION_PROVIDER_NOT_FOUND"),
}


@pytest.mark.parametrize(
    "bad_name", ["OpenAI", "open-ai", "openai1", "open ai", "x" * 51, "' OR 1=1 --", "openai\x00", "öpenai", "%"]
)
@pytest.mark.parametrize("key", NAME_PATH_ROUTES, ids=route_id)
async def test_invalid_name_in_path_is_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str], bad_name: str
) -> None:
    """Names in paths (a provider's) are short lowercase words; anything else is refused before
    any lookup."""
    method, _ = key
    names = [name for name, kind in path_param_types(ROUTES[key]).items() if kind is str]
    path = path_with(key, module_world, dict.fromkeys(names, bad_name))
    body = valid_body(key, module_world) if ROUTES[key].body_field else None
    before = await rows.snapshot()
    response = await module_client.request(method, path, headers=module_world.owner.headers, json=body)
    for name in names:
        assert_field_error(response, ["path", name])
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", NAME_PATH_ROUTES, ids=route_id)
async def test_unknown_names_in_path_are_404(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str]
) -> None:
    method, _ = key
    body = valid_body(key, module_world) if ROUTES[key].body_field else None
    before = await rows.snapshot()
    for name, kind in path_param_types(ROUTES[key]).items():
        if kind is not str:
            continue
        values, code = UNKNOWN_NAMES[name]
        for value in values:
            response = await module_client.request(
                method, path_with(key, module_world, {name: value}), headers=module_world.owner.headers, json=body
            )
            assert_error(response, 404, code)
    assert await rows.snapshot() == before


# -- LLM provider keys -----------------------------------------------------------------------------


async def _put_key(client: httpx.AsyncClient, world: OrgWorld, provider: str, body: Any) -> httpx.Response:
    return await client.put(f"{API}/org/providers/{provider}", headers=world.owner.headers, json=body)


async def test_provider_api_keys_are_bounded(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState
) -> None:
    """A key is 8 to 500 characters once surrounding whitespace is gone, and present."""
    before = await rows.snapshot()
    for api_key in ("", "       ", "x" * 7, "   " + "x" * 7 + "\n\t ", "x" * 501, "x" * 10_000, None, 12345678):
        response = await _put_key(module_client, module_world, "openai", {"api_key": api_key})
        assert_field_error(response, ["body", "api_key"])
    assert_field_error(await _put_key(module_client, module_world, "openai", {}), ["body", "api_key"])
    assert await rows.snapshot() == before


# Bad base URLs and their answers: a field error ("field"), a body nobody could store
# (VALIDATION_ERROR), or a URL the SSRF check refuses (URL_NOT_ALLOWED).
BAD_BASE_URLS: dict[str, tuple[Any, str]] = {
    "over-long": ("https://example.com/" + "x" * 500, "field"),
    "wrong-type": (["https://example.com/v1"], "field"),
    "nul": ("https://exa\x00mple.com/v1", "VALIDATION_ERROR"),
    "loopback": ("http://127.0.0.1:11434/v1", "URL_NOT_ALLOWED"),
    "localhost": ("http://localhost:8000/v1", "URL_NOT_ALLOWED"),
    "ipv6-loopback": ("http://[::1]:8000/v1", "URL_NOT_ALLOWED"),
    "ipv4-mapped-loopback": ("http://[::ffff:127.0.0.1]/v1", "URL_NOT_ALLOWED"),
    "cloud-metadata": ("http://169.254.169.254/latest/meta-data/", "URL_NOT_ALLOWED"),
    "private": ("http://10.0.0.5/v1", "URL_NOT_ALLOWED"),
    "cgnat": ("http://100.64.0.1/v1", "URL_NOT_ALLOWED"),
    "unspecified": ("http://0.0.0.0:8000/v1", "URL_NOT_ALLOWED"),
    "decimal-loopback": ("http://2130706433/v1", "URL_NOT_ALLOWED"),
    "file-scheme": ("file:///etc/passwd", "URL_NOT_ALLOWED"),
    "no-scheme": ("example.com/v1", "URL_NOT_ALLOWED"),
    "no-host": ("http:///v1", "URL_NOT_ALLOWED"),
    "not-a-url": ("not a url", "URL_NOT_ALLOWED"),
    "does-not-resolve": ("https://no-such-host.invalid/v1", "URL_NOT_ALLOWED"),
    "port-out-of-range": ("http://example.com:99999/v1", "URL_NOT_ALLOWED"),
    "port-not-a-number": ("http://example.com:abc/v1", "URL_NOT_ALLOWED"),
    "unbalanced-bracket": ("http://[::1/v1", "URL_NOT_ALLOWED"),
    "short-form-loopback": ("http://127.1/v1", "URL_NOT_ALLOWED"),
    "credentials-before-loopback": ("http://user:pass@127.0.0.1/v1", "URL_NOT_ALLOWED"),
    "label-too-long": (f"http://{'a' * 64}.com/v1", "URL_NOT_ALLOWED"),
}


@pytest.mark.parametrize("provider", ["openai", "openai_compatible"])
@pytest.mark.parametrize("case", list(BAD_BASE_URLS))
async def test_provider_key_base_urls_are_checked(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, case: str, provider: str
) -> None:
    """A base_url is bounded, storable and reaches no internal address (SSRF): nothing is stored
    and nothing is called."""
    url, code = BAD_BASE_URLS[case]
    before = await rows.snapshot()
    response = await _put_key(module_client, module_world, provider, {"api_key": "sk-valid-key-0001", "base_url": url})
    if code == "field":
        assert_field_error(response, ["body", "base_url"])
    else:
        assert_error(response, 422, code)
    assert await rows.snapshot() == before


async def test_an_openai_compatible_key_needs_a_base_url(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState
) -> None:
    before = await rows.snapshot()
    for body in ({"api_key": "sk-valid-key-0001"}, {"api_key": "sk-valid-key-0001", "base_url": ""}):
        response = await _put_key(module_client, module_world, "openai_compatible", body)
        assert_error(response, 422, "BASE_URL_REQUIRED")
    assert await rows.snapshot() == before


# Strings a schema accepts but an HTTP header or URL cannot carry: checking the key must turn them
# into an unverified key (or a 4xx), never a crash.
UNSENDABLE = ["sk-💥💥💥💥💥💥", "sk-abc\ndef-1234", "sk-abc\rdef-1234", "sk-\x7fabcdefg", "sk-abc\x01def-1234"]


@pytest.mark.parametrize("provider", ["openai", "anthropic", "google"])
@pytest.mark.parametrize("field", ["api_key", "api_version", "organization"])
async def test_provider_key_values_no_header_can_carry_never_cause_a_5xx(
    module_client: httpx.AsyncClient, module_world: OrgWorld, provider: str, field: str
) -> None:
    for value in UNSENDABLE:
        body = {"api_key": "sk-valid-key-0001", field: value}
        response = await _put_key(module_client, module_world, provider, body)
        assert response.status_code < 500, f"{provider} {field}={value!r}: {response.status_code} {response.text}"
        if response.status_code == 200:
            assert response.json()["verified"] is False, response.text
        else:
            assert_error(response, response.status_code)


# -- access tokens ---------------------------------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(account: Account, settings: Settings, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": account.user_id,
        "org": account.org_id,
        "typ": "access",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    return claims


def _signed(
    account: Account, settings: Settings, *, secret: str | None = None, alg: str = "HS256", **changes: Any
) -> str:
    assert settings.jwt_secret is not None
    key = secret or settings.jwt_secret.get_secret_value()
    return f"Bearer {jwt.encode(_claims(account, settings, **changes), key, algorithm=alg)}"


def _alg_none(account: Account, settings: Settings) -> str:
    return f"Bearer {_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(account, settings))}."


def _tampered(account: Account, settings: Settings) -> str:
    header, _, signature = _signed(account, settings).removeprefix("Bearer ").split(".")
    forged = _b64(_claims(account, settings, sub=str(uuid.uuid4())))
    return f"Bearer {header}.{forged}.{signature}"


BAD_TOKENS: dict[str, tuple[Callable[[Account, Settings], str], str]] = {
    "alg-none": (_alg_none, "INVALID_TOKEN"),
    "hs512-with-our-secret": (lambda a, s: _signed(a, s, alg="HS512"), "INVALID_TOKEN"),
    "wrong-signature": (lambda a, s: _signed(a, s, secret="another-secret-" + "y" * 32), "INVALID_TOKEN"),
    "tampered-payload": (_tampered, "INVALID_TOKEN"),
    "wrong-audience": (lambda a, s: _signed(a, s, aud="someone-else"), "INVALID_TOKEN"),
    "wrong-issuer": (lambda a, s: _signed(a, s, iss="evil-issuer"), "INVALID_TOKEN"),
    "expired": (lambda a, s: _signed(a, s, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), "INVALID_TOKEN"),
    "missing-typ": (lambda a, s: _signed(a, s, typ=None), "INVALID_TOKEN"),
    "refresh-typ": (lambda a, s: _signed(a, s, typ="refresh"), "INVALID_TOKEN"),
    "missing-sub": (lambda a, s: _signed(a, s, sub=None), "INVALID_TOKEN"),
    "missing-exp": (lambda a, s: _signed(a, s, exp=None), "INVALID_TOKEN"),
    "sub-not-a-uuid": (lambda a, s: _signed(a, s, sub="admin"), "INVALID_TOKEN"),
    "org-not-a-uuid": (lambda a, s: _signed(a, s, org={"id": a.org_id}), "INVALID_TOKEN"),
    "garbage": (lambda a, s: "Bearer this-is-not-a-jwt", "INVALID_TOKEN"),
    "three-garbage-parts": (lambda a, s: "Bearer a.b.c", "INVALID_TOKEN"),
    "bearer-without-token": (lambda a, s: "Bearer", "INVALID_AUTH_HEADER"),
    "basic-scheme": (lambda a, s: "Basic xyz", "INVALID_AUTH_HEADER"),
    "raw-token-without-scheme": (lambda a, s: _signed(a, s).removeprefix("Bearer "), "INVALID_AUTH_HEADER"),
}

# One route per way of authenticating a person: org principal, user-or-key, user only.
TOKEN_ROUTES: list[tuple[str, str]] = [
    ("GET", f"{API}/org"),
    ("GET", f"{API}/auth/me"),
    ("POST", f"{API}/auth/switch-org"),
]


async def _call_with(
    client: httpx.AsyncClient, world: OrgWorld, key: tuple[str, str], headers: dict[str, str]
) -> httpx.Response:
    body = VALID_BODIES[key](world) if key in VALID_BODIES else None
    return await client.request(key[0], key[1], headers=headers, json=body)


@pytest.mark.parametrize("key", TOKEN_ROUTES, ids=route_id)
async def test_a_correctly_forged_token_works(
    module_client: httpx.AsyncClient, module_world: OrgWorld, app_settings: Settings, key: tuple[str, str]
) -> None:
    """Control: the token factory makes tokens the app accepts, so each defect below is the cause."""
    response = await _call_with(
        module_client, module_world, key, {"Authorization": _signed(module_world.viewer, app_settings)}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("case", list(BAD_TOKENS))
@pytest.mark.parametrize("key", TOKEN_ROUTES, ids=route_id)
async def test_bad_tokens_are_401(
    module_client: httpx.AsyncClient, module_world: OrgWorld, app_settings: Settings, key: tuple[str, str], case: str
) -> None:
    make, code = BAD_TOKENS[case]
    response = await _call_with(
        module_client, module_world, key, {"Authorization": make(module_world.viewer, app_settings)}
    )
    assert_error(response, 401, code)


# -- API keys --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def api_keys(module_client: httpx.AsyncClient, module_world: OrgWorld, stack: Any) -> dict[str, str]:
    valid = (await create_api_key(module_client, module_world.owner, scopes=list(ALL_SCOPES)))["key"]
    revoked = await create_api_key(module_client, module_world.owner, scopes=["org:read"])
    response = await module_client.delete(f"{API}/org/api-keys/{revoked['id']}", headers=module_world.owner.headers)
    assert response.status_code == 204
    expired = await create_api_key(
        module_client, module_world.owner, scopes=["org:read"], expires_at="2099-01-01T00:00:00Z"
    )
    async with await psycopg.AsyncConnection.connect(stack.owner_url) as conn:
        await conn.execute(
            "UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = %s", (expired["id"],)
        )
    last = "A" if valid[-1] != "A" else "B"
    return {
        "valid": valid,
        "malformed": "not-an-api-key",
        "right-prefix-wrong-shape": "af_live_short_abc",
        "wrong-checksum": valid[:-1] + last,
        "well-formed-unknown": generate_api_key(),
        "revoked": revoked["key"],
        "expired": expired["key"],
    }


KEY_ROUTES = [("GET", f"{API}/org"), ("GET", f"{API}/auth/me")]


@pytest.mark.parametrize("key", KEY_ROUTES, ids=route_id)
async def test_a_valid_key_works(
    module_client: httpx.AsyncClient, api_keys: dict[str, str], key: tuple[str, str]
) -> None:
    assert (await module_client.request(key[0], key[1], headers={"X-API-Key": api_keys["valid"]})).status_code == 200


@pytest.mark.parametrize(
    "case", ["malformed", "right-prefix-wrong-shape", "wrong-checksum", "well-formed-unknown", "revoked", "expired"]
)
@pytest.mark.parametrize("key", KEY_ROUTES, ids=route_id)
async def test_bad_api_keys_are_401(
    module_client: httpx.AsyncClient, module_world: OrgWorld, api_keys: dict[str, str], key: tuple[str, str], case: str
) -> None:
    response = await module_client.request(key[0], key[1], headers={"X-API-Key": api_keys[case]})
    assert_error(response, 401, "INVALID_API_KEY")
    # A bad key is not rescued by a good bearer token sent alongside it.
    both = await module_client.request(
        key[0], key[1], headers={"X-API-Key": api_keys[case], **module_world.owner.headers}
    )
    assert_error(both, 401, "INVALID_API_KEY")


# -- routing errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [f"{API}/no-such-thing", "/no-such-thing", f"{API}/org/nope/deeper", f"{API}"])
async def test_unknown_routes_are_404(module_client: httpx.AsyncClient, module_world: OrgWorld, path: str) -> None:
    for headers in ({}, module_world.owner.headers):
        assert_error(await module_client.get(path, headers=headers), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", f"{API}/org"),
        ("DELETE", f"{API}/org"),
        ("GET", f"{API}/auth/signup"),
        ("PUT", f"{API}/auth/login"),
        ("GET", f"{API}/org/members/{uuid.uuid4()}"),
        ("POST", "/healthz"),
    ],
)
async def test_wrong_methods_are_405(
    module_client: httpx.AsyncClient, module_world: OrgWorld, method: str, path: str
) -> None:
    response = await module_client.request(method, path, headers=module_world.owner.headers)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers.get("allow")


# -- random bodies (property test) ---------------------------------------------------------------------

# Values known to trip up servers: NUL (PostgreSQL text cannot hold it), non-finite and huge
# numbers (not JSON; beyond 64 bits), lone surrogate escapes, long and odd strings.
NASTY = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        float("nan"),
        float("inf"),
        -float("inf"),
        10**30,
        -(2**63) - 1,
        "\ud800",
        "💥" * 300,
        "x" * 10_000,
        "' OR 1=1 --",
        "../../etc/passwd",
        "",
        " ",
        "\u202e",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40) | NASTY,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
PLAUSIBLE = st.sampled_from(["owner", "admin", "viewer", PASSWORD, "2099-01-01T00:00:00Z", *ALL_SCOPES])
FIELD_VALUES = NASTY | JSON_VALUES | st.text(max_size=300) | st.emails() | PLAUSIBLE | st.lists(PLAUSIBLE, max_size=3)

FUZZED_ROUTES = [
    ("POST", f"{API}/auth/signup"),
    ("POST", f"{API}/auth/login"),
    ("POST", f"{API}/org/members/invite"),
    ("POST", f"{API}/org/api-keys"),
    ("PUT", f"{API}/org"),
    ("POST", f"{API}/agents"),
    ("POST", f"{API}/agents/import"),
    ("PUT", f"{API}/agents/{{agent_id}}/draft"),
    ("POST", f"{API}/agents/{{agent_id}}/publish"),
    ("POST", f"{API}/templates"),
    PROVIDER_KEY,
]


@pytest.mark.parametrize("key", FUZZED_ROUTES, ids=route_id)
@settings(max_examples=60, deadline=None, database=None)
@given(data=st.data())
async def test_random_json_bodies_never_cause_a_5xx(
    module_client: httpx.AsyncClient, module_world: OrgWorld, key: tuple[str, str], data: st.DataObject
) -> None:
    fields = list(valid_body(key, module_world))
    # Mostly a valid body with one or two fields replaced, so most examples get past the schema
    # into the service and the database; the rest are shapeless JSON or arbitrary field mixes.
    mutated = st.dictionaries(st.sampled_from(fields), FIELD_VALUES, min_size=1, max_size=2).map(
        lambda changes: {**valid_body(key, module_world), **changes}
    )
    shaped = st.fixed_dictionaries({}, optional={f: FIELD_VALUES for f in [*fields, "extra"]})
    body = data.draw(st.one_of(mutated, mutated, mutated, shaped, JSON_VALUES), label="body")
    # json.dumps, unlike httpx, also writes NaN/Infinity, which Python-based servers accept.
    response = await send(module_client, key, module_world, json.dumps(body).encode())
    assert response.status_code < 500, f"{route_id(key)} {body!r}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert_error(response, response.status_code)
