"""Sign-up, login, refresh rotation and reuse detection, logout, /me, switching orgs."""

from __future__ import annotations

import time
import uuid

import httpx
import psycopg
import pytest

from agentflow.kit.security import TokenError, decode_access_token, issue_access_token
from tests.api_fixtures import API, PASSWORD, add_member, bearer, signup, unique


async def _post_with_cookie(client: httpx.AsyncClient, action: str, cookie: str | None) -> httpx.Response:
    client.cookies.clear()
    if cookie is not None:
        client.cookies.set("af_refresh", cookie)
    return await client.post(f"{API}/auth/{action}")


async def test_signup_creates_user_org_and_owner_membership(client: httpx.AsyncClient) -> None:
    email = f"{unique('Ann')}@Example.com"
    response = await client.post(
        f"{API}/auth/signup",
        json={"email": email, "password": PASSWORD, "name": "Ann", "org_name": "Acme Robotics"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["email"] == email.lower()
    assert body["role"] == "owner"
    assert body["org"]["slug"].startswith("acme-robotics")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    cookie = response.headers["set-cookie"]
    assert "af_refresh=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/api/v1/auth" in cookie

    me = await client.get(f"{API}/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["org"]["id"] == body["org"]["id"]
    assert [o["role"] for o in me.json()["orgs"]] == ["owner"]


async def test_signup_duplicate_email_and_taken_slug_write_nothing(client: httpx.AsyncClient, stack) -> None:
    first = await signup(client)
    again = await client.post(
        f"{API}/auth/signup",
        json={"email": first.email.upper(), "password": PASSWORD, "name": "X", "org_name": "Other"},
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "EMAIL_TAKEN"

    slug = unique("slug")
    ok = await client.post(
        f"{API}/auth/signup",
        json={"email": f"{unique()}@example.com", "password": PASSWORD, "name": "A", "org_name": "A", "org_slug": slug},
    )
    assert ok.status_code == 201
    loser_email = f"{unique()}@example.com"
    taken = await client.post(
        f"{API}/auth/signup",
        json={"email": loser_email, "password": PASSWORD, "name": "B", "org_name": "B", "org_slug": slug},
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "SLUG_TAKEN"
    with psycopg.connect(stack.owner_url) as conn:
        assert conn.execute("SELECT count(*) FROM users WHERE email = %s", (loser_email,)).fetchone() == (0,)


async def test_login_does_not_reveal_which_emails_exist(client: httpx.AsyncClient) -> None:
    account = await signup(client)
    wrong_password = await client.post(f"{API}/auth/login", json={"email": account.email, "password": "nope-nope"})
    unknown_email = await client.post(
        f"{API}/auth/login", json={"email": f"{unique()}@example.com", "password": "nope-nope"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    good = await client.post(f"{API}/auth/login", json={"email": account.email.upper(), "password": PASSWORD})
    assert good.status_code == 200
    assert good.json()["org"]["id"] == account.org_id


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(client: httpx.AsyncClient) -> None:
    account = await signup(client)
    first_cookie = client.cookies.get("af_refresh")
    assert first_cookie

    rotated = await client.post(f"{API}/auth/refresh")
    assert rotated.status_code == 200, rotated.text
    second_cookie = client.cookies.get("af_refresh")
    assert second_cookie and second_cookie != first_cookie
    me = await client.get(f"{API}/auth/me", headers=bearer(rotated.json()["access_token"]))
    assert me.json()["user"]["id"] == account.user_id

    # Replaying the first (already rotated) token: treated as theft.
    client.cookies.clear()
    replay = await _post_with_cookie(client, "refresh", first_cookie)
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "REFRESH_TOKEN_REUSED"
    # ...which also kills the legitimate newest token of that family.
    client.cookies.clear()
    newest = await _post_with_cookie(client, "refresh", second_cookie)
    assert newest.status_code == 401
    assert newest.json()["error"]["code"] == "INVALID_REFRESH_TOKEN"
    # The replay is on the org's audit trail for its admins.
    trail = await client.get(f"{API}/org/audit-logs", headers=account.headers, params={"action": "auth."})
    assert "auth.refresh_token_reused" in [row["action"] for row in trail.json()["items"]]


async def test_refresh_without_or_with_garbage_cookie(client: httpx.AsyncClient) -> None:
    client.cookies.clear()
    missing = await client.post(f"{API}/auth/refresh")
    assert missing.status_code == 401
    garbage = await _post_with_cookie(client, "refresh", "x" * 5000)
    assert garbage.status_code == 401
    assert garbage.json()["error"]["code"] == "INVALID_REFRESH_TOKEN"


async def test_logout_revokes_the_session(client: httpx.AsyncClient) -> None:
    account = await signup(client)
    cookie = client.cookies.get("af_refresh")
    out = await client.post(f"{API}/auth/logout")
    assert out.status_code == 204
    assert 'af_refresh=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    again = await _post_with_cookie(client, "refresh", cookie)
    assert again.status_code == 401
    trail = await client.get(f"{API}/org/audit-logs", headers=account.headers, params={"action": "auth.logout"})
    assert len(trail.json()["items"]) == 1


async def test_user_in_two_orgs_switches_and_refresh_keeps_the_choice(client: httpx.AsyncClient) -> None:
    home = await signup(client)
    other_owner = await signup(client)
    guest = await add_member(client, other_owner, "editor")
    # The guest also creates their own org by signing up separately? No: accept an invite into
    # `home` as an existing user by proving the password.
    invite = await client.post(
        f"{API}/org/members/invite", headers=home.headers, json={"email": guest.email, "role": "viewer"}
    )
    assert invite.status_code == 201
    from tests.api_fixtures import latest_invite_token

    token = await latest_invite_token(client, home, guest.email)
    without_proof = await client.post(f"{API}/auth/accept-invite", json={"token": token})
    assert without_proof.status_code == 401
    assert without_proof.json()["error"]["code"] == "SIGN_IN_REQUIRED"
    joined = await client.post(f"{API}/auth/accept-invite", json={"token": token, "password": PASSWORD})
    assert joined.status_code == 200, joined.text
    assert joined.json()["org"]["id"] == home.org_id

    me = await client.get(f"{API}/auth/me", headers=bearer(joined.json()["access_token"]))
    assert {o["id"]: o["role"] for o in me.json()["orgs"]} == {home.org_id: "viewer", other_owner.org_id: "editor"}

    switched = await client.post(
        f"{API}/auth/switch-org", headers=bearer(joined.json()["access_token"]), json={"org_id": other_owner.org_id}
    )
    assert switched.status_code == 200
    assert switched.json()["org"]["id"] == other_owner.org_id
    assert switched.json()["role"] == "editor"
    refreshed = await client.post(f"{API}/auth/refresh")
    assert refreshed.status_code == 200
    assert refreshed.json()["org"]["id"] == other_owner.org_id

    stranger = await signup(client)
    refused = await client.post(
        f"{API}/auth/switch-org", headers=bearer(joined.json()["access_token"]), json={"org_id": stranger.org_id}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "NOT_A_MEMBER"


async def test_removed_member_loses_access_immediately(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    editor = await add_member(client, owner, "editor")
    assert (await client.get(f"{API}/org", headers=editor.headers)).status_code == 200
    removed = await client.delete(f"{API}/org/members/{editor.member_id}", headers=owner.headers)
    assert removed.status_code == 204
    after = await client.get(f"{API}/org", headers=editor.headers)
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "ORG_ACCESS_REVOKED"
    # Also where the check rides with the read, outside any transaction (`reads`, `TenantReads`).
    members = await client.get(f"{API}/org/members", headers=editor.headers)
    assert members.status_code == 401
    assert members.json()["error"]["code"] == "ORG_ACCESS_REVOKED"
    me = await client.get(f"{API}/auth/me", headers=editor.headers)
    assert me.status_code == 200
    assert me.json()["org"] is None and me.json()["orgs"] == []
    assert me.json()["permissions"] == []


async def test_me_lists_what_the_role_may_do(client: httpx.AsyncClient) -> None:
    # The web app hides what the caller's role cannot do from this list (the API still refuses it).
    owner = await signup(client)
    viewer = await add_member(client, owner, "viewer")
    owner_may = set((await client.get(f"{API}/auth/me", headers=owner.headers)).json()["permissions"])
    viewer_may = set((await client.get(f"{API}/auth/me", headers=viewer.headers)).json()["permissions"])
    assert {"billing.manage", "members.manage", "agents.write", "agents.read"} <= owner_may
    assert "agents.read" in viewer_may
    assert viewer_may.isdisjoint({"agents.write", "agents.execute", "members.manage", "api_keys.manage"})


async def test_deactivated_user_is_refused_at_once(client: httpx.AsyncClient, stack) -> None:
    owner = await signup(client)
    assert (await client.get(f"{API}/auth/me", headers=owner.headers)).status_code == 200  # token verified
    with psycopg.connect(stack.owner_url) as conn:
        conn.execute("UPDATE users SET is_active = false WHERE id = %s", (owner.user_id,))
    me = await client.get(f"{API}/auth/me", headers=owner.headers)
    assert me.status_code == 401
    assert me.json()["error"]["code"] == "ACCOUNT_INACTIVE"
    members = await client.get(f"{API}/org/members", headers=owner.headers)
    assert members.status_code == 401
    assert members.json()["error"]["code"] == "ORG_ACCESS_REVOKED"


def test_a_verified_token_is_refused_once_it_expires() -> None:
    """Verifications are cached per token (kit/security.py); expiry must still apply on every use."""
    keys = {"secret": "s" * 64, "issuer": "agentflow", "audience": "agentflow-api"}
    token, expires_at = issue_access_token(user_id=uuid.uuid4(), org_id=None, ttl_seconds=1, **keys)
    assert decode_access_token(token, **keys).expires_at == expires_at.replace(microsecond=0)
    time.sleep(max(0.0, expires_at.replace(microsecond=0).timestamp() - time.time()) + 0.05)
    with pytest.raises(TokenError, match="expired"):
        decode_access_token(token, **keys)
    with pytest.raises(TokenError, match="invalid"):
        decode_access_token(token, **{**keys, "secret": "t" * 64})  # the cache is per secret, too
