"""Every mutation leaves an audit row (same transaction); the trail is filterable and paginated."""

from __future__ import annotations

import httpx

from tests.api_fixtures import API, add_member, create_api_key, signup


async def _actions(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[dict]:
    response = await client.get(f"{API}/org/audit-logs", headers=headers, params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_each_mutation_is_audited_with_actor_and_request(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    member = await add_member(client, owner, "viewer")
    await client.put(f"{API}/org/members/{member.member_id}/role", headers=owner.headers, json={"role": "editor"})
    key = await create_api_key(client, owner)
    await client.delete(f"{API}/org/api-keys/{key['id']}", headers=owner.headers)
    await client.put(f"{API}/org", headers=owner.headers, json={"name": "Renamed"})
    invite = await client.post(f"{API}/org/members/invite", headers=owner.headers, json={"email": "later@example.com"})
    await client.delete(f"{API}/org/invitations/{invite.json()['id']}", headers=owner.headers)
    await client.delete(f"{API}/org/members/{member.member_id}", headers=owner.headers)

    rows = await _actions(client, owner.headers)
    actions = [r["action"] for r in rows]
    for expected in (
        "org.created",
        "member.invited",
        "member.joined",
        "member.role_changed",
        "api_key.created",
        "api_key.revoked",
        "org.updated",
        "invitation.revoked",
        "member.removed",
    ):
        assert expected in actions, (expected, actions)
    created = next(r for r in rows if r["action"] == "api_key.created")
    assert created["user_id"] == owner.user_id
    assert created["actor_type"] == "user"
    assert created["resource_id"] == key["id"]
    assert created["ip_address"] == "203.0.113.7"
    assert created["request_id"]
    assert key["key"] not in str(rows)


async def test_filters_and_request_id_correlation(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    await add_member(client, owner, "viewer")
    response = await client.put(
        f"{API}/org", headers={**owner.headers, "X-Request-ID": "req-audit-42"}, json={"name": "N"}
    )
    assert response.headers["x-request-id"] == "req-audit-42"
    only_org = await _actions(client, owner.headers, action="org.updated")
    assert [r["request_id"] for r in only_org] == ["req-audit-42"]
    members = await _actions(client, owner.headers, action="member.")
    assert {r["action"] for r in members} == {"member.invited", "member.joined"}
    by_actor = await _actions(client, owner.headers, actor_id=owner.user_id)
    assert by_actor and all(r["user_id"] == owner.user_id for r in by_actor)
    future = await _actions(client, owner.headers, since="2999-01-01T00:00:00Z")
    assert future == []


async def test_failed_mutations_leave_no_audit_row(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    members = (await client.get(f"{API}/org/members", headers=owner.headers)).json()["items"]
    refused = await client.delete(f"{API}/org/members/{members[0]['id']}", headers=owner.headers)
    assert refused.status_code == 409
    assert "member.removed" not in [r["action"] for r in await _actions(client, owner.headers)]
