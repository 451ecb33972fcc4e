"""Migrations run up, down and up again on an empty database, and match the models exactly."""

from __future__ import annotations

import uuid

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, pool

from agentflow.kit import migrations
from agentflow.kit.db import async_url
from agentflow.models import Base


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_upgrade_downgrade_upgrade_and_no_drift(stack) -> None:
    name = f"migtest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(stack.owner_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(stack.owner_url, name)
    try:
        migrations.upgrade(url, "agentflow_app")
        expected = set(Base.metadata.tables)
        assert expected <= _tables(url)

        migrations.downgrade(url, "agentflow_app")
        assert _tables(url) <= {"alembic_version"}

        migrations.upgrade(url, "agentflow_app")
        assert expected <= _tables(url)

        engine = create_engine(async_url(url), poolclass=pool.NullPool)
        with engine.connect() as connection:
            diff = compare_metadata(
                MigrationContext.configure(connection, opts={"include_object": migrations.include_object}),
                Base.metadata,
            )
        engine.dispose()
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        with psycopg.connect(stack.owner_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
