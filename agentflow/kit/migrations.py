"""Run the Alembic migrations programmatically, as the schema owner.

The app role's name is handed to the migrations (which grant it table access) through the
Alembic config, so one migration history serves every deployment's role naming.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config

_ROOT = Path(__file__).resolve().parents[2]
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DEFAULT_APP_ROLE = "agentflow_app"


def _config(owner_url: str, app_role: str) -> Config:
    if not _ROLE_NAME.match(app_role):
        raise ValueError(f"invalid database role name: {app_role!r}")
    cfg = Config(str(_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(_ROOT / "migrations"))
    cfg.attributes["database_url"] = owner_url
    cfg.attributes["app_role"] = app_role
    return cfg


def upgrade(owner_url: str, app_role: str = DEFAULT_APP_ROLE, *, revision: str = "head") -> None:
    command.upgrade(_config(owner_url, app_role), revision)


def downgrade(owner_url: str, app_role: str = DEFAULT_APP_ROLE, *, revision: str = "base") -> None:
    command.downgrade(_config(owner_url, app_role), revision)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate filter: the per-dimension HNSW expression indexes are written by hand in the
    migration (SQLAlchemy can't express them), so comparisons leave them alone."""
    return not (type_ == "index" and name is not None and name.startswith("ix_document_chunks_embedding_"))


def app_role_name() -> str:
    """Inside a migration: the role the application connects as."""
    role = context.config.attributes.get("app_role", DEFAULT_APP_ROLE)
    if not isinstance(role, str) or not _ROLE_NAME.match(role):
        raise ValueError(f"invalid database role name: {role!r}")
    return role
