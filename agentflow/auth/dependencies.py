"""Authentication and authorization as FastAPI dependencies.

A route states what it needs in its signature, e.g.
`principal: Annotated[Principal, requires(Permission.MEMBERS_MANAGE)]`. The org always comes from
the verified JWT or API key, never from the URL or a client-chosen header, and the request's
transaction gets that org as its row-level security context before any route code runs.

A route that only reads may take `reader: Annotated[TenantReads, reads(Permission.ORG_READ)]`
instead: no session, and each read carries the tenant context itself (see `TenantReads`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
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
    connection = in_session(session)
    if request.headers.get("x-api-key") is not None:
        return await _principal_from_api_key(request, response, connection)
    user_id, org_id = await _person_in_org(request, response)
    return await member_principal(connection, user_id, org_id, meta=await request_meta(request))


def in_session(session: AsyncSession) -> ConnectionSource:
    """The checks on the session's transaction: the context they set holds for the rest of it."""

    @asynccontextmanager
    async def connection() -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        yield await session_connection(session)

    return connection


async def authenticate_api_key_outside_transaction(request: Request, response: Response) -> Principal:
    """The org principal of the request's `X-API-Key`, checked on a pooled autocommit connection
    (no session, no transaction), for routes that read outside any session."""
    db: Database = request.app.state.db
    return await _principal_from_api_key(request, response, db.autocommit_connection)


async def _person_in_org(request: Request, response: Response) -> tuple[uuid.UUID, uuid.UUID]:
    """The user and org of the request's access token, counted against the org's rate limit; the
    membership is still to be confirmed."""
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.rate_limiter
    identity = _user_from_token(request, settings)
    org_id = require_org(identity)
    _apply_headers(response, await limiter.hit(settings.rate_limit_org, "org", str(org_id)))
    return identity.user_id, org_id


async def _principal_from_api_key(request: Request, response: Response, connection: ConnectionSource) -> Principal:
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.rate_limiter
    key = request.headers.get("x-api-key") or ""
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
        role, _ = await enter_org(conn, user_id, org_id)
    return _confirmed_member(role, user_id, org_id, meta)


def _confirmed_member(role: str | None, user_id: uuid.UUID, org_id: uuid.UUID, meta: RequestMeta) -> Principal:
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


def require_permission(principal: Principal, permission: Permission) -> None:
    """403 unless the principal's role or scopes allow `permission`."""
    if not principal.can(permission):
        who = "This API key's scopes do not" if principal.is_api_key else "Your role does not"
        raise Forbidden(
            f"{who} allow '{permission.value}'", code="FORBIDDEN", details={"required_permission": permission.value}
        )


def requires(permission: Permission) -> Any:
    """Dependency factory: authenticate, then check `permission` against the role or scopes."""

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        require_permission(principal, permission)
        return principal

    check.required_permission = permission  # type: ignore[attr-defined]  # read by the route inventory
    return Depends(check)


class TenantReads:
    """What a route that only reads takes instead of a Principal and a session (`reads(...)`):
    reads on a pooled autocommit connection, each sent in one message with the caller's tenant
    context, and the only way such a route sees the caller's org.

    A person's membership is not read on its own: it rides with their first read (`enter_org`'s
    `then`), the org becomes the context only through that membership row (a former member reads
    nothing), and the rows are handed out only once the role is confirmed and allows the route's
    permission. A person's list request is then one PostgreSQL round trip instead of two, the
    largest share of its CPU (bench/api_bench.py).
    """

    def __init__(
        self,
        db: Database,
        permission: Permission,
        *,
        principal: Principal | None = None,
        member: tuple[uuid.UUID, uuid.UUID] | None = None,
        meta: RequestMeta = NO_META,
    ) -> None:
        assert (principal is None) != (member is None), "a confirmed principal, or a member to confirm"
        self._db = db
        self._permission = permission
        self._principal = principal
        self._member = member  # (user_id, org_id) from a verified access token, membership unread
        self._meta = meta

    async def fetch(self, query: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """`query`'s rows in the caller's tenant context: plain SQL with `%(name)s` placeholders
        from `params`, which may also use `%(org_id)s` and `%(user_id)s`."""
        if self._principal is not None:
            p = self._principal
            return await self._db.read_in_context(query, params, org_id=p.org_id, user_id=p.user_id)
        assert self._member is not None
        user_id, org_id = self._member
        async with self._db.autocommit_connection() as conn:
            role, rows = await enter_org(conn, user_id, org_id, then=query, params=params)
        principal = _confirmed_member(role, user_id, org_id, self._meta)
        require_permission(principal, self._permission)
        self._principal = principal
        return rows


def reads(permission: Permission) -> Any:
    """Dependency factory for a route that only reads, with no session: a `TenantReads` for the
    caller, who must be allowed `permission` (checked before any rows reach the route)."""

    async def tenant_reads(request: Request, response: Response) -> TenantReads:
        db: Database = request.app.state.db
        if request.headers.get("x-api-key") is not None:
            principal = await authenticate_api_key_outside_transaction(request, response)
            require_permission(principal, permission)
            return TenantReads(db, permission, principal=principal)
        member = await _person_in_org(request, response)
        return TenantReads(db, permission, member=member, meta=await request_meta(request))

    tenant_reads.required_permission = permission  # type: ignore[attr-defined]  # read by the route inventory
    return Depends(tenant_reads)


CurrentUser = Annotated[UserIdentity, Depends(authenticate_user)]
