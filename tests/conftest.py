"""Session services: one real embedded PostgreSQL (+ pgvector) and Valkey, migrated to head.

Fixtures:
- `stack`: the started `agentflow.embedded.EmbeddedStack` (owner_url, app_url, redis_url,
  data_dir, env — the AGENTFLOW_* variables a child process needs — and secrets).
- `settings`: `Settings` for that stack with environment="test" and default rate limits.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentflow.embedded import EmbeddedStack
from agentflow.settings import Settings

pytest_plugins = ["tests.api_fixtures"]

APP_ROLE = "agentflow_app"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    services = EmbeddedStack(tmp_path_factory.mktemp("agentflow-data"), app_role=APP_ROLE)
    services.start()
    try:
        yield services
    finally:
        services.stop()


@pytest.fixture(scope="session")
def settings(stack: EmbeddedStack) -> Settings:
    return Settings(
        _env_file=None,  # only the values given here, not a developer's .env
        environment="test",
        data_dir=stack.data_dir,
        database_url=stack.app_url,
        migration_database_url=stack.owner_url,
        db_app_role=stack.app_role,
        redis_url=stack.redis_url,
        jwt_secret=stack.secrets.jwt_secret,
        vault_master_key=stack.secrets.vault_master_key,
    )
