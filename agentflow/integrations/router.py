"""/api/v1/integrations (spec §4.2 "Integration Endpoints")."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from agentflow.auth.dependencies import requires
from agentflow.integrations import service
from agentflow.integrations.schemas import AvailableIntegrationOut, ConnectIn, IntegrationOut
from agentflow.kit.deps import SessionDep
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal
from agentflow.llm.router import VaultDep

router = APIRouter(tags=["integrations"])

Reader = Annotated[Principal, requires(Permission.INTEGRATIONS_READ)]
Manager = Annotated[Principal, requires(Permission.INTEGRATIONS_MANAGE)]
IntegrationName = Annotated[str, Path(max_length=50, pattern=r"^[a-z_]+$")]


@router.get("/integrations/available")
async def list_available(principal: Reader) -> list[AvailableIntegrationOut]:
    """What can be connected, and how (the credentials' JSON Schema for key-based ones)."""
    return list(service.AVAILABLE.values())


@router.get("/integrations")
async def list_integrations(principal: Reader, session: SessionDep, vault: VaultDep) -> list[IntegrationOut]:
    """The org's connections; secrets never appear, only a hint of their last characters."""
    return await service.list_integrations(session, principal, vault)


@router.post("/integrations/{integration}/connect", status_code=status.HTTP_201_CREATED)
async def connect(
    integration: IntegrationName, body: ConnectIn, principal: Manager, session: SessionDep, vault: VaultDep
) -> IntegrationOut:
    """Connect with a secret (write-only: encrypted, never shown again). Use the answer's `id` as
    an action node's `credential_id`."""
    return await service.connect(session, principal, vault, integration, body)


@router.delete("/integrations/{integration_id}", status_code=status.HTTP_204_NO_CONTENT)
async def disconnect(integration_id: uuid.UUID, principal: Manager, session: SessionDep) -> Response:
    await service.disconnect(session, principal, integration_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
