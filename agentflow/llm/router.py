"""/api/v1/org/providers (bring-your-own LLM keys, admins) and /api/v1/models (the catalog)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from agentflow.auth.dependencies import requires
from agentflow.engine.providers import LLMProvider, ModelCatalog
from agentflow.kit.deps import SessionDep, SettingsDep
from agentflow.kit.errors import NotFound
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal
from agentflow.kit.vault import Vault
from agentflow.llm import service
from agentflow.llm.schemas import ModelsOut, ProviderKeyIn, ProviderStatusOut

router = APIRouter(tags=["llm providers"])

KeyManager = Annotated[Principal, requires(Permission.INTEGRATIONS_MANAGE)]
Reader = Annotated[Principal, requires(Permission.AGENTS_READ)]
ProviderName = Annotated[str, Path(max_length=50, pattern=r"^[a-z_]+$")]


async def get_vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


async def get_providers(request: Request) -> dict[str, LLMProvider]:
    providers: dict[str, LLMProvider] = request.app.state.llm_providers
    return providers


async def get_catalog(request: Request) -> ModelCatalog:
    catalog: ModelCatalog = request.app.state.model_catalog
    return catalog


VaultDep = Annotated[Vault, Depends(get_vault)]
ProvidersDep = Annotated[dict[str, LLMProvider], Depends(get_providers)]


@router.get("/org/providers")
async def list_provider_keys(
    principal: KeyManager, session: SessionDep, settings: SettingsDep
) -> list[ProviderStatusOut]:
    """Each provider and whose key its calls use: the org's own, the platform's, or none."""
    return await service.list_statuses(session, principal, settings)


@router.get("/org/providers/{provider}")
async def get_provider_key(
    provider: ProviderName, principal: KeyManager, session: SessionDep, settings: SettingsDep
) -> ProviderStatusOut:
    return await service.get_status(session, principal, settings, provider)


@router.put("/org/providers/{provider}")
async def put_provider_key(
    provider: ProviderName,
    body: ProviderKeyIn,
    principal: KeyManager,
    session: SessionDep,
    settings: SettingsDep,
    vault: VaultDep,
    providers: ProvidersDep,
) -> ProviderStatusOut:
    """Store the org's key for this provider (write-only: it is encrypted and never shown again)
    and check it with a cheap test call; the answer says whether it verified."""
    implementation = providers.get(provider)
    if implementation is None or provider not in service.CONFIGURABLE:
        raise NotFound(f"Unknown provider {provider!r}", code="PROVIDER_NOT_FOUND")
    return await service.put_key(session, principal, settings, vault, implementation, provider, body)


@router.delete("/org/providers/{provider}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_provider_key(provider: ProviderName, principal: KeyManager, session: SessionDep) -> Response:
    await service.delete_key(session, principal, provider)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/models")
async def list_models(
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    vault: VaultDep,
    providers: ProvidersDep,
    catalog: Annotated[ModelCatalog, Depends(get_catalog)],
) -> ModelsOut:
    """The model catalog (dated), each model marked usable by this org right now or not, and why."""
    return await service.list_models(session, principal, settings, vault, catalog, providers)
