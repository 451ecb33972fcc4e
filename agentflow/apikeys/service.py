"""API keys (spec §3 api_keys, §8.1): the secret is shown once; only its SHA-256 is kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.apikeys.schemas import ApiKeyCreatedOut, ApiKeyCreateIn, ApiKeyOut
from agentflow.audit import service as audit
from agentflow.kit.errors import Forbidden, NotFound
from agentflow.kit.pagination import Page
from agentflow.kit.permissions import scopes_within_role
from agentflow.kit.principal import Principal
from agentflow.kit.repository import TenantRepository
from agentflow.kit.security import api_key_display_prefix, generate_api_key, sha256_hex
from agentflow.models.auth import ApiKey


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey


def _status(key: ApiKey) -> str:
    if key.revoked_at is not None or not key.is_active:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= datetime.now(UTC):
        return "expired"
    return "active"


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.key_prefix,
        scopes=list(key.scopes),
        created_by=key.created_by,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        expires_at=key.expires_at,
        status=_status(key),
    )


async def create(session: AsyncSession, principal: Principal, data: ApiKeyCreateIn) -> ApiKeyCreatedOut:
    assert principal.role is not None  # only people manage keys
    if not scopes_within_role(frozenset(data.scopes), principal.role):
        raise Forbidden("A key cannot have scopes beyond what your role allows", code="SCOPE_EXCEEDS_ROLE")
    secret = generate_api_key()
    key = await ApiKeyRepository(session, principal.org_id).add(
        ApiKey(
            name=data.name,
            key_hash=sha256_hex(secret),
            key_prefix=api_key_display_prefix(secret),
            scopes=data.scopes,
            expires_at=data.expires_at,
            created_by=principal.user_id,
        )
    )
    await session.refresh(key)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="api_key.created",
        resource_type="api_key",
        resource_id=key.id,
        details={"name": key.name, "scopes": data.scopes, "prefix": key.key_prefix},
    )
    return ApiKeyCreatedOut(**_out(key).model_dump(), key=secret)


async def list_keys(session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int) -> Page[ApiKeyOut]:
    repo = ApiKeyRepository(session, principal.org_id)
    rows, next_cursor = await repo.page(repo.select(), cursor=cursor, limit=limit)
    return Page(items=[_out(r) for (r,) in rows], next_cursor=next_cursor)


async def revoke(session: AsyncSession, principal: Principal, key_id: uuid.UUID) -> None:
    key = await ApiKeyRepository(session, principal.org_id).get(key_id, for_update=True)
    if key is None:
        raise NotFound("API key not found", code="API_KEY_NOT_FOUND")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        key.is_active = False
        await session.flush()
        await audit.record(
            session,
            org_id=principal.org_id,
            actor=principal,
            action="api_key.revoked",
            resource_type="api_key",
            resource_id=key.id,
            details={"prefix": key.key_prefix},
        )
