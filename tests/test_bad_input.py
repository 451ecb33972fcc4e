"""Bad input everywhere (ARCHITECTURE.md §6): a 4xx error envelope, never a 500, nothing half-written.

Routes with a body are read from the app; a new one fails here until it has a valid body in
`VALID_BODIES`, from which the broken variants (wrong types, unknown fields, over-long strings)
are derived automatically.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import psycopg
import pytest
import pytest_asyncio
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
    create_api_key,
    unique,
)
from tests.routes import PATH_PARAM, collection_time_app, route_id, routes_by_key

ROUTES = routes_by_key(collection_time_app())
BODY_ROUTES = sorted(k for k, r in ROUTES.items() if k[0] in {"POST", "PUT", "PATCH", "DELETE"} and r.body_field)
PATH_ROUTES = sorted(k for k in ROUTES if PATH_PARAM.search(k[1]) and k not in PUBLIC_ROUTES)


def assert_field_error(response: httpx.Response, loc: list[str]) -> None:
    error = assert_error(response, 422, "VALIDATION_ERROR")
    locs = [f["loc"] for f in error["details"]["fields"]]
    assert any(found[: len(loc)] == loc for found in locs), f"no error at {loc}: {locs}"


# -- fixtures --------------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Overrides the shared one here: a client that sees a crash as the 500 response a real client
    would get."""
    async with client_for(app, raise_app_exceptions=False) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_world(module_client: httpx.AsyncClient, module_world: OrgWorld) -> OrgWorld:
    """The shared module org plus `extra["target"]`, a viewer: bad requests change nothing, and
    valid ones only touch that target."""
    module_world.extra["target"] = await add_member(module_client, module_world.owner, "viewer")
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
}

PATH_VALUES: dict[str, Callable[[OrgWorld], str]] = {
    "member_id": lambda w: str(w.extra["target"].member_id),
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
        assert_error(await send(module_client, key, module_world, payload), 400, "MALFORMED_JSON")
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_a_body_that_is_not_an_object_is_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str]
) -> None:
    before = await rows.snapshot()
    for payload in ([], [valid_body(key, module_world)], "a string", 42, True, None):
        response = await send(module_client, key, module_world, json.dumps(payload).encode())
        error = assert_error(response, 422, "VALIDATION_ERROR")
        assert error["details"]["fields"], error
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_wrong_types_are_422_per_field(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str]
) -> None:
    before = await rows.snapshot()
    for field, value in valid_body(key, module_world).items():
        body = {**valid_body(key, module_world), field: wrong_type_for(value)}
        assert_field_error(await send(module_client, key, module_world, json.dumps(body).encode()), ["body", field])
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_unknown_fields_are_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str]
) -> None:
    before = await rows.snapshot()
    for extra in ({"is_superuser": True}, {"role_override": "owner"}, {"org_id_": str(uuid.uuid4())}):
        body = {**valid_body(key, module_world), **extra}
        assert_field_error(await send(module_client, key, module_world, json.dumps(body).encode()), ["body", *extra])
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_over_long_strings_are_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str]
) -> None:
    before = await rows.snapshot()
    string_fields = [f for f, v in valid_body(key, module_world).items() if isinstance(v, str)]
    assert string_fields, f"{route_id(key)}: no string field to stretch"
    for field in string_fields:
        body = {**valid_body(key, module_world), field: "x" * 10_000}
        assert_field_error(await send(module_client, key, module_world, json.dumps(body).encode()), ["body", field])
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
                await send(module_client, key, module_world, json.dumps(body).encode()), 422, "VALIDATION_ERROR"
            )
    assert await rows.snapshot() == before


@pytest.mark.parametrize("key", BODY_ROUTES, ids=route_id)
async def test_the_valid_body_passes_validation(
    module_client: httpx.AsyncClient, module_world: OrgWorld, key: tuple[str, str]
) -> None:
    """Control: the variants above fail because of what was broken, not because the base was bad."""
    response = await send(module_client, key, module_world, json.dumps(valid_body(key, module_world)).encode())
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert assert_error(response, response.status_code)["code"] not in {"MALFORMED_JSON", "VALIDATION_ERROR"}


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


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "' OR 1=1 --"])
@pytest.mark.parametrize("key", PATH_ROUTES, ids=route_id)
async def test_invalid_uuid_in_path_is_422(
    module_client: httpx.AsyncClient, module_world: OrgWorld, rows: RowState, key: tuple[str, str], bad_id: str
) -> None:
    method, template = key
    names = PATH_PARAM.findall(template)
    path = PATH_PARAM.sub(quote(bad_id, safe=""), template)
    body = valid_body(key, module_world) if ROUTES[key].body_field else None
    before = await rows.snapshot()
    response = await module_client.request(method, path, headers=module_world.owner.headers, json=body)
    for name in names:
        assert_field_error(response, ["path", name])
    assert await rows.snapshot() == before


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
