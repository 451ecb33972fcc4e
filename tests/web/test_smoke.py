"""The built web app loads in a real browser from the API's own origin."""

from __future__ import annotations

from playwright.sync_api import Page


def test_the_app_loads_without_errors(page: Page, console_errors: list[str]) -> None:
    response = page.goto("/")
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")  # let the client code run: its errors count too
    assert "AgentFlow" in page.title()
    assert console_errors == []
