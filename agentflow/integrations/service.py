"""Connecting, listing and disconnecting integrations; resolving their secrets for a run.

A connection's secret is sealed by the vault (purpose `integration`, bound to the org and the
row id), so a ciphertext copied to another row or org does not open. Runs resolve it through
`OrgIntegrationCredentials` at the moment a tool needs it, and only for the tool's own provider.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.audit import service as audit
from agentflow.integrations.schemas import AvailableIntegrationOut, ConnectIn, HttpCredentials, IntegrationOut
from agentflow.kit.db import Database
from agentflow.kit.errors import NotFound
from agentflow.kit.principal import Principal
from agentflow.kit.vault import Vault
from agentflow.models.integrations import Integration

VAULT_PURPOSE = "integration"

# Providers one connects by handing over a secret. OAuth providers (Slack, Jira, …) join with
# the integrations issue, each in a file of its own.
AVAILABLE = {
    "http": AvailableIntegrationOut(
        provider="http",
        display_name="HTTP",
        description="Any HTTP API: a bearer token, basic auth, or an API key in a header or query parameter.",
        connect="credentials",
        credentials_schema=TypeAdapter(HttpCredentials).json_schema(),
        tools=["http.request"],
    )
}


def _require_available(provider: str) -> AvailableIntegrationOut:
    available = AVAILABLE.get(provider)
    if available is None:
        raise NotFound(
            f"Unknown integration {provider!r}; one of {', '.join(AVAILABLE)}", code="INTEGRATION_PROVIDER_NOT_FOUND"
        )
    return available


def _hint(secret: dict[str, Any]) -> str:
    value = str(secret.get("token") or secret.get("password") or secret.get("value") or "")
    return f"…{value[-4:]}" if len(value) >= 12 else "…"


def _out(row: Integration, hint: str) -> IntegrationOut:
    return IntegrationOut(
        id=row.id,
        provider=row.provider,
        name=row.name,
        status=row.status,
        auth_type=row.scopes[0] if row.scopes else None,
        hint=hint,
        connected_by=row.connected_by,
        created_at=row.created_at,
    )


async def connect(
    session: AsyncSession, principal: Principal, vault: Vault, provider: str, body: ConnectIn
) -> IntegrationOut:
    _require_available(provider)
    secret = body.credentials.model_dump()
    row_id = uuid.uuid4()
    row = Integration(
        id=row_id,
        org_id=principal.org_id,
        provider=provider,
        name=body.name,
        status="connected",
        credentials_encrypted=vault.seal(secret, org_id=principal.org_id, purpose=VAULT_PURPOSE, secret_id=row_id),
        # The auth type is not secret; kept in `scopes` so listings need not open the vault.
        scopes=[body.credentials.type],
        connected_by=principal.user_id,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="integration.connected",
        resource_type="integration",
        resource_id=row.id,
        details={"provider": provider, "name": body.name, "auth_type": body.credentials.type},
    )
    return _out(row, _hint(secret))


async def list_integrations(session: AsyncSession, principal: Principal, vault: Vault) -> list[IntegrationOut]:
    rows = (
        await session.scalars(
            select(Integration)
            .where(Integration.org_id == principal.org_id)
            .order_by(Integration.created_at.desc(), Integration.id)
        )
    ).all()
    return [_out(row, _hint(_open(vault, row))) for row in rows]


async def disconnect(session: AsyncSession, principal: Principal, integration_id: uuid.UUID) -> None:
    """Deletes the row and with it the only copy of the secret; runs that name it then fail
    with CREDENTIAL_NOT_FOUND."""
    row = (
        await session.execute(
            delete(Integration)
            .where(Integration.id == integration_id, Integration.org_id == principal.org_id)
            .returning(Integration.provider, Integration.name)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("Integration not found", code="INTEGRATION_NOT_FOUND")
    await audit.record(
        session,
        org_id=principal.org_id,
        actor=principal,
        action="integration.disconnected",
        resource_type="integration",
        resource_id=integration_id,
        details={"provider": row.provider, "name": row.name},
    )


def _open(vault: Vault, row: Integration) -> dict[str, Any]:
    return vault.open(row.credentials_encrypted, org_id=row.org_id, purpose=VAULT_PURPOSE, secret_id=row.id)


class OrgIntegrationCredentials:
    """The engine's `CredentialResolver` for one org: a connected integration's secret, opened
    in its own short transaction under the org's row-level security context."""

    def __init__(self, db: Database, vault: Vault, org_id: uuid.UUID) -> None:
        self.db = db
        self.vault = vault
        self.org_id = org_id

    async def resolve(self, credential_id: uuid.UUID, *, provider: str) -> dict[str, Any] | None:
        async with self.db.transaction(org_id=self.org_id) as session:
            row = (
                await session.execute(
                    select(Integration).where(
                        Integration.id == credential_id,
                        Integration.org_id == self.org_id,
                        Integration.provider == provider,
                        Integration.status == "connected",
                    )
                )
            ).scalar_one_or_none()
        return None if row is None else _open(self.vault, row)
