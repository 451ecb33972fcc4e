"""The canvas with a real pointer: nodes dragged from the palette land where they are dropped, an
edge is drawn by dragging from one node's output handle to another's input, and a connection the
graph cannot take (a cycle, a node into itself) is refused while you drag and never saved."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.api_fixtures import API, Account
from tests.web.test_team import bearer, log_in


def node_ids(canvas: Locator) -> set[str]:
    testids = canvas.locator('[data-testid^="node-"]').evaluate_all("els => els.map(e => e.dataset.testid)")
    return {testid.removeprefix("node-") for testid in testids}


def drop_from_palette(page: Page, canvas: Locator, name: str, x: float, y: float) -> str:
    """Drag a palette item onto the canvas at (x, y) of the canvas; returns the new node's id."""
    before = node_ids(canvas)
    page.get_by_role("region", name="Node palette").get_by_role("button", name=name).drag_to(
        canvas, target_position={"x": x, "y": y}
    )
    expect(canvas.locator('[data-testid^="node-"]')).to_have_count(len(before) + 1)
    [added] = node_ids(canvas) - before
    return added


def centre(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def handle(page: Page, node: str, which: str) -> Locator:
    return page.get_by_test_id(f"node-{node}").get_by_label(which, exact=True)


def drag_edge(page: Page, source: str, target: str, *, accepted: bool) -> None:
    """Press on `source`'s output handle, move to `target`'s input handle in small steps, check how
    the canvas marks the hovered handle mid-drag (`valid` or only `connectingto`), release."""
    start = centre(handle(page, source, "Output"))
    end_handle = handle(page, target, "Input")
    end = centre(end_handle)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=12)
    expect(end_handle).to_have_class(re.compile(r"\bconnectingto\b"))
    if accepted:
        expect(end_handle).to_have_class(re.compile(r"\bvalid\b"))
    else:
        expect(end_handle).not_to_have_class(re.compile(r"\bvalid\b"))
    page.mouse.up()


def open_blank_agent(page: Page, base_url: str, user: Account, name: str) -> tuple[str, Locator]:
    """A new agent with no nodes, open in the builder on a screen wide enough to draw on; its id
    and the canvas."""
    agent = httpx.post(f"{base_url}{API}/agents", json={"name": name}, headers=bearer(user.token))
    assert agent.status_code == 201, agent.text
    page.set_viewport_size({"width": 1600, "height": 1000})
    log_in(page, user)
    page.goto(f"/agents/builder/?id={agent.json()['id']}")
    expect(page.get_by_text("Start with a trigger")).to_be_visible()
    return agent.json()["id"], page.get_by_role("application", name="Agent graph")


def test_drag_nodes_from_the_palette_and_connect_their_handles(
    page: Page, base_url: str, user: Account, console_errors: list[str]
) -> None:
    agent_id, canvas = open_blank_agent(page, base_url, user, "Drawn by hand")
    trigger = drop_from_palette(page, canvas, "Manual trigger", 200, 150)
    first = drop_from_palette(page, canvas, "Text template", 560, 150)
    second = drop_from_palette(page, canvas, "Text template", 560, 400)
    # Each lands where it was dropped: left to right, then below.
    (tx, ty), (fx, fy), (sx, sy) = (centre(page.get_by_test_id(f"node-{n}")) for n in (trigger, first, second))
    assert tx < fx and abs(ty - fy) < 20 and abs(fx - sx) < 20 and sy > fy + 150

    # Valid connections: the handle under the pointer turns valid and the edge is drawn.
    edges = canvas.locator(".react-flow__edge")
    drag_edge(page, trigger, first, accepted=True)
    expect(edges).to_have_count(1)
    drag_edge(page, first, second, accepted=True)
    expect(edges).to_have_count(2)

    # Refused as you drag, and nothing drawn: back from the second template into the first (a
    # cycle), and a node into itself.
    drag_edge(page, second, first, accepted=False)
    drag_edge(page, first, first, accepted=False)
    expect(edges).to_have_count(2)

    # Autosave: the server holds the three nodes and exactly the two valid edges, with no issues.
    expect(page.get_by_text(re.compile("^Saved"))).to_be_visible()
    draft = httpx.get(f"{base_url}{API}/agents/{agent_id}/draft", headers=bearer(user.token)).json()
    assert {node["id"] for node in draft["definition"]["nodes"]} == {trigger, first, second}
    assert {(edge["source"], edge["target"]) for edge in draft["definition"]["edges"]} == {
        (trigger, first),
        (first, second),
    }
    assert console_errors == []


