"""Runtime configuration, read from `AGENTFLOW_*` environment variables and `.env`.

In the embedded default (`agentflow up`) the CLI fills in the database and Redis URLs and the
generated secrets before it starts the child processes; in production every one of them must be
given, and `Settings.check_ready()` refuses to start otherwise.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(RuntimeError):
    """Raised at start-up when the configuration is unusable; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTFLOW_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".agentflow")

    # The app's own connection: a role that is not superuser, not table owner, not BYPASSRLS.
    database_url: str | None = None
    # The schema owner's connection, used only by migrations. Defaults to database_url.
    migration_database_url: str | None = None
    # Name of the least-privileged role the migrations grant table access to.
    db_app_role: str = "agentflow_app"
    db_pool_size: int = 10
    db_max_overflow: int = 10

    redis_url: str | None = None

    jwt_secret: SecretStr | None = None
    vault_master_key: SecretStr | None = None
    jwt_issuer: str = "agentflow"
    jwt_audience: str = "agentflow-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_days: int = 7
    invitation_ttl_hours: int = 72

    public_url: str = "http://localhost:8000"
    max_body_bytes: int = 1_048_576
    trust_forwarded_for: bool = False

    # Rate limits (spec §8.4). "N/period" strings in the `limits` library's notation.
    rate_limit_enabled: bool = True
    rate_limit_org: str = "1000/minute"
    rate_limit_api_key: str = "500/minute"
    rate_limit_auth_ip: str = "10/minute"
    rate_limit_auth_account: str = "10/minute"

    mail_backend: Literal["outbox", "smtp"] = "outbox"
    mail_from: str = "AgentFlow <no-reply@agentflow.local>"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True

    log_level: str = "INFO"
    log_json: bool = True

    cors_origins: list[str] = Field(default_factory=list)

    @property
    def cookie_secure(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def owner_database_url(self) -> str:
        url = self.migration_database_url or self.database_url
        if not url:
            raise ConfigurationError("AGENTFLOW_DATABASE_URL is not set")
        return url

    def check_ready(self) -> None:
        """Fail closed: refuse to start a server process with missing or weak configuration."""
        missing = [
            name
            for name, value in (
                ("AGENTFLOW_DATABASE_URL", self.database_url),
                ("AGENTFLOW_REDIS_URL", self.redis_url),
                ("AGENTFLOW_JWT_SECRET", self.jwt_secret),
                ("AGENTFLOW_VAULT_MASTER_KEY", self.vault_master_key),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(
                "AgentFlow cannot start: set "
                + ", ".join(missing)
                + " (or run `agentflow up`, which generates them for the embedded default)"
            )
        assert self.jwt_secret is not None
        if len(self.jwt_secret.get_secret_value()) < 32:
            raise ConfigurationError("AGENTFLOW_JWT_SECRET must be at least 32 characters")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
