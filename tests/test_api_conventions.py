"""Spec §4.1 conventions: one error envelope everywhere, request ids, health, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from agentflow.app import create_app
from tests.api_fixtures import API, client_for, settings_for


async def test_unknown_route_and_wrong_method_use_the_envelope(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"{API}/definitely-not-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    wrong = await client.patch(f"{API}/auth/login", json={})
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_request_id_is_kept_generated_or_replaced(client: httpx.AsyncClient) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces" + "x" * 300})
    assert hostile.headers["x-request-id"] != "bad id\twith spaces" + "x" * 300
    assert len(hostile.headers["x-request-id"]) == 32


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_readiness_reports_a_dead_dependency(stack) -> None:
    settings = settings_for(stack.env, redis_url="redis://127.0.0.1:1/0")
    application = create_app(settings)
    async with application.router.lifespan_context(application), client_for(application) as c:
        response = await c.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["details"]["checks"] == {"database": "ok", "redis": "unavailable"}


async def test_openapi_document_and_docs(client: httpx.AsyncClient) -> None:
    spec = (await client.get(f"{API}/openapi.json")).json()
    assert set(spec["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyAuth"}
    assert spec["paths"][f"{API}/auth/login"]["post"]["security"] == []
    assert spec["paths"][f"{API}/org/members"]["get"]["security"]
    docs = await client.get("/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


@pytest.fixture
async def crashing_app(stack) -> AsyncIterator[FastAPI]:
    application = create_app(settings_for(stack.env))

    @application.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    async with application.router.lifespan_context(application):
        yield application


async def test_unexpected_errors_are_a_bare_500_envelope(crashing_app: FastAPI) -> None:
    async with client_for(crashing_app, raise_app_exceptions=False) as c:
        response = await c.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "INTERNAL_ERROR", "message": "Something went wrong on our side", "details": {}}
    }
    assert "secret internal detail" not in response.text


def test_production_refuses_to_start_without_secrets(stack) -> None:
    from agentflow.settings import ConfigurationError

    settings = settings_for(stack.env, jwt_secret=None, vault_master_key=None, environment="production")
    with pytest.raises(ConfigurationError, match="AGENTFLOW_JWT_SECRET"):
        create_app(settings)