def minimap_rects(scope: Locator) -> list[tuple[float, float]]:
    """The mini map's node rectangles as (x, y) in graph coordinates, sorted."""
    rects = scope.locator(".react-flow__minimap-node").evaluate_all(
        "els => els.map(e => [Number(e.getAttribute('x')), Number(e.getAttribute('y'))])"
    )
    return sorted((x, y) for x, y in rects)


def test_the_mini_map_stands_still_while_a_node_is_dragged_and_follows_on_drop(
    page: Page, base_url: str, user: Account, console_errors: list[str]
) -> None:
    agent_id, canvas = open_blank_agent(page, base_url, user, "Rearranged")
    drop_from_palette(page, canvas, "Manual trigger", 200, 150)
    moved = drop_from_palette(page, canvas, "Text template", 560, 150)
    live = canvas.locator(".react-flow__minimap")
    expect(live.locator(".react-flow__minimap-node")).to_have_count(2)
    before = minimap_rects(live)

    x, y = centre(page.get_by_test_id(f"node-{moved}"))
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + 250, steps=10)
    # Mid-drag: a copy of the map as it was, still on screen where the map was.
    still = page.get_by_test_id("minimap-still")
    expect(still.locator(".react-flow__minimap")).to_be_visible()
    assert minimap_rects(still) == before
    page.mouse.up()

    # On drop the live map is back, with the node moved down.
    expect(still).to_have_count(0)
    expect(live).to_be_visible()
    after = minimap_rects(live)
    assert len(after) == 2 and after != before
    [(_, old_y)] = [rect for rect in before if rect not in after]
    [(_, new_y)] = [rect for rect in after if rect not in before]
    assert new_y > old_y + 150
    expect(page.get_by_text(re.compile("^Saved"))).to_be_visible()
    draft = httpx.get(f"{base_url}{API}/agents/{agent_id}/draft", headers=bearer(user.token)).json()
    [node] = [node for node in draft["definition"]["nodes"] if node["id"] == moved]
    assert node["position"]["y"] > 300
    assert console_errors == []


def test_an_action_nodes_credential_is_picked_by_name(
    page: Page, base_url: str, user: Account, console_errors: list[str]
) -> None:
    connected = httpx.post(
        f"{base_url}{API}/integrations/http/connect",
        json={"name": "Billing API", "credentials": {"type": "bearer", "token": "tok-billing-0000-7Kq2"}},
        headers=bearer(user.token),
    )
    assert connected.status_code == 201, connected.text
    agent_id, canvas = open_blank_agent(page, base_url, user, "Calls billing")
    action = drop_from_palette(page, canvas, "Tool action", 400, 200)

    page.get_by_test_id(f"node-{action}").click()
    inspector = page.get_by_test_id("node-inspector")
    inspector.get_by_label("Tool", exact=True).fill("http.request")  # a text box with suggestions
    credential = inspector.get_by_label("Credential Id", exact=True)
    # The org's connected account by its name and the secret's last characters, never the secret.
    expect(credential.locator("option")).to_have_text(["—", "Billing API · …7Kq2"])
    credential.select_option(label="Billing API · …7Kq2")

    expect(page.get_by_text(re.compile("^Saved"))).to_be_visible()
    draft = httpx.get(f"{base_url}{API}/agents/{agent_id}/draft", headers=bearer(user.token)).json()
    [node] = [node for node in draft["definition"]["nodes"] if node["id"] == action]
    assert node["config"]["credential_id"] == connected.json()["id"]
    assert "tok-billing" not in page.content()
    assert console_errors == []
