"""Webhook ingress: `POST /api/v1/hooks/{token}` starts the agent whose trigger owns the token.

Signatures (when the trigger requires them, the default): the sender signs
`"{timestamp}.{raw body}"` with HMAC-SHA256 under the webhook's signing secret and sends

    X-AgentFlow-Timestamp: 1767225600            (unix seconds)
    X-AgentFlow-Signature: v1=<hex digest>       (several comma-separated v1= values are tried)
    X-AgentFlow-Event-Id:  <unique id>           (optional; the signature itself otherwise)

A timestamp more than five minutes away from our clock is refused (a captured request cannot be
sent again later), and an event id (or signature) seen in the last ten minutes is refused as a
replay, so within the window a request also runs only once.

The run's trigger data is `{"body", "query", "headers", "method"}`: JSON bodies parsed, form bodies
as an object, anything else as text. Credentials and signature headers are not kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from redis.asyncio import Redis

from agentflow.kit.errors import AppError, BadRequest, Conflict, Unauthorized

TOLERANCE_SECONDS = 300
REPLAY_WINDOW_SECONDS = 600
TIMESTAMP_HEADER = "x-agentflow-timestamp"
SIGNATURE_HEADER = "x-agentflow-signature"
EVENT_ID_HEADER = "x-agentflow-event-id"
# Never copied into a run's trigger data (and so never into steps, logs or events).
DROPPED_HEADERS = frozenset(
    {"authorization", "cookie", "proxy-authorization", "x-api-key", SIGNATURE_HEADER, "content-length", "host"}
)
MAX_HEADERS = 100


class SignatureRejected(Unauthorized):
    code = "INVALID_SIGNATURE"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The `X-AgentFlow-Signature` value for a body (what senders compute; tests use it too)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(headers: dict[str, str], body: bytes, secret: str, *, now: float | None = None) -> str:
    """Check the signature and freshness; returns the replay key (event id or signature)."""
    stamp = headers.get(TIMESTAMP_HEADER, "")
    signatures = [part.strip() for part in headers.get(SIGNATURE_HEADER, "").split(",") if part.strip()]
    if not stamp or not signatures:
        raise SignatureRejected(
            f"Sign the request: {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required",
            code="SIGNATURE_MISSING",
        )
    if not stamp.isdigit() or len(stamp) > 12:
        raise SignatureRejected(f"{TIMESTAMP_HEADER} must be unix seconds")
    if abs((now or time.time()) - int(stamp)) > TOLERANCE_SECONDS:
        raise SignatureRejected("The signature's timestamp is more than 5 minutes off", code="SIGNATURE_EXPIRED")
    expected = sign(secret, stamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures[:5]):
        raise SignatureRejected("The signature does not match the body and the webhook's signing secret")
    event_id = headers.get(EVENT_ID_HEADER, "").strip()
    return f"event:{event_id[:200]}" if event_id else f"signature:{expected}"


async def refuse_replays(redis: Redis, trigger_id: str, replay_key: str) -> None:
    digest = hashlib.sha256(replay_key.encode()).hexdigest()
    fresh = await redis.set(f"webhook:seen:{trigger_id}:{digest}", "1", nx=True, ex=REPLAY_WINDOW_SECONDS)
    if not fresh:
        raise Conflict("This webhook event was already received", code="WEBHOOK_REPLAYED")


def trigger_data(method: str, headers: dict[str, str], query: str, content_type: str, body: bytes) -> dict[str, Any]:
    return {
        "body": parse_body(content_type, body),
        "query": dict(parse_qsl(query, keep_blank_values=True)),
        "headers": {k: v for k, v in list(headers.items())[:MAX_HEADERS] if k not in DROPPED_HEADERS},
        "method": method,
    }


def parse_body(content_type: str, body: bytes) -> Any:
    kind = content_type.split(";", 1)[0].strip().lower()
    text = body.decode("utf-8", errors="replace")
    if not body:
        return None
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_int)
        except (ValueError, RecursionError) as error:
            raise BadRequest("The body is not valid JSON", code="INVALID_JSON") from error
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    return text.replace("\x00", "\ufffd")


def _bounded_int(digits: str) -> int:
    # JSONB and our JSON encoder take 64-bit integers; larger ones are refused, not truncated.
    value = int(digits)
    if not -(2**63) <= value < 2**63:
        raise ValueError("integer out of range")
    return value


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; stored in JSONB they would fail later, so refuse them now.
    raise ValueError(f"{name} is not valid JSON")


class WebhookNotFound(AppError):
    status_code = 404
    code = "WEBHOOK_NOT_FOUND"
