"""One round trip per write on the worker's hot path (step rows, events, logs).

A worker writes a few rows per node. Through a SQLAlchemy session each write costs a BEGIN, the
tenant context, the ORM's unit of work and a COMMIT: several round trips and, mostly, worker CPU
(bench/engine_bench.py). Here the tenant context and the statement go to PostgreSQL together in
pipeline mode, on a connection in autocommit mode: the server runs everything up to the pipeline's
one Sync as a single implicit transaction, so the transaction-local context applies to the
statement (row-level security holds as everywhere else) and one commit ends both. Unlike several
statements in one simple-protocol message, the statements keep server-side parameters and stay
prepared: PostgreSQL does not plan them again on every call.

`transaction` is the same for a few statements that must commit together (claiming a run and
recording its outcome): a round trip happens only when a result is read, and at the commit.

Connections come from a psycopg pool (the worker's, shared with its checkpointer: the cheapest
way, no SQLAlchemy in between) or, for the API's occasional event, from a `Database`'s pool.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from agentflow.kit.db import Database

Connections = AsyncConnectionPool[Any] | Database
"""Where the connections come from; either way they are in autocommit mode while used here."""
Cursor = psycopg.AsyncCursor[tuple[Any, ...]]
Statement = tuple[str, Sequence[Any]]
"""SQL with positional (`%s`) values, run for its effect only (a checkpoint's writes, say)."""

_SET_CONTEXT = "SELECT set_config('app.org_id', %(org_id)s, true)"


def _connection(source: Connections) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
    if isinstance(source, AsyncConnectionPool):
        return source.connection()  # the worker's pool is in autocommit mode
    return source.autocommit_connection()


async def execute_in_context(
    source: Connections,
    *statements: tuple[str, Mapping[str, Any]],
    org_id: uuid.UUID,
    also: Sequence[Statement] = (),
) -> list[list[tuple[Any, ...]]]:
    """Run `statements` (SQL with `%(name)s` placeholders, and its values; `%(org_id)s` is the org)
    and then `also` in the org's context, in ONE transaction, committed; the rows of each of
    `statements`. `also` runs on one cursor, consecutive statements with the same SQL as one batch."""
    async with _connection(source) as conn:
        cursors = [conn.cursor(row_factory=tuple_row) for _ in statements]
        async with conn.pipeline():
            await conn.execute(_SET_CONTEXT, {"org_id": str(org_id)})
            for cursor, (statement, params) in zip(cursors, statements, strict=True):
                await cursor.execute(statement, {**params, "org_id": org_id})
            if also:
                async with conn.cursor() as quiet:
                    for statement, batch in itertools.groupby(also, key=lambda item: item[0]):
                        await quiet.executemany(statement, [values for _, values in batch])
        results = []
        for cursor in cursors:
            results.append(await cursor.fetchall() if cursor.description else [])
            await cursor.close()
        return results


@asynccontextmanager
async def transaction(source: Connections, *, org_id: uuid.UUID) -> AsyncIterator[Cursor]:
    """A cursor in one transaction (committed at the end unless it raises) in the org's context,
    in pipeline mode: statements go out as they are executed, without waiting for each other."""
    async with (
        _connection(source) as conn,
        conn.pipeline(),
        conn.transaction(),
        conn.cursor(row_factory=tuple_row) as cursor,
    ):
        await cursor.execute(_SET_CONTEXT, {"org_id": str(org_id)})
        yield cursor
