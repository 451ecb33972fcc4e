"""Authentication and authorization as FastAPI dependencies.

A route states what it needs in its signature, e.g.
`principal: Annotated[Principal, requires(Permission.MEMBERS_MANAGE)]`. The org always comes from
the verified JWT or API key, never from the URL or a client-chosen header, and the request's
transaction gets that org as its row-level security context before any route code runs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.auth.repository import enter_org, enter_org_of_usable_key, touch_api_key
from agentflow.kit.db import Database, session_connection
from agentflow.kit.deps import SessionDep, request_meta
from agentflow.kit.errors import Forbidden, Unauthorized
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal, RequestMeta
from agentflow.kit.ratelimit import RateLimiter, RateLimitState
from agentflow.kit.security import TokenError, api_key_is_well_formed, decode_access_token, sha256_hex
from agentflow.models.orgs import Role
from agentflow.settings import Settings

# Writing last_used_at on every call would turn each read into a write; a minute is precise enough.
_TOUCH_INTERVAL = timedelta(seconds=60)


class UserIdentity:
    """A logged-in user, possibly with no current org (e.g. removed from their last one)."""

    def __init__(self, user_id: uuid.UUID, org_id: uuid.UUID | None) -> None:
        self.user_id = user_id
        self.org_id = org_id


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Use 'Authorization: Bearer <token>'", code="INVALID_AUTH_HEADER")
    return token.strip()


def _user_from_token(request: Request, settings: Settings) -> UserIdentity:
    """The user and org of a valid access token; 401 without one."""
    token = _bearer_token(request)
    if token is None:
        raise Unauthorized("Authentication required", code="AUTH_REQUIRED", headers={"WWW-Authenticate": "Bearer"})
    return identity_from_token(token, settings)


def identity_from_token(token: str, settings: Settings) -> UserIdentity:
    """The user and org of a valid access token (however it was presented); 401 otherwise."""
    assert settings.jwt_secret is not None
    try:
        claims = decode_access_token(
            token,
            secret=settings.jwt_secret.get_secret_value(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    except TokenError as exc:
        raise Unauthorized(str(exc), code="INVALID_TOKEN", headers={"WWW-Authenticate": "Bearer"}) from exc
    return UserIdentity(claims.user_id, claims.org_id)


def _apply_headers(response: Response, state: RateLimitState | None) -> None:
    if state is not None:
        response.headers.update(state.headers())


# Where the credential checks run: the request's transaction, or a pooled autocommit connection.
ConnectionSource = Callable[[], AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]]


async def authenticate(request: Request, response: Response, session: SessionDep) -> Principal:
    """Resolve the caller to a Principal bound to one org, or answer 401.

    On success the request's transaction has the principal's org as its row-level security context.
    """
    return await _resolve_principal(request, response, in_session(session))


def in_session(session: AsyncSession) -> ConnectionSource:
    """The checks on the session's transaction: the context they set holds for the rest of it."""

    @asynccontextmanager
    async def connection() -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        yield await session_connection(session)

    return connection


async def authenticate_outside_transaction(request: Request, response: Response) -> Principal:
    """`authenticate` for routes that only read, each read setting the tenant context itself
    (`Database.read_in_context`), and take no session.

    The check runs on an autocommit connection, in one round trip for a person's token, and no
    transaction is opened: a list read by a person costs 2 round trips instead of 4 (BEGIN,
    context + role, the list, COMMIT), the biggest share of such a request's CPU
    (bench/api_bench.py). With no session there is no context to forget: a route here that took
    one anyway would see no tenant rows at all.
    """
    db: Database = request.app.state.db
    return await _resolve_principal(request, response, db.autocommit_connection)


async def _resolve_principal(request: Request, response: Response, connection: ConnectionSource) -> Principal:
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.rate_limiter
    api_key = request.headers.get("x-api-key")
    if api_key is not None:
        return await _principal_from_api_key(api_key, request, response, connection, settings, limiter)
    identity = _user_from_token(request, settings)
    org_id = require_org(identity)
    _apply_headers(response, await limiter.hit(settings.rate_limit_org, "org", str(org_id)))
    principal = await member_principal(connection, identity.user_id, org_id, meta=await request_meta(request))
    request.state.principal = principal
    return principal


