"""Where an org's LLM calls get their keys: the org's own key from the vault, else the platform's."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.engine.providers import ProviderCredentials
from agentflow.kit.vault import Vault, VaultError
from agentflow.models.providers import ProviderCredential
from agentflow.settings import Settings

VAULT_PURPOSE = "provider_credential"
log = logging.getLogger("agentflow.llm")


def deployment_base_url(settings: Settings, provider: str) -> str | None:
    """A gateway or proxy this deployment sends all of a provider's traffic through, if any."""
    return {
        "openai": settings.openai_base_url,
        "anthropic": settings.anthropic_base_url,
        "google": settings.google_base_url,
    }.get(provider)


def platform_credentials(settings: Settings, provider: str) -> ProviderCredentials | None:
    key = {
        "openai": settings.openai_api_key,
        "anthropic": settings.anthropic_api_key,
        "google": settings.google_api_key,
    }.get(provider)
    if key is None:
        return None
    return ProviderCredentials(api_key=key.get_secret_value(), base_url=deployment_base_url(settings, provider))


def credentials_from_row(row: ProviderCredential, vault: Vault, settings: Settings) -> ProviderCredentials:
    secret = vault.open(row.secret_envelope, org_id=row.org_id, purpose=VAULT_PURPOSE, secret_id=row.id)
    extra = {k: str(v) for k, v in row.settings.items() if k != "base_url" and v is not None}
    base_url = row.settings.get("base_url") or deployment_base_url(settings, row.provider)
    return ProviderCredentials(api_key=str(secret["api_key"]), base_url=base_url, extra=extra)


class OrgCredentialSource:
    """The engine's CredentialSource for one org (read under that org's row-level security)."""

    def __init__(self, session: AsyncSession, org_id: uuid.UUID, vault: Vault, settings: Settings) -> None:
        self.session = session
        self.org_id = org_id
        self.vault = vault
        self.settings = settings

    async def for_provider(self, provider: str) -> ProviderCredentials | None:
        row = (
            await self.session.execute(
                select(ProviderCredential).where(
                    ProviderCredential.org_id == self.org_id, ProviderCredential.provider == provider
                )
            )
        ).scalar_one_or_none()
        if row is None:
            return platform_credentials(self.settings, provider)
        try:
            return credentials_from_row(row, self.vault, self.settings)
        except VaultError:
            # An envelope that no longer opens (tampered, or its master key was dropped) must not
            # silently fall back to the platform's key and bill someone else: the org's provider
            # counts as unconfigured until an admin stores the key again.
            log.warning("stored provider key cannot be opened", extra={"provider": provider, "row_id": str(row.id)})
            return None
