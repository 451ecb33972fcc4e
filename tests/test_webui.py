"""The web app's static export, served by the API process at `/` (agentflow/webui.py): pages with
the security headers and no-cache, fingerprinted assets cached forever, unknown pages answered by
the export's 404.html, the API's own answers (JSON envelope, 404 and 405) untouched under /api/,
and no way out of the export's directory. The export here is a stand-in made by the test, so these
checks need no Node build; tests/web/ drives the real one in a browser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from agentflow.app import create_app
from agentflow.webui import SECURITY_HEADERS, WebAppMount
from tests.api_fixtures import API, assert_error, client_for, settings_for
from tests.routes import route_keys, websocket_paths

INDEX = "<!DOCTYPE html><html><head><title>AgentFlow</title></head><body>home</body></html>"
AGENTS = "<!DOCTYPE html><html><head><title>Agents · AgentFlow</title></head><body>agents</body></html>"
NOT_FOUND = "<!DOCTYPE html><html><head><title>Not found · AgentFlow</title></head><body>not found</body></html>"
SCRIPT = "console.log('bundle');"
SECRET = "outside the export: never served"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export in `<tmp>/out`, with a file beside it (`<tmp>/secret.txt`) that no request may read."""
    root = tmp_path_factory.mktemp("webui")
    (root / "secret.txt").write_text(SECRET)
    out = root / "out"
    (out / "agents").mkdir(parents=True)
    (out / "_next" / "static").mkdir(parents=True)
    (out / "index.html").write_text(INDEX)
    (out / "404.html").write_text(NOT_FOUND)
    (out / "agents" / "index.html").write_text(AGENTS)
    (out / "_next" / "static" / "x.js").write_text(SCRIPT)
    (out / "leak.txt").symlink_to(root / "secret.txt")  # a link out of the export is not followed
    return out


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ui(stack: Any, site: Path) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings_for(stack.env, web_dir=site))
    async with application.router.lifespan_context(application), client_for(application) as client:
        yield client


def assert_page(response: httpx.Response, status: int, body: str) -> None:
    where = response.request.url.raw_path.decode()
    assert response.status_code == status, f"{where}: {response.status_code} {response.text[:300]}"
    assert response.text == body, where
    assert response.headers["content-type"].startswith("text/html"), where
    assert response.headers["cache-control"] == "no-cache", where
    for name, value in SECURITY_HEADERS.items():
        # Exactly once: two values of one of these headers are contradictory or void to a browser.
        assert response.headers.get_list(name) == [value], f"{where}: {name}"


async def test_the_root_serves_the_index_page(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/")
    assert_page(response, 200, INDEX)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-request-id"]  # the API's middleware covers the UI too


async def test_a_page_is_served_from_its_directory(ui: httpx.AsyncClient) -> None:
    assert_page(await ui.get("/agents/"), 200, AGENTS)


async def test_a_page_without_its_trailing_slash_redirects_to_it(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/agents")
    assert response.is_redirect, response.status_code
    assert httpx.URL(response.headers["location"]).path == "/agents/"


async def test_fingerprinted_assets_are_cached_for_good(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/_next/static/x.js")
    assert response.status_code == 200
    assert response.text == SCRIPT
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


@pytest.mark.parametrize("path", ["/nope", "/agents/nope/", "/_next/static/missing.js", "/apiary", "/healthzz"])
async def test_an_unknown_ui_path_gets_the_exports_404_page(ui: httpx.AsyncClient, path: str) -> None:
    assert_page(await ui.get(path), 404, NOT_FOUND)


@pytest.mark.parametrize("path", [f"{API}/nope", f"{API}/", "/api", "/api/", "/api/index.html", "/api/v2/agents"])
async def test_an_unknown_api_path_gets_the_json_envelope_not_a_page(ui: httpx.AsyncClient, path: str) -> None:
    response = await ui.get(path)
    assert_error(response, 404)
    assert response.headers["content-type"].startswith("application/json")


async def test_a_wrong_method_on_an_api_path_is_still_a_405_envelope(ui: httpx.AsyncClient) -> None:
    response = await ui.get(f"{API}/auth/signup")  # POST only
    assert_error(response, 405)


async def test_health_checks_are_the_apis(ui: httpx.AsyncClient) -> None:
    assert (await ui.get("/healthz")).json() == {"status": "ok"}
    assert (await ui.get("/readyz")).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/..%2f..%2fetc/passwd",
        "/%2e%2e/",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/agents/..%2f..%2fsecret.txt",
        "/_next/static/..%2f..%2f..%2fsecret.txt",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/leak.txt",
    ],
)
async def test_no_path_escapes_the_export(ui: httpx.AsyncClient, path: str) -> None:
    response = await ui.get(path)
    # The client sends the path as written (no dot segments resolved), so the app really gets `..`.
    assert response.request.url.raw_path.decode() == path
    assert SECRET not in response.text
    assert "root:" not in response.text
    assert response.status_code == 404
    if not path.startswith("/api/"):
        assert response.text == NOT_FOUND


def mounts(application: FastAPI) -> list[WebAppMount]:
    return [route for route in application.routes if isinstance(route, WebAppMount)]


async def test_without_an_index_page_no_ui_is_mounted(stack: Any, tmp_path: Path) -> None:
    (tmp_path / "404.html").write_text(NOT_FOUND)  # an export without index.html is no export
    application = create_app(settings_for(stack.env, web_dir=tmp_path))
    assert mounts(application) == []
    async with application.router.lifespan_context(application), client_for(application) as client:
        assert_error(await client.get("/"), 404)
        assert_error(await client.get("/404.html"), 404)
        assert (await client.get("/healthz")).status_code == 200


def test_the_ui_is_mounted_after_every_api_route(stack: Any, site: Path) -> None:
    application = create_app(settings_for(stack.env, web_dir=site))
    assert len(mounts(application)) == 1
    assert application.routes[-1] is mounts(application)[0]


def test_the_route_inventory_is_the_same_with_the_ui(stack: Any, site: Path) -> None:
    """The mount is no API route: every walk over the routes (auth, tenancy, bad input) sees the
    same API with or without a UI."""
    with_ui = create_app(settings_for(stack.env, web_dir=site))
    without = create_app(settings_for(stack.env))
    assert mounts(without) == []
    assert sorted(route_keys(with_ui)) == sorted(route_keys(without))
    assert websocket_paths(with_ui) == websocket_paths(without)
