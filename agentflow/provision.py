"""Bring a database to the state this release expects: migrations, LangGraph's checkpoint tables,
then official data."""

from __future__ import annotations

import re

from agentflow.kit.db import libpq_url
from agentflow.kit.migrations import upgrade
from agentflow.templates.official import seed_official_templates

CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations")
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def prepare_checkpointer(owner_url: str, app_role: str) -> None:
    """Create (or migrate) the checkpointer's tables as the owner — the app role has no CREATE —
    and let the app role use them. Idempotent."""
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    if not _ROLE_NAME.match(app_role):
        raise ValueError(f"invalid database role name: {app_role!r}")
    with psycopg.connect(libpq_url(owner_url), autocommit=True, row_factory=dict_row) as conn:
        PostgresSaver(conn).setup()
        for table in CHECKPOINT_TABLES:
            conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {app_role}")


def prepare_database(owner_url: str, app_role: str) -> None:
    upgrade(owner_url, app_role)
    prepare_checkpointer(owner_url, app_role)
    seed_official_templates(libpq_url(owner_url))
