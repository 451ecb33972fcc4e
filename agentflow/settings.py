"""Runtime configuration, read from `AGENTFLOW_*` environment variables and `.env`.

In the embedded default (`agentflow up`) the CLI fills in the database and Redis URLs and the
generated secrets before it starts the child processes; in production every one of them must be
given, and `Settings.check_ready()` refuses to start otherwise.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    # Connections kept open per process. SQLAlchemy closes an overflow connection as soon as it is
    # returned, so with more requests in a transaction at once than this, every request past it
    # opens a new connection (SCRAM auth ~3.5 ms of CPU + a backend fork): bench/api_bench.py
    # measured ~40 new connections/s at 16 concurrent requests with 10 here.
    db_pool_size: int = 20
    db_max_overflow: int = 10

    redis_url: str | None = None

    jwt_secret: SecretStr | None = None
    vault_master_key: SecretStr | None = None
    jwt_issuer: str = "agentflow"
    jwt_audience: str = "agentflow-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_days: int = 7
    invitation_ttl_hours: int = 72

    # Credential vault (spec §8.3). "local": data keys wrapped by vault_master_key (32 random bytes,
    # base64url); "aws-kms": wrapped by the AWS KMS key vault_aws_kms_key_id.
    vault_kms: Literal["local", "aws-kms"] = "local"
    # Earlier master keys: they still open envelopes until `agentflow vault rotate` has re-wrapped
    # everything under vault_master_key. Comma-separated in the environment.
    vault_previous_master_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    vault_aws_kms_key_id: str | None = None
    vault_aws_region: str | None = None
    # A KMS-compatible endpoint instead of AWS's own (VPC endpoint, LocalStack, moto in tests).
    vault_aws_endpoint_url: str | None = None

    # Platform LLM keys: used for an org that has not brought its own key for that provider.
    # The base URLs point the official SDKs at a proxy or gateway (or a local test server).
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    google_api_key: SecretStr | None = None
    google_base_url: str | None = None
    # Hosts that outbound calls to user-supplied URLs may reach even though they resolve to
    # private or loopback addresses (self-hosted Ollama/vLLM on the same network).
    egress_allowed_hosts: list[str] = Field(default_factory=list)

    public_url: str = "http://localhost:8000"
    max_body_bytes: int = 1_048_576
    trust_forwarded_for: bool = False

    # Rate limits (spec §8.4). "N/period" strings in the `limits` library's notation.
    rate_limit_enabled: bool = True
    rate_limit_org: str = "1000/minute"
    rate_limit_api_key: str = "500/minute"
    rate_limit_auth_ip: str = "10/minute"
    rate_limit_auth_account: str = "10/minute"
    # Webhook requests per agent (spec §8.4 leaves it open; a burst guard, not a plan limit).
    rate_limit_webhook: str = "600/minute"
    # Runs started per org, by plan (spec §8.4 "based on plan"); an unknown plan gets starter's.
    rate_limit_executions: dict[str, str] = Field(
        default_factory=lambda: {"starter": "600/minute", "pro": "6000/minute", "enterprise": "60000/minute"}
    )

    # Durable executions. A running worker refreshes its lease every lease/3 seconds; the sweeper
    # (Celery beat, every sweep interval) requeues runs whose lease went stale (the worker died),
    # wakes parked runs and times out approvals, resends runs left pending for too long (a lost
    # broker message) and starts queued runs when their agent has room again.
    execution_lease_seconds: float = Field(30.0, gt=0)
    execution_sweep_interval_seconds: float = Field(5.0, gt=0)
    execution_pending_resend_seconds: float = Field(300.0, gt=0)
    # How often Celery beat looks for due cron schedules.
    schedule_tick_seconds: float = Field(15.0, gt=0)
    # Delay nodes up to this long wait inside the worker; longer ones park the run.
    execution_in_process_delay_seconds: float = Field(30.0, ge=0)

    # Live execution streams (WS /executions/{id}/stream, SSE /executions/{id}/events). An idle
    # stream sends a heartbeat (SSE comment) and re-reads the stored events every heartbeat, the
    # safety net for a pub/sub message lost to a Redis reconnect. A client more than
    # `stream_client_queue` events behind is disconnected and told to resume from its last seq,
    # so a slow reader never makes the API buffer without bound.
    stream_heartbeat_seconds: float = Field(15.0, gt=0, le=300)
    stream_client_queue: int = Field(1000, ge=1, le=100_000)
    stream_ticket_ttl_seconds: int = Field(60, ge=1, le=600)

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
    # The web app's static export (`web/out`, built by scripts/setup-web), served at `/` by the
    # API process. Unset: the checkout's `web/out` when it exists; otherwise no UI is served.
    web_dir: Path | None = None

    @field_validator("vault_previous_master_keys", mode="before")
    @classmethod
    def _split_previous_master_keys(cls, value: Any) -> Any:
        # Comma-separated only (base64url has no commas): a JSON parse error would make pydantic
        # echo the raw value, keys included, in its error message.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

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
        vault_key = (
            ("AGENTFLOW_VAULT_AWS_KMS_KEY_ID", self.vault_aws_kms_key_id)
            if self.vault_kms == "aws-kms"
            else ("AGENTFLOW_VAULT_MASTER_KEY", self.vault_master_key)
        )
        missing = [
            name
            for name, value in (
                ("AGENTFLOW_DATABASE_URL", self.database_url),
                ("AGENTFLOW_REDIS_URL", self.redis_url),
                ("AGENTFLOW_JWT_SECRET", self.jwt_secret),
                vault_key,
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
