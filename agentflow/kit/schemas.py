"""Base for request bodies: unknown fields are an error, not silently dropped, and values
PostgreSQL cannot store (U+0000 in text, NaN/Infinity in JSON) are a 422, not a 500."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


def _storable(data: Any) -> bool:
    pending = [data]  # iterative: request JSON may be nested deeper than Python's recursion limit
    while pending:
        value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
    return True


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unstorable_values(cls, data: Any) -> Any:
        # Python's JSON parser accepts NaN/Infinity, which are not JSON and which PostgreSQL's
        # json types refuse; text columns refuse U+0000. Either would otherwise fail at INSERT.
        if not _storable(data):
            raise ValueError("text must not contain U+0000 and numbers must be finite")
        return data