async def _principal_from_api_key(
    key: str,
    request: Request,
    response: Response,
    connection: ConnectionSource,
    settings: Settings,
    limiter: RateLimiter,
) -> Principal:
    principal, key_state = await api_key_principal(connection, limiter, settings, key, meta=await request_meta(request))
    org_state = await limiter.hit(settings.rate_limit_org, "org", str(principal.org_id))
    # Report whichever limit is closer to running out.
    states = [s for s in (key_state, org_state) if s is not None]
    _apply_headers(response, min(states, key=lambda s: s.remaining) if states else None)
    return principal


NO_META = RequestMeta()  # a WebSocket handshake's principal carries no request metadata

# The credential checks themselves, shared with the live stream's WebSocket handshake
# (executions/stream_auth.py), which has no Request or Response.


def require_org(identity: UserIdentity) -> uuid.UUID:
    if identity.org_id is None:
        raise Forbidden("Select an organization first (POST /auth/switch-org)", code="NO_ORGANIZATION")
    return identity.org_id


async def member_principal(
    connection: ConnectionSource, user_id: uuid.UUID, org_id: uuid.UUID, *, meta: RequestMeta = NO_META
) -> Principal:
    """A person acting in `org_id`, the org made the tenant context; 401 unless they are an active
    member of it."""
    async with connection() as conn:
        role = await enter_org(conn, user_id, org_id)
    if role is None:
        # The token is genuine but membership was removed (or the account deactivated) since it
        # was issued: refresh picks another org (or none).
        raise Unauthorized("You are no longer a member of this organization", code="ORG_ACCESS_REVOKED")
    return Principal(org_id=org_id, user_id=user_id, role=Role(role), meta=meta)


async def api_key_principal(
    connection: ConnectionSource,
    limiter: RateLimiter,
    settings: Settings,
    key: str,
    *,
    meta: RequestMeta = NO_META,
) -> tuple[Principal, RateLimitState | None]:
    """The org an API key acts in, counted against the key's rate limit (whose state is returned);
    401 unless the key is active, unrevoked and unexpired."""
    invalid = Unauthorized("The API key is invalid, revoked or expired", code="INVALID_API_KEY")
    if not api_key_is_well_formed(key):
        raise invalid
    key_hash = sha256_hex(key)
    key_state = await limiter.hit(settings.rate_limit_api_key, "api_key", key_hash)
    async with connection() as conn:
        row = await enter_org_of_usable_key(conn, key_hash)
        if row is None:
            raise invalid
        now = datetime.now(UTC)
        if row.last_used_at is None or now - row.last_used_at > _TOUCH_INTERVAL:
            await touch_api_key(conn, row, now)
    principal = Principal(org_id=row.org_id, api_key_id=row.id, scopes=frozenset(row.scopes), meta=meta)
    return principal, key_state


async def authenticate_user(request: Request) -> UserIdentity:
    """A person's access token only (no API keys); the org may be unset."""
    if request.headers.get("x-api-key") is not None:
        raise Forbidden("This endpoint is for signed-in users, not API keys", code="USER_REQUIRED")
    return _user_from_token(request, request.app.state.settings)


def requires(permission: Permission, *, transaction: bool = True) -> Any:
    """Dependency factory: authenticate, then check `permission` against the role or scopes.

    `transaction=False` for a route that only reads, with `Database.read_in_context`, and takes no
    session (`authenticate_outside_transaction`).
    """
    authenticator = authenticate if transaction else authenticate_outside_transaction

    async def check(principal: Principal) -> Principal:
        if not principal.can(permission):
            who = "This API key's scopes do not" if principal.is_api_key else "Your role does not"
            raise Forbidden(
                f"{who} allow '{permission.value}'", code="FORBIDDEN", details={"required_permission": permission.value}
            )
        return principal

    # Set as an object: FastAPI resolves string annotations (this module's `from __future__`) in
    # the module's namespace, where the local `authenticator` does not exist.
    check.__annotations__["principal"] = Annotated[Principal, Depends(authenticator)]
    check.required_permission = permission  # type: ignore[attr-defined]  # read by the route inventory
    return Depends(check)


CurrentUser = Annotated[UserIdentity, Depends(authenticate_user)]
