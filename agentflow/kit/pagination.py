"""Cursor pagination: an opaque cursor encodes the last row's sort key and id (keyset paging)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel

from agentflow.kit.errors import BadRequest

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(sort_value: datetime | str | int, row_id: uuid.UUID) -> str:
    value = sort_value.isoformat() if isinstance(sort_value, datetime) else sort_value
    raw = orjson.dumps([value, str(row_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: type[datetime] | type[str] | type[int] = datetime) -> tuple[Any, uuid.UUID]:
    """Return (sort value, row id); `kind` is the sort column's type."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_id = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if kind is datetime:
            value = datetime.fromisoformat(value)
        elif not isinstance(value, kind) or isinstance(value, bool):
            raise TypeError("cursor value of the wrong type")
        elif isinstance(value, str) and "\x00" in value:
            raise ValueError("PostgreSQL text cannot hold U+0000")
        return value, uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise BadRequest("The cursor is invalid", code="INVALID_CURSOR") from exc
