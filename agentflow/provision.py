"""Bring a database to the state this release expects: migrations, then official data."""

from __future__ import annotations

from agentflow.kit.db import libpq_url
from agentflow.kit.migrations import upgrade
from agentflow.templates.official import seed_official_templates


def prepare_database(owner_url: str, app_role: str) -> None:
    upgrade(owner_url, app_role)
    seed_official_templates(libpq_url(owner_url))
