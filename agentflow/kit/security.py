"""Passwords, access tokens, opaque secrets and API keys.

- Passwords: argon2id. Unknown accounts are checked against a dummy hash so a login takes the
  same time whether or not the email exists.
- Access tokens: HS256 JWTs, algorithm pinned on decode, `iss`/`aud`/`exp`/`typ` required.
- Refresh tokens, invitation tokens and API keys are random secrets; only their SHA-256 is stored.
- API keys look like `af_live_<32 base62 chars>_<6-char checksum>`: 190 bits of randomness, a
  prefix that secret scanners can match, and a checksum that rejects typos without a DB query.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import string
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
JWT_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-effort check; always runs one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret_token() -> str:
    """An opaque, URL-safe secret with 256 bits of randomness."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    org_id: uuid.UUID | None
    expires_at: datetime


class TokenError(Exception):
    """The token is missing, malformed, expired or not ours; the message is safe to show."""


def issue_access_token(
    *, user_id: uuid.UUID, org_id: uuid.UUID | None, secret: str, issuer: str, audience: str, ttl_seconds: int
) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl_seconds)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "org": str(org_id) if org_id else None,
        "typ": "access",
        "iss": issuer,
        "aud": audience,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM), expires


def decode_access_token(token: str, *, secret: str, issuer: str, audience: str) -> AccessClaims:
    claims = _verified_access_token(token, secret, issuer, audience)
    # A verification may come from the cache: the token must still be current now.
    if claims.expires_at.timestamp() <= time.time():
        raise TokenError("The access token has expired")
    return claims


@functools.lru_cache(maxsize=4096)
def _verified_access_token(token: str, secret: str, issuer: str, audience: str) -> AccessClaims:
    """Verify once per token: a client sends the same token on every request until it expires,
    and PyJWT's checks cost ~85 µs each time (~10 % of a `GET /auth/me`). Only successful
    verifications are cached (an exception is not), and the signature, issuer and audience of a
    given token string never change; expiry is checked on every use by the caller."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            issuer=issuer,
            audience=audience,
            options={"require": ["sub", "exp", "iat", "iss", "aud", "typ"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("The access token has expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("The access token is invalid") from exc
    if claims.get("typ") != "access":
        raise TokenError("The access token is invalid")
    try:
        user_id = uuid.UUID(claims["sub"])
        org_id = uuid.UUID(claims["org"]) if claims.get("org") else None
    except (ValueError, TypeError, AttributeError) as exc:
        raise TokenError("The access token is invalid") from exc
    return AccessClaims(user_id=user_id, org_id=org_id, expires_at=datetime.fromtimestamp(claims["exp"], UTC))


# --- API keys ---------------------------------------------------------------------------------

API_KEY_PREFIX = "af_live_"
_BASE62 = string.digits + string.ascii_letters
_KEY_BODY_LENGTH = 32  # 32 * log2(62) ≈ 190 bits
_CHECKSUM_LENGTH = 6
DISPLAY_PREFIX_LENGTH = len(API_KEY_PREFIX) + 6


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        chars.append(_BASE62[rem])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECKSUM_LENGTH)


def generate_api_key() -> str:
    body = "".join(secrets.choice(_BASE62) for _ in range(_KEY_BODY_LENGTH))
    return f"{API_KEY_PREFIX}{body}_{_checksum(body)}"


def api_key_is_well_formed(key: str) -> bool:
    if not key.startswith(API_KEY_PREFIX) or len(key) != len(API_KEY_PREFIX) + _KEY_BODY_LENGTH + 1 + _CHECKSUM_LENGTH:
        return False
    body, _, checksum = key[len(API_KEY_PREFIX) :].partition("_")
    if len(body) != _KEY_BODY_LENGTH or any(c not in _BASE62 for c in body):
        return False
    return hmac.compare_digest(checksum, _checksum(body))


def api_key_display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]
