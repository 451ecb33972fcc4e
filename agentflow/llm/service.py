"""Bring-your-own LLM keys and the model catalog as an org sees it (issue: providers and vault)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.audit import service as audit
from agentflow.engine.providers import (
    LLMProvider,
    ModelCatalog,
    ProviderCredentials,
    ProviderError,
    models_available,
)
from agentflow.kit.egress import check_url
from agentflow.kit.errors import NotFound, Unprocessable
from agentflow.kit.principal import Principal
from agentflow.kit.vault import Vault
from agentflow.llm.credentials import (
    VAULT_PURPOSE,
    OrgCredentialSource,
    deployment_base_url,
    platform_credentials,
)
from agentflow.llm.schemas import ModelOut, ModelsOut, ProviderKeyIn, ProviderStatusOut
from agentflow.models.providers import ProviderCredential
from agentflow.settings import Settings

# Providers an org can bring a key for (the offline scripted provider needs none).
CONFIGURABLE = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google Gemini",
    "openai_compatible": "OpenAI-compatible (Ollama, vLLM, LM Studio, Azure OpenAI)",
}
VERIFY_TIMEOUT_SECONDS = 10.0


def _require_known(provider: str) -> str:
    if provider not in CONFIGURABLE:
        raise NotFound(f"Unknown provider {provider!r}; one of {', '.join(CONFIGURABLE)}", code="PROVIDER_NOT_FOUND")
    return provider


def _hint(api_key: str) -> str:
    return f"…{api_key[-4:]}" if len(api_key) >= 12 else "…"


async def _row(session: AsyncSession, org_id: uuid.UUID, provider: str) -> ProviderCredential | None:
    stmt = select(ProviderCredential).where(
        ProviderCredential.org_id == org_id, ProviderCredential.provider == provider
    )
    row: ProviderCredential | None = (await session.execute(stmt)).scalar_one_or_none()
    return row


def _status(provider: str, row: ProviderCredential | None, settings: Settings) -> ProviderStatusOut:
    has_platform = platform_credentials(settings, provider) is not None
    return ProviderStatusOut(
        provider=provider,
        display_name=CONFIGURABLE[provider],
        source="org" if row else ("platform" if has_platform else "none"),
        key_hint=row.key_hint if row else None,
        base_url=row.settings.get("base_url") if row else None,
        verified=row.verified if row else has_platform,
        verified_at=row.verified_at if row else None,
        last_error=row.last_error if row else None,
        updated_at=row.updated_at if row else None,
    )


async def list_statuses(session: AsyncSession, principal: Principal, settings: Settings) -> list[ProviderStatusOut]:
    rows = {
        row.provider: row
        for row in (
            await session.execute(select(ProviderCredential).where(ProviderCredential.org_id == principal.org_id))
        ).scalars()
    }
    return [_status(name, rows.get(name), settings) for name in CONFIGURABLE]


async def get_status(
    session: AsyncSession, principal: Principal, settings: Settings, provider: str
) -> ProviderStatusOut:
    provider = _require_known(provider)
    return _status(provider, await _row(session, principal.org_id, provider), settings)


async def put_key(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    vault: Vault,
    provider_impl: LLMProvider,
    provider: str,
    data: ProviderKeyIn,
) -> ProviderStatusOut:
    """Store (or replace) the org's key, encrypted, then check it with the provider's cheapest
    authenticated call. A key that fails the check is still stored, marked unverified with the
    reason, so a provider outage doesn't stop an admin from configuring it."""
    provider = _require_known(provider)
    if provider == "openai_compatible" and not data.base_url:
        raise Unprocessable("An OpenAI-compatible provider needs its base_url", code="BASE_URL_REQUIRED")
    if data.base_url:
        await check_url(data.base_url, allowed_hosts=settings.egress_allowed_hosts)
    connection = {
        k: v
        for k, v in {
            "base_url": data.base_url,
            "api_version": data.api_version,
            "organization": data.organization,
        }.items()
        if v
    }
    credentials = ProviderCredentials(
        api_key=data.api_key,
        base_url=data.base_url or deployment_base_url(settings, provider),
        extra={k: v for k, v in connection.items() if k != "base_url"},
    )
    verified, error = True, None
    try:
        await provider_impl.verify(credentials)
    except ProviderError as exc:
        verified, error = False, str(exc)

    row = await _row(session, principal.org_id, provider)
    created = row is None
    if row is None:
        row = ProviderCredential(
            id=uuid.uuid4(), org_id=principal.org_id, provider=provider, created_by=principal.user_id
        )
        session.add(row)
    # The row's id is part of the envelope's binding, so a copied ciphertext opens nowhere else.
    row.secret_envelope = vault.seal(
        {"api_key": data.api_key}, org_id=principal.org_id, purpose=VAULT_PURPOSE, secret_id=row.id
    )
    row.key_hint = _hint(data.api_key)
    row.settings = connection
    row.verified = verified
    row.verified_at = datetime.now(UTC) if verified else None
    row.last_error = error
    await session.flush()
    await session.refresh(row)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="provider_key.created" if created else "provider_key.replaced",
        resource_type="provider_credential",
        resource_id=row.id,
        details={"provider": provider, "key_hint": row.key_hint, "verified": verified},
    )
    return _status(provider, row, settings)


async def delete_key(session: AsyncSession, principal: Principal, provider: str) -> None:
    provider = _require_known(provider)
    row = await _row(session, principal.org_id, provider)
    if row is None:
        raise NotFound(f"No {provider} key is configured for this organization", code="PROVIDER_KEY_NOT_FOUND")
    await session.delete(row)
    await session.flush()
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="provider_key.deleted",
        resource_type="provider_credential",
        resource_id=row.id,
        details={"provider": provider, "key_hint": row.key_hint},
    )


async def list_models(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    vault: Vault,
    catalog: ModelCatalog,
    providers: dict[str, LLMProvider],
) -> ModelsOut:
    source = OrgCredentialSource(session, principal.org_id, vault, settings)
    marked = await models_available(catalog, providers, source)
    return ModelsOut(
        catalog_updated=catalog.updated,
        models=[ModelOut(**m.model.to_json(), available=m.available, unavailable_reason=m.reason) for m in marked],
    )
