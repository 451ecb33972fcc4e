"""The org, members and invitations (spec §4.2 "Organization")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from tests.api_fixtures import API, PASSWORD, add_member, latest_invite_token, signup, unique


async def test_get_and_update_org(client: httpx.AsyncClient) -> None:
    owner = await signup(client, org_name="Before")
    got = await client.get(f"{API}/org", headers=owner.headers)
    assert got.status_code == 200
    assert got.json()["name"] == "Before"
    updated = await client.put(
        f"{API}/org", headers=owner.headers, json={"name": "After", "settings": {"timezone": "Europe/Paris"}}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "After"
    assert updated.json()["settings"] == {"timezone": "Europe/Paris"}
    assert (await client.get(f"{API}/org", headers=owner.headers)).json()["name"] == "After"


async def test_invite_flow_sends_mail_and_creates_the_member(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    email = f"{unique('new')}@example.com"
    invited = await client.post(
        f"{API}/org/members/invite", headers=owner.headers, json={"email": email.upper(), "role": "editor"}
    )
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert body["email"] == email and body["role"] == "editor" and body["status"] == "pending"
    assert "token" not in invited.text

    pending = await client.get(f"{API}/org/invitations", headers=owner.headers)
    assert [i["email"] for i in pending.json()["items"]] == [email]

    token = await latest_invite_token(client, owner, email)
    accepted = await client.post(
        f"{API}/auth/accept-invite", json={"token": token, "name": "New Person", "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == "editor"
    members = (await client.get(f"{API}/org/members", headers=owner.headers)).json()["items"]
    assert {m["email"]: m["role"] for m in members}[email] == "editor"

    # Single use.
    again = await client.post(f"{API}/auth/accept-invite", json={"token": token, "password": PASSWORD})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "INVITATION_INVALID"
    listed = (await client.get(f"{API}/org/invitations", headers=owner.headers)).json()["items"]
    assert listed[0]["status"] == "accepted"


async def test_revoked_and_expired_invitations_cannot_be_used(client: httpx.AsyncClient, stack) -> None:
    owner = await signup(client)
    revoked_email, expired_email = f"{unique()}@example.com", f"{unique()}@example.com"
    revoked = await client.post(f"{API}/org/members/invite", headers=owner.headers, json={"email": revoked_email})
    await client.post(f"{API}/org/members/invite", headers=owner.headers, json={"email": expired_email})
    assert (
        await client.delete(f"{API}/org/invitations/{revoked.json()['id']}", headers=owner.headers)
    ).status_code == 204
    revoked_token = await latest_invite_token(client, owner, revoked_email)
    expired_token = await latest_invite_token(client, owner, expired_email)
    with psycopg.connect(stack.owner_url) as conn:
        conn.execute(
            "UPDATE invitations SET expires_at = %s WHERE email = %s",
            (datetime.now(UTC) - timedelta(minutes=1), expired_email),
        )
    r1 = await client.post(f"{API}/auth/accept-invite", json={"token": revoked_token, "password": PASSWORD})
    r2 = await client.post(f"{API}/auth/accept-invite", json={"token": expired_token, "password": PASSWORD})
    assert (r1.status_code, r1.json()["error"]["code"]) == (400, "INVITATION_INVALID")
    assert (r2.status_code, r2.json()["error"]["code"]) == (400, "INVITATION_EXPIRED")
    with psycopg.connect(stack.owner_url) as conn:
        count = conn.execute(
            "SELECT count(*) FROM users WHERE email IN (%s, %s)", (revoked_email, expired_email)
        ).fetchone()
    assert count == (0,)


async def test_inviting_an_existing_member_is_a_conflict(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    member = await add_member(client, owner, "viewer")
    again = await client.post(f"{API}/org/members/invite", headers=owner.headers, json={"email": member.email})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "ALREADY_MEMBER"


async def test_role_change_takes_effect_on_the_next_request(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    viewer = await add_member(client, owner, "viewer")
    denied = await client.get(f"{API}/org/audit-logs", headers=viewer.headers)
    assert denied.status_code == 403
    promoted = await client.put(
        f"{API}/org/members/{viewer.member_id}/role", headers=owner.headers, json={"role": "admin"}
    )
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "admin"
    allowed = await client.get(f"{API}/org/audit-logs", headers=viewer.headers)
    assert allowed.status_code == 200


async def test_last_owner_is_protected_but_ownership_can_be_handed_over(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    members = (await client.get(f"{API}/org/members", headers=owner.headers)).json()["items"]
    owner_member_id = members[0]["id"]
    demote = await client.put(
        f"{API}/org/members/{owner_member_id}/role", headers=owner.headers, json={"role": "admin"}
    )
    assert demote.status_code == 409 and demote.json()["error"]["code"] == "LAST_OWNER"
    leave = await client.delete(f"{API}/org/members/{owner_member_id}", headers=owner.headers)
    assert leave.status_code == 409

    successor = await add_member(client, owner, "admin")
    handover = await client.put(
        f"{API}/org/members/{successor.member_id}/role", headers=owner.headers, json={"role": "owner"}
    )
    assert handover.status_code == 200
    now_ok = await client.put(
        f"{API}/org/members/{owner_member_id}/role", headers=owner.headers, json={"role": "admin"}
    )
    assert now_ok.status_code == 200
    roles = {
        m["id"]: m["role"] for m in (await client.get(f"{API}/org/members", headers=successor.headers)).json()["items"]
    }
    assert roles == {owner_member_id: "admin", successor.member_id: "owner"}


async def test_members_list_paginates_with_a_cursor(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    for role in ("viewer", "viewer", "editor"):
        await add_member(client, owner, role)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{API}/org/members", headers=owner.headers, params=params)).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 4
    bad = await client.get(f"{API}/org/members", headers=owner.headers, params={"cursor": "!!not-a-cursor"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "INVALID_CURSOR"
