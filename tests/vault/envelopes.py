"""An independent reader/writer of the v1 envelope format, so tests can alter single bits."""

from __future__ import annotations

import base64
import json
from typing import Any


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(envelope: str) -> dict[str, Any]:
    assert envelope.startswith("v1.")
    body = json.loads(b64d(envelope[3:]))
    assert isinstance(body, dict)
    return body


def encode(body: dict[str, Any]) -> str:
    return "v1." + b64e(json.dumps(body).encode())


def flip_bit(envelope: str, field: str, bit: int) -> str:
    """The envelope with one bit of one binary field inverted (bit taken modulo the field's size)."""
    body = decode(envelope)
    raw = bytearray(b64d(body[field]))
    bit %= len(raw) * 8
    raw[bit // 8] ^= 1 << (bit % 8)
    body[field] = b64e(bytes(raw))
    return encode(body)


def with_fields(envelope: str, **fields: str) -> str:
    body = decode(envelope)
    body.update(fields)
    return encode(body)
