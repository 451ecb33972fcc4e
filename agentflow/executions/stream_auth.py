"""Who may open a live execution stream, and the single-use stream tickets.

A browser can put no `Authorization` or `X-API-Key` header on a WebSocket or EventSource request,
so the streams accept, besides those headers (non-browser clients):

- WebSocket: the access token as a subprotocol, `Sec-WebSocket-Protocol: agentflow.v1,
  bearer.<jwt>`. The server selects `agentflow.v1`; the token is never echoed back.
- A stream ticket, `?ticket=…`, from `POST /executions/{id}/stream-ticket`: opaque, valid once,
  for that execution only and for `stream_ticket_ttl_seconds` (60 s). Access tokens and API keys
  stay out of URLs, which end up in proxy and browser logs; a leaked ticket is useless by then.
  Only the ticket's SHA-256 is stored (Redis, with the TTL); GETDEL makes redeeming it atomic.

Every way ends in the same checks as an HTTP route: the token or key is verified with the same
helpers as `agentflow.auth.dependencies`, membership or key validity is read again (a ticket
issued before a member was removed or a key revoked no longer opens anything), the org's rate
limit is counted, `executions.read` is required, and another org's execution is not found.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request, Response
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers, QueryParams

from agentflow.auth.dependencies import (
    api_key_principal,
    authenticate,
    identity_from_token,
    in_session,
    member_principal,
    require_org,
    require_permission,
)
from agentflow.auth.repository import enter_org_of_usable_key
from agentflow.executions import service
from agentflow.kit.db import Database, session_connection
from agentflow.kit.deps import SessionDep
from agentflow.kit.errors import BadRequest, Unauthorized
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal
from agentflow.kit.ratelimit import RateLimiter
from agentflow.kit.security import (
    new_secret_token,
    sha256_hex,
)
from agentflow.settings import Settings

SUBPROTOCOL = "agentflow.v1"
BEARER_SUBPROTOCOL_PREFIX = "bearer."
REQUIRED = Permission.EXECUTIONS_READ

TicketParam = Annotated[
    str | None,
    Query(
        min_length=20,
        max_length=100,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A stream ticket from POST /executions/{id}/stream-ticket (for browsers' EventSource)",
    ),
]


def _ticket_key(ticket: str) -> str:
    return f"stream-ticket:{sha256_hex(ticket)}"


def _invalid_ticket() -> Unauthorized:
    # One answer for unknown, used, expired and other-execution tickets: nothing to probe.
    return Unauthorized("The stream ticket is invalid, used or expired", code="INVALID_TICKET")


async def issue_ticket(request: Request, principal: Principal, execution_id: uuid.UUID) -> tuple[str, int]:
    """A fresh ticket for `principal` to open one stream of `execution_id`; (ticket, ttl seconds).
    The caller has already checked that the execution is theirs."""
    settings: Settings = request.app.state.settings
    redis: Redis = request.app.state.redis
    ticket = new_secret_token()
    api_key = request.headers.get("x-api-key") if principal.is_api_key else None
    record = {
        "execution_id": str(execution_id),
        "org_id": str(principal.org_id),
        "user_id": str(principal.user_id) if principal.user_id else None,
        # The key's hash (never the key), so redeeming checks the key is still usable, as a call would.
        "api_key_hash": sha256_hex(api_key) if api_key else None,
    }
    ttl = settings.stream_ticket_ttl_seconds
    await redis.set(_ticket_key(ticket), orjson.dumps(record), ex=ttl)
    return ticket, ttl


async def _principal_from_ticket(
    session: AsyncSession, redis: Redis, ticket: str, execution_id: uuid.UUID
) -> Principal:
    raw = await redis.getdel(_ticket_key(ticket))
    if raw is None:
        raise _invalid_ticket()
    record: dict[str, Any] = orjson.loads(raw)
    if record.get("execution_id") != str(execution_id):
        raise _invalid_ticket()
    org_id = uuid.UUID(record["org_id"])
    if record.get("api_key_hash"):
        row = await enter_org_of_usable_key(await session_connection(session), record["api_key_hash"])
        if row is None or row.org_id != org_id:
            raise _invalid_ticket()
        return Principal(org_id=row.org_id, api_key_id=row.id, scopes=frozenset(row.scopes))
    return await member_principal(in_session(session), uuid.UUID(record["user_id"]), org_id)


@dataclass(frozen=True)
class StreamCredentials:
    """What a WebSocket client presented; at most one is used, in this order: ticket, API key,
    bearer subprotocol, Authorization header (a bad key is not rescued by a good token, as over HTTP)."""

    ticket: str | None = None
    api_key: str | None = None
    token: str | None = None

    @classmethod
    def from_handshake(cls, headers: Headers, query: QueryParams, subprotocols: list[str]) -> StreamCredentials:
        token = next((p[len(BEARER_SUBPROTOCOL_PREFIX) :] for p in subprotocols if _is_bearer(p)), None)
        if token is None and (header := headers.get("authorization")) is not None:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise Unauthorized("Use 'Authorization: Bearer <token>'", code="INVALID_AUTH_HEADER")
            token = value.strip()
        ticket = query.get("ticket")
        if ticket is not None and not (20 <= len(ticket) <= 100 and ticket.replace("-", "").replace("_", "").isalnum()):
            raise BadRequest("The ticket parameter is malformed", code="INVALID_TICKET_PARAMETER")
        return cls(ticket=ticket, api_key=headers.get("x-api-key"), token=token or None)


def _is_bearer(subprotocol: str) -> bool:
    return subprotocol.lower().startswith(BEARER_SUBPROTOCOL_PREFIX)


async def authorize_connection(state: Any, credentials: StreamCredentials, execution_id: uuid.UUID) -> Principal:
    """The principal a WebSocket client connects as, after the same checks as an HTTP route:
    401/403 as `AppError`s, and `NotFound` for an execution the principal's org does not have."""
    if credentials.ticket is None and credentials.api_key is None and credentials.token is None:
        raise Unauthorized("Authentication required", code="AUTH_REQUIRED")  # before any I/O
    db: Database = state.db
    settings: Settings = state.settings
    limiter: RateLimiter = state.rate_limiter
    async with db.transaction() as session:
        if credentials.ticket is not None:
            principal = await _principal_from_ticket(session, state.redis, credentials.ticket, execution_id)
        elif credentials.api_key is not None:
            principal, _ = await api_key_principal(in_session(session), limiter, settings, credentials.api_key)
        else:
            assert credentials.token is not None
            identity = identity_from_token(credentials.token, settings)
            principal = await member_principal(in_session(session), identity.user_id, require_org(identity))
        await limiter.hit(settings.rate_limit_org, "org", str(principal.org_id))
        require_permission(principal, REQUIRED)
        await service.load(session, principal, execution_id)
    return principal


async def stream_reader(
    request: Request,
    response: Response,
    session: SessionDep,
    execution_id: uuid.UUID,
    ticket: TicketParam = None,
) -> Principal:
    """`requires(Permission.EXECUTIONS_READ)` for the event routes, also taking a stream ticket
    (EventSource cannot send headers). Without a ticket it is exactly `authenticate`."""
    if ticket is None:
        principal = await authenticate(request, response, session)
    else:
        principal = await _principal_from_ticket(session, request.app.state.redis, ticket, execution_id)
        settings: Settings = request.app.state.settings
        await request.app.state.rate_limiter.hit(settings.rate_limit_org, "org", str(principal.org_id))
    require_permission(principal, REQUIRED)
    return principal


stream_reader.required_permission = REQUIRED  # type: ignore[attr-defined]  # read by the route registries

StreamReader = Annotated[Principal, Depends(stream_reader)]
