"""A team's settings in the browser: API keys shown once and revoked, an integration connected
and disconnected, a member invited, joining through the emailed link and given another role; and
what a Viewer sees (the server refusing what the page hides)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.api_fixtures import API, PASSWORD, Account, unique


def log_in(page: Page, account: Account) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/agents/"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_api_key_is_shown_once_works_and_is_revoked(
    page: Page, base_url: str, user: Account, console_errors: list[str]
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, user)
    page.goto("/settings/api-keys/")
    page.get_by_role("button", name="Create API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Deploy bot")
    dialog.get_by_role("button", name="Create key").click()

    secret = page.get_by_test_id("api-key-secret")
    expect(secret).to_be_visible()
    key = secret.inner_text().strip()
    assert re.fullmatch(r"af_live_\w+", key), key
    page.get_by_role("dialog").get_by_role("button", name=re.compile("^Copy")).click()
    assert page.evaluate("navigator.clipboard.readText()") == key

    # The key authenticates as the org...
    me = httpx.get(f"{base_url}{API}/auth/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["org"]["id"] == user.org_id

    # ...and once the dialog is closed it is nowhere on the page again.
    page.get_by_role("dialog").get_by_role("button", name="Done").click()  # "I've stored it" until copied
    expect(page.get_by_test_id("api-key-secret")).to_have_count(0)
    row = page.get_by_test_id("api-key-Deploy bot")
    expect(row).to_be_visible()
    assert key not in page.content()

    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("Revoked")
    refused = httpx.get(f"{base_url}{API}/auth/me", headers={"X-API-Key": key})
    assert refused.status_code == 401
    assert console_errors == []


def test_an_integration_is_connected_listed_without_its_secret_and_disconnected(
    page: Page, base_url: str, user: Account, console_errors: list[str]
) -> None:
    secret = "sk-live-" + unique("k").replace("-", "") + "WXYZ"
    log_in(page, user)
    page.goto("/settings/integrations/")
    expect(page.get_by_text("Nothing connected yet")).to_be_visible()

    page.get_by_role("button", name="Connect HTTP").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Billing API")
    dialog.get_by_label("Authentication").select_option("header")
    dialog.get_by_label("Header name").fill("X API Key")
    dialog.get_by_label("Key").fill(secret)
    dialog.get_by_role("button", name="Connect").click()
    expect(dialog.get_by_text("no spaces")).to_be_visible()  # caught before anything is sent
    dialog.get_by_label("Header name").fill("X-API-Key")
    dialog.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    card = page.get_by_test_id(re.compile("^integration-"))
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Billing API")
    expect(card).to_contain_text("API key in a header")
    expect(card).to_contain_text("…WXYZ")
    assert secret not in page.content()
    listed = httpx.get(f"{base_url}{API}/integrations", headers=bearer(user.token)).json()
    assert [(i["name"], i["auth_type"], i["status"]) for i in listed] == [("Billing API", "header", "connected")]

    page.get_by_role("button", name="Disconnect Billing API").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("Nothing connected yet")).to_be_visible()
    assert httpx.get(f"{base_url}{API}/integrations", headers=bearer(user.token)).json() == []
    assert console_errors == []


def test_an_agents_audit_history_opens_from_its_menu_and_widens_again(
    page: Page, base_url: str, user: Account, console_errors: list[str]
) -> None:
    headers = bearer(user.token)
    first = httpx.post(f"{base_url}{API}/agents", headers=headers, json={"name": "Invoice triage"}).json()
    second = httpx.post(f"{base_url}{API}/agents", headers=headers, json={"name": "Lead scoring"}).json()
    renamed = httpx.put(f"{base_url}{API}/agents/{first['id']}", headers=headers, json={"name": "Invoice triage v2"})
    assert renamed.status_code == 200, renamed.text
    log_in(page, user)

    page.get_by_test_id(f"agent-{first['id']}").get_by_role("button", name="Agent actions").click()
    page.get_by_role("menuitem", name="Audit history").click()
    page.wait_for_url(re.compile(rf"/settings/audit/\?resource=agent&id={first['id']}$"))
    expect(page.get_by_test_id("audit-resource-filter")).to_contain_text("The history of agent")
    table = page.get_by_role("table", name="Audit log")
    expect(table.get_by_text("agent.updated")).to_have_count(1)
    expect(table.get_by_text("agent.created")).to_have_count(1)  # the second agent's is not here

    page.get_by_role("button", name="Every agent").click()
    expect(table.get_by_text("agent.created")).to_have_count(2)
    expect(page.get_by_test_id("audit-resource-filter")).to_have_count(0)

    # From any entry, the same narrowing: the second agent's creation.
    entries = httpx.get(f"{base_url}{API}/org/audit-logs", headers=headers, params={"resource_id": second["id"]})
    (created,) = entries.json()["items"]
    row = page.get_by_test_id(f"audit-{created['id']}")
    row.get_by_role("button", name="Show details").click()
    page.get_by_role("button", name="Everything about this agent").click()
    page.wait_for_url(re.compile(rf"id={second['id']}"))
    expect(table.get_by_text("agent.created")).to_have_count(1)
    expect(table.get_by_text("agent.updated")).to_have_count(0)
    assert console_errors == []


def test_an_invited_member_joins_and_gets_another_role(
    page: Page, browser: Browser, base_url: str, user: Account
) -> None:
    log_in(page, user)
    page.goto("/settings/members/")
    email = f"{unique('joiner')}@example.com"
    page.get_by_role("button", name="Invite member").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Email").fill(email)
    dialog.get_by_label("Role").select_option("editor")
    dialog.get_by_role("button", name="Send invite").click()
    link = page.get_by_test_id("invite-link")
    expect(link).to_be_visible()
    invite_url = link.inner_text().strip()
    assert invite_url.startswith(f"{base_url}/accept-invite/?token=")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id(f"invitation-{email}")).to_be_visible()

    # The invitee opens the link in their own browser and joins with a new account.
    invitee = browser.new_context(base_url=base_url)
    try:
        joining = invitee.new_page()
        joining.goto(invite_url)
        joining.get_by_label("Your name").fill("Grace Hopper")
        joining.get_by_label("Password").fill(PASSWORD)
        joining.get_by_role("button", name="Accept invitation").click()
        joining.wait_for_url(re.compile(r"/agents/"))
        expect(joining.get_by_test_id("current-org")).to_be_visible()
    finally:
        invitee.close()

    page.reload()
    member = page.get_by_test_id(f"member-{email}")
    expect(member).to_be_visible()
    role = page.get_by_label(f"Role for {email}")
    expect(role).to_have_value("editor")
    role.select_option("viewer")
    expect(page.get_by_text(re.compile(r"is now viewer")).first).to_be_visible()

    members = httpx.get(f"{base_url}{API}/org/members", headers=bearer(user.token)).json()["items"]
    assert {m["email"]: m["role"] for m in members}[email] == "viewer"


def test_a_viewer_sees_no_edit_controls_and_the_api_refuses_their_edits(
    page: Page, base_url: str, user: Account
) -> None:
    agent = httpx.post(f"{base_url}{API}/agents", headers=bearer(user.token), json={"name": "Quarterly report"}).json()
    viewer = _viewer_of(base_url, user)
    log_in(page, viewer)

    expect(page.get_by_role("link", name="Quarterly report")).to_be_visible()
    expect(page.get_by_role("button", name="New agent")).to_have_count(0)
    expect(page.get_by_role("button", name="Import")).to_have_count(0)

    page.goto(f"/agents/builder/?id={agent['id']}")
    expect(page.get_by_role("application", name="Agent graph")).to_be_visible()
    expect(page.get_by_text("Read-only")).to_be_visible()
    expect(page.get_by_role("region", name="Node palette")).to_have_count(0)
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    expect(page.get_by_role("button", name="Test run")).to_have_count(0)

    page.goto("/templates/")
    expect(page.get_by_test_id(re.compile("^template-")).first).to_be_visible()
    expect(page.get_by_role("button", name="Install")).to_have_count(0)

    page.goto("/settings/integrations/")
    expect(page.get_by_role("heading", name="Integrations")).to_be_visible()
    expect(page.get_by_text("Nothing connected yet")).to_be_visible()
    expect(page.get_by_role("button", name="Connect HTTP")).to_have_count(0)

    page.goto("/settings/members/")
    expect(page.get_by_test_id(f"member-{viewer.email}")).to_be_visible()
    expect(page.get_by_role("button", name="Invite member")).to_have_count(0)
    expect(page.get_by_label(f"Role for {user.email}")).to_have_count(0)

    # The page hid them; the server refuses them too.
    headers = bearer(viewer.token)
    draft = httpx.get(f"{base_url}{API}/agents/{agent['id']}/draft", headers=headers).json()
    edit = httpx.put(
        f"{base_url}{API}/agents/{agent['id']}/draft",
        headers=headers,
        json={"definition": draft["definition"], "revision": draft["revision"]},
    )
    assert edit.status_code == 403
    create = httpx.post(f"{base_url}{API}/agents", headers=headers, json={"name": "Sneaky"})
    assert create.status_code == 403
    publish = httpx.post(f"{base_url}{API}/agents/{agent['id']}/publish", headers=headers, json={})
    assert publish.status_code == 403
    connect = httpx.post(
        f"{base_url}{API}/integrations/http/connect",
        headers=headers,
        json={"name": "Sneaky", "credentials": {"type": "bearer", "token": "t" * 20}},
    )
    assert connect.status_code == 403


def _viewer_of(base_url: str, owner: Account) -> Account:
    """Someone new who joined the owner's org as a viewer through an invitation (API only)."""
    email = f"{unique('viewer')}@example.com"
    invite = httpx.post(
        f"{base_url}{API}/org/members/invite", headers=bearer(owner.token), json={"email": email, "role": "viewer"}
    )
    assert invite.status_code == 201, invite.text
    outbox = httpx.get(f"{base_url}{API}/org/outbox", headers=bearer(owner.token)).json()["items"]
    token = next(
        match.group(1)
        for mail in outbox
        if email in str(mail) and (match := re.search(r"accept-invite/\?token=([\w-]+)", str(mail)))
    )
    accepted = httpx.post(
        f"{base_url}{API}/auth/accept-invite", json={"token": token, "name": "Vera Viewer", "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    return Account(
        email=email,
        password=PASSWORD,
        token=body["access_token"],
        user_id=body["user"]["id"],
        org_id=owner.org_id,
        role="viewer",
    )
