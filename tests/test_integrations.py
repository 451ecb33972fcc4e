"""Connected integrations through the API: connect with a secret, list (a hint only, never the
secret), disconnect; what is stored is vault ciphertext bound to the org and the row."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg

from agentflow.kit.db import libpq_url
from agentflow.kit.vault import vault_from_settings
from agentflow.settings import Settings
from tests.api_fixtures import API, OrgWorld, assert_error, unique

CREDENTIAL_BODIES: list[dict[str, Any]] = [
    {"type": "bearer", "token": "tok-" + "b" * 40},
    {"type": "basic", "username": "robot", "password": "pw-" + "c" * 40},
    {"type": "header", "name": "X-API-Key", "value": "hdr-" + "d" * 40},
    {"type": "query", "name": "api_key", "value": "qry-" + "e" * 40},
]


async def connect(client: httpx.AsyncClient, world: OrgWorld, credentials: dict[str, Any]) -> httpx.Response:
    return await client.post(
        f"{API}/integrations/http/connect",
        headers=world.admin.headers,
        json={"name": unique("crm"), "credentials": credentials},
    )


def stored_envelope(stack: Any, integration_id: str) -> tuple[str, str]:
    with psycopg.connect(libpq_url(stack.owner_url)) as conn:
        row = conn.execute(
            "SELECT org_id::text, credentials_encrypted FROM integrations WHERE id = %s", (integration_id,)
        ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


async def test_connect_list_and_disconnect(
    module_client: httpx.AsyncClient, module_world: OrgWorld, app_settings: Settings, stack: Any
) -> None:
    available = await module_client.get(f"{API}/integrations/available", headers=module_world.viewer.headers)
    assert available.status_code == 200, available.text
    http = next(a for a in available.json() if a["provider"] == "http")
    assert http["tools"] == ["http.request"] and http["connect"] == "credentials"
    schema = http["credentials_schema"]
    assert {v["properties"]["type"]["const"] for v in schema["$defs"].values()} == {
        "bearer",
        "basic",
        "header",
        "query",
    }

    ids = []
    for credentials in CREDENTIAL_BODIES:
        response = await connect(module_client, module_world, credentials)
        assert response.status_code == 201, response.text
        body = response.json()
        secret = credentials.get("token") or credentials.get("password") or credentials["value"]
        assert body["auth_type"] == credentials["type"] and body["hint"] == f"…{secret[-4:]}"
        assert secret not in response.text
        ids.append(body["id"])
        # At rest: ciphertext that opens only as this org's, this row's integration secret.
        org_id, envelope = stored_envelope(stack, body["id"])
        assert secret not in envelope
        opened = vault_from_settings(app_settings).open(
            envelope, org_id=uuid.UUID(org_id), purpose="integration", secret_id=uuid.UUID(body["id"])
        )
        assert opened == credentials

    listed = await module_client.get(f"{API}/integrations", headers=module_world.viewer.headers)
    assert listed.status_code == 200
    assert {i["id"] for i in listed.json()} >= set(ids)
    for credentials in CREDENTIAL_BODIES:
        for value in credentials.values():
            if len(value) > 20:
                assert value not in listed.text

    gone = await module_client.delete(f"{API}/integrations/{ids[0]}", headers=module_world.admin.headers)
    assert gone.status_code == 204
    again = await module_client.delete(f"{API}/integrations/{ids[0]}", headers=module_world.admin.headers)
    assert_error(again, 404, "INTEGRATION_NOT_FOUND")
    listed = await module_client.get(f"{API}/integrations", headers=module_world.viewer.headers)
    assert ids[0] not in {i["id"] for i in listed.json()}

    audit = await module_client.get(f"{API}/org/audit-logs", headers=module_world.admin.headers)
    actions = [(e["action"], e["resource_id"]) for e in audit.json()["items"]]
    assert ("integration.connected", ids[1]) in actions and ("integration.disconnected", ids[0]) in actions
    assert "tok-bbbb" not in audit.text


async def test_bad_connections_are_refused_with_nothing_stored(
    module_client: httpx.AsyncClient, module_world: OrgWorld
) -> None:
    before = (await module_client.get(f"{API}/integrations", headers=module_world.admin.headers)).json()
    bad_credentials: list[Any] = [
        {"type": "bearer"},
        {"type": "bearer", "token": ""},
        {"type": "oauth", "token": "x"},
        {"type": "header", "name": "Bad Header", "value": "v"},
        {"type": "header", "name": "X-Key\r\nInjected: 1", "value": "v"},
        {"type": "basic", "username": "u", "password": "p", "extra": 1},
        {"type": "bearer", "token": "x" * 5000},
        "a string",
    ]
    for credentials in bad_credentials:
        response = await connect(module_client, module_world, credentials)
        assert_error(response, 422)
    unknown = await module_client.post(
        f"{API}/integrations/slackk/connect",
        headers=module_world.admin.headers,
        json={"name": "x", "credentials": CREDENTIAL_BODIES[0]},
    )
    assert_error(unknown, 404, "INTEGRATION_PROVIDER_NOT_FOUND")
    after = (await module_client.get(f"{API}/integrations", headers=module_world.admin.headers)).json()
    assert after == before
