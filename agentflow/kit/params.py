"""Query parameters shared by list endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from agentflow.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT

Cursor = Annotated[str | None, Query(max_length=500, description="Opaque cursor from `next_cursor`")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
DEFAULT_PAGE_SIZE = DEFAULT_LIMIT
