"""The product's main path in a real browser: sign up, point the org's OpenAI key at a local
OpenAI-compatible server, install a template with a human approval step, extend it in the
builder (a node from the palette, connected, its form filled), publish, run a test
with pinned outputs for the steps that would post to WordPress and Slack, watch the steps turn
green live while the AI step's tokens stream in, approve the waiting step, and see the output."""

from __future__ import annotations

import json
import re

import httpx
from playwright.sync_api import Page, expect

from tests.api_fixtures import API, Account
from tests.engine.providers.fakes import FakeOpenAI, Reply
from tests.web.conftest import ARTIFACTS
from tests.web.test_team import bearer, log_in

POST = {
    "title": "Onboarding in half the time",
    "excerpt": "What we changed, and what it did for new customers.",
    "body_html": "<p>We cut onboarding from ten days to five.</p>",
}
LIVE_TIMEOUT_MS = 30_000


def test_install_extend_publish_test_run_and_approve(
    page: Page, base_url: str, user: Account, fake_openai: FakeOpenAI, console_errors: list[str]
) -> None:
    fake_openai.reset()
    log_in(page, user)

    # The org brings its own OpenAI key, served by the local OpenAI-compatible server.
    page.goto("/settings/providers/")
    page.get_by_test_id("provider-openai").get_by_role("button", name=re.compile("^Set .* key$")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("API key").fill("sk-test-browser-flow-0001")
    dialog.get_by_label(re.compile("^Base URL")).fill(fake_openai.base_url)
    dialog.get_by_role("button", name="Save and verify").click()
    expect(dialog).to_have_count(0)

    # Install the template with a human approval step; it opens in the builder.
    page.goto("/templates/")
    page.get_by_test_id("template-content-approval").get_by_role("button", name="Install").click()
    page.wait_for_url(re.compile(r"/agents/builder/\?id="))
    agent_id = page.url.split("id=")[1].split("&")[0]
    canvas = page.get_by_role("application", name="Agent graph")
    expect(canvas.get_by_test_id("node-review_draft")).to_be_visible()
    template_nodes = set(canvas.locator('[data-testid^="node-"]').evaluate_all("els => els.map(e => e.dataset.testid)"))

    # Add a "Text template" from the palette, connect the Slack announcement to it, fill its form.
    page.get_by_role("region", name="Node palette").get_by_role("button", name="Text template").click()
    added = canvas.locator('[data-testid^="node-"]')
    expect(added).to_have_count(len(template_nodes) + 1)
    new_testid = next(
        testid for testid in added.evaluate_all("els => els.map(e => e.dataset.testid)") if testid not in template_nodes
    )
    new_node = new_testid.removeprefix("node-")
    page.get_by_test_id(new_testid).click()
    inspector = page.get_by_test_id("node-inspector")
    inspector.get_by_role("textbox", name="Template").fill("Published: {{vars.final_title}}")
    # Connect from the Slack step's side panel (the keyboard way to draw an edge).
    page.get_by_test_id("node-announce").click()
    inspector.get_by_role("button", name=re.compile(r"^Connect .* to a node$")).first.click()
    inspector.get_by_label(re.compile(r"^Connect .* to$")).select_option(new_node)
    page.get_by_test_id(new_testid).click()
    expect(inspector).to_contain_text("From announce")

    # The draft autosaves: the server has the new node, its config and the edge.
    def saved() -> bool:
        draft = httpx.get(f"{base_url}{API}/agents/{agent_id}/draft", headers=bearer(user.token)).json()
        nodes = {node["id"]: node for node in draft["definition"]["nodes"]}
        edges = {(edge["source"], edge["target"]) for edge in draft["definition"]["edges"]}
        return (
            nodes.get(new_node, {}).get("config", {}).get("template") == "Published: {{vars.final_title}}"
            and ("announce", new_node) in edges
        )

    expect(page.get_by_text(re.compile("^Saved"))).to_be_visible()
    assert saved()

    # Publish with a change message.
    page.get_by_role("button", name="Publish", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Change message").fill("Add a publish note")
    dialog.get_by_role("button", name="Publish version").click()
    expect(dialog).to_have_count(0)
    versions = httpx.get(f"{base_url}{API}/agents/{agent_id}/versions", headers=bearer(user.token)).json()["items"]
    assert [v["version"] for v in versions] == [1]

    # Test run: the AI step answers from the fake server; WordPress and Slack are pinned.
    fake_openai.script(Reply(text=json.dumps(POST), usage=(120, 80)))
    page.get_by_role("button", name="Test run").click()
    page.get_by_label("Trigger data").fill(json.dumps({"topic": "Faster onboarding", "key_points": "10 → 5 days"}))
    for index, (node, output) in enumerate(
        [("publish_post", {"id": 42, "link": "https://blog.example.com/onboarding"}), ("announce", {"ok": True})],
        start=1,
    ):
        page.get_by_role("button", name="Pin an output").click()
        pin = page.get_by_role("group", name=f"Pinned output {index}")
        pin.get_by_label("Node").select_option(node)
        pin.get_by_label("Output").fill(json.dumps(output))
    page.get_by_role("button", name="Run test").click()

    # Steps turn green live, then the run waits for the reviewer.
    expect(page.get_by_test_id("node-brief")).to_have_attribute("data-status", "completed", timeout=LIVE_TIMEOUT_MS)
    expect(page.get_by_test_id("node-draft_post")).to_have_attribute(
        "data-status", "completed", timeout=LIVE_TIMEOUT_MS
    )
    review = page.get_by_test_id("node-review_draft")
    expect(review).to_have_attribute("data-status", "waiting_approval", timeout=LIVE_TIMEOUT_MS)
    page.get_by_test_id("node-draft_post").click()
    step_output = page.get_by_role("region", name="Step output")
    expect(step_output).to_contain_text("Streamed answer")
    expect(step_output).to_contain_text(POST["title"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "builder-test-run.png", full_page=True)

    review.click()
    expect(step_output).to_contain_text("Review the draft")
    step_output.get_by_label("Comment").fill("Ship it")
    step_output.get_by_role("button", name="Approve").click()

    run = page.get_by_test_id("test-run")
    expect(run).to_have_attribute("data-status", "completed", timeout=LIVE_TIMEOUT_MS)
    for node in ("use_first_draft", "ready_to_publish", "publish_post", "announce", new_node):
        expect(page.get_by_test_id(f"node-{node}")).to_have_attribute("data-status", "completed")
    page.get_by_test_id(f"node-{new_node}").click()
    expect(step_output).to_contain_text(f"Published: {POST['title']}")  # the new step's output

    # The execution's detail page shows the same run: every step, the approval and the output.
    run.get_by_role("link", name="Open execution").click()
    page.wait_for_url(re.compile(r"/executions/detail/\?id="))
    expect(page.get_by_test_id(f"step-{new_node}")).to_have_attribute("data-status", "completed")
    page.get_by_test_id(f"step-{new_node}").get_by_role("button", name="Show details").click()
    expect(page.get_by_test_id(f"step-{new_node}")).to_contain_text(f"Published: {POST['title']}")
    page.screenshot(path=ARTIFACTS / "execution-detail.png", full_page=True)

    # What the AI step sent: the org's key, to the org's base URL, with the rendered prompt.
    [call] = fake_openai.calls("/chat/completions")
    assert call.headers["authorization"] == "Bearer sk-test-browser-flow-0001"
    assert "Faster onboarding" in json.dumps(call.body)
    assert console_errors == []
