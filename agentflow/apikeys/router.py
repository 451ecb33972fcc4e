"""/api/v1/org/api-keys: people with the right role manage keys; keys never manage keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from agentflow.apikeys import service
from agentflow.apikeys.schemas import ApiKeyCreatedOut, ApiKeyCreateIn, ApiKeyOut
from agentflow.auth.dependencies import requires
from agentflow.kit.deps import SessionDep
from agentflow.kit.pagination import Page
from agentflow.kit.params import DEFAULT_PAGE_SIZE, Cursor, Limit
from agentflow.kit.permissions import Permission
from agentflow.kit.principal import Principal

router = APIRouter(prefix="/org/api-keys", tags=["api keys"])

KeyManager = Annotated[Principal, requires(Permission.API_KEYS_MANAGE)]


@router.get("")
async def list_api_keys(
    principal: KeyManager, session: SessionDep, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE_SIZE
) -> Page[ApiKeyOut]:
    return await service.list_keys(session, principal, cursor=cursor, limit=limit)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_api_key(body: ApiKeyCreateIn, principal: KeyManager, session: SessionDep) -> ApiKeyCreatedOut:
    """Create a key. The response holds the secret `key` once; it cannot be shown again."""
    return await service.create(session, principal, body)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: uuid.UUID, principal: KeyManager, session: SessionDep) -> Response:
    await service.revoke(session, principal, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
