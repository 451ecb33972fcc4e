"""API keys: one-time reveal, hashed at rest, scoped, revocable, expiring."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from tests.api_fixtures import API, create_api_key, signup


async def test_key_is_shown_once_and_stored_only_as_a_hash(client: httpx.AsyncClient, stack) -> None:
    owner = await signup(client)
    created = await create_api_key(client, owner, scopes=["org:read", "agents:read"])
    key = created["key"]
    assert key.startswith("af_live_") and len(key) > 40
    assert created["prefix"] == key[: len(created["prefix"])]
    listed = await client.get(f"{API}/org/api-keys", headers=owner.headers)
    assert listed.status_code == 200
    assert key not in listed.text
    assert listed.json()["items"][0]["status"] == "active"
    with psycopg.connect(stack.owner_url) as conn:
        stored = conn.execute("SELECT key_hash FROM api_keys WHERE id = %s", (created["id"],)).fetchone()
    assert stored == (hashlib.sha256(key.encode()).hexdigest(),)


async def test_key_authenticates_as_the_org_with_its_scopes(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    created = await create_api_key(client, owner, scopes=["org:read"])
    headers = {"X-API-Key": created["key"]}
    me = await client.get(f"{API}/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["user"] is None
    assert me.json()["org"]["id"] == owner.org_id
    assert me.json()["api_key"]["scopes"] == ["org:read"]
    assert me.json()["permissions"] == ["org.read"]
    members = await client.get(f"{API}/org/members", headers=headers)
    assert members.status_code == 200
    audit = await client.get(f"{API}/org/audit-logs", headers=headers)
    assert audit.status_code == 403
    listed = (await client.get(f"{API}/org/api-keys", headers=owner.headers)).json()["items"]
    assert listed[0]["last_used_at"] is not None


async def test_a_key_used_only_outside_a_transaction_is_marked_used(client: httpx.AsyncClient) -> None:
    # GET /org/members authenticates on an autocommit connection: the last-used write must land
    # there too, under the key's org context (row-level security), and only that key's row.
    owner = await signup(client)
    used = await create_api_key(client, owner, scopes=["org:read"])
    idle = await create_api_key(client, owner, scopes=["org:read"])
    members = await client.get(f"{API}/org/members", headers={"X-API-Key": used["key"]})
    assert members.status_code == 200
    assert {m["email"] for m in members.json()["items"]} == {owner.email}
    listed = {k["id"]: k for k in (await client.get(f"{API}/org/api-keys", headers=owner.headers)).json()["items"]}
    assert listed[used["id"]]["last_used_at"] is not None
    assert listed[idle["id"]]["last_used_at"] is None


async def test_revoked_key_stops_working_at_once(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    created = await create_api_key(client, owner)
    headers = {"X-API-Key": created["key"]}
    assert (await client.get(f"{API}/auth/me", headers=headers)).status_code == 200
    revoked = await client.delete(f"{API}/org/api-keys/{created['id']}", headers=owner.headers)
    assert revoked.status_code == 204
    after = await client.get(f"{API}/auth/me", headers=headers)
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "INVALID_API_KEY"
    listed = (await client.get(f"{API}/org/api-keys", headers=owner.headers)).json()["items"]
    assert listed[0]["status"] == "revoked"


async def test_expired_key_is_refused(client: httpx.AsyncClient, stack) -> None:
    owner = await signup(client)
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = await create_api_key(client, owner, expires_at=soon)
    with psycopg.connect(stack.owner_url) as conn:
        conn.execute("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = %s", (created["id"],))
    response = await client.get(f"{API}/auth/me", headers={"X-API-Key": created["key"]})
    assert response.status_code == 401


async def test_key_creation_validates_scopes_and_expiry(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    unknown = await client.post(f"{API}/org/api-keys", headers=owner.headers, json={"name": "k", "scopes": ["root"]})
    assert unknown.status_code == 422
    past = await client.post(
        f"{API}/org/api-keys", headers=owner.headers, json={"name": "k", "expires_at": "2001-01-01T00:00:00Z"}
    )
    assert past.status_code == 422
    naive = await client.post(
        f"{API}/org/api-keys", headers=owner.headers, json={"name": "k", "expires_at": "2099-01-01T00:00:00"}
    )
    assert naive.status_code == 422


async def test_api_keys_cannot_manage_keys_members_or_the_org(client: httpx.AsyncClient) -> None:
    from agentflow.kit.permissions import ALL_SCOPES

    owner = await signup(client)
    key = (await create_api_key(client, owner, scopes=list(ALL_SCOPES)))["key"]
    headers = {"X-API-Key": key}
    assert (await client.get(f"{API}/org/api-keys", headers=headers)).status_code == 403
    assert (await client.post(f"{API}/org/api-keys", headers=headers, json={"name": "x"})).status_code == 403
    assert (
        await client.post(f"{API}/org/members/invite", headers=headers, json={"email": "a@example.com"})
    ).status_code == 403
    assert (await client.put(f"{API}/org", headers=headers, json={"name": "pwned"})).status_code == 403
    assert (
        await client.post(f"{API}/auth/switch-org", headers=headers, json={"org_id": owner.org_id})
    ).status_code == 403
