"""Values headed for JSONB columns and Redis: plain JSON, nothing PostgreSQL refuses."""

from __future__ import annotations

from typing import Any

import orjson


def _default(value: Any) -> Any:
    return str(value)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_clean(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def to_json(value: Any) -> Any:
    """`value` as plain JSON types (unknown objects become strings; U+0000, which JSONB cannot
    hold, becomes U+FFFD)."""
    return _clean(orjson.loads(orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)))


def as_object(value: Any) -> dict[str, Any] | None:
    """A JSON object for a JSONB column meant to hold one: non-objects are wrapped as `{"value": …}`."""
    if value is None:
        return None
    plain = to_json(value)
    return plain if isinstance(plain, dict) else {"value": plain}
