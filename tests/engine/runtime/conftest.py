"""A real Postgres checkpointer (its own database in the embedded cluster) for engine runtime tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from agentflow.embedded import EmbeddedStack

CHECKPOINT_DB = "agentflow_engine_checkpoints"


@pytest.fixture(scope="session")
async def checkpointer(stack: EmbeddedStack) -> AsyncIterator[AsyncPostgresSaver]:
    owner = stack.owner_url.replace("postgresql+psycopg://", "postgresql://")
    async with await psycopg.AsyncConnection.connect(owner, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {CHECKPOINT_DB}")
        await conn.execute(f"CREATE DATABASE {CHECKPOINT_DB}")
    parts = urlsplit(owner)
    url = urlunsplit(parts._replace(path=f"/{CHECKPOINT_DB}"))
    async with AsyncPostgresSaver.from_conn_string(url) as saver:
        await saver.setup()
        yield saver


@pytest.fixture
def execution_id() -> uuid.UUID:
    return uuid.uuid4()
