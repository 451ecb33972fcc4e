"""The FastAPI application: `uvicorn agentflow.app:create_app --factory`."""

from __future__ import annotations

import base64
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import text

from agentflow.agents.router import router as agents_router
from agentflow.apikeys.router import router as api_keys_router
from agentflow.audit.router import router as audit_router
from agentflow.auth.router import router as auth_router
from agentflow.engine.providers import build_providers, default_catalog
from agentflow.executions.router import router as executions_router
from agentflow.executions.stream import EventHub
from agentflow.integrations.router import router as integrations_router
from agentflow.kit.db import Database
from agentflow.kit.errors import error_response, install_error_handlers
from agentflow.kit.logging import configure_logging
from agentflow.kit.middleware import RequestContextMiddleware
from agentflow.kit.ratelimit import RateLimiter
from agentflow.kit.redaction import register_settings_secrets
from agentflow.kit.vault import vault_from_settings
from agentflow.llm.router import router as llm_router
from agentflow.orgs.router import router as orgs_router
from agentflow.settings import Settings, get_settings
from agentflow.templates.router import router as templates_router
from agentflow.triggers.router import router as triggers_router
from agentflow.webui import ui_directory, web_app_mount
from agentflow.worker import create_celery

API_PREFIX = "/api/v1"
log = logging.getLogger("agentflow.app")

# Routes that answer without authentication. Reviewed list: anything else must authenticate,
# and tests/test_route_inventory.py fails when a new route is neither.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("POST", f"{API_PREFIX}/auth/signup"),
        ("POST", f"{API_PREFIX}/auth/login"),
        ("POST", f"{API_PREFIX}/auth/refresh"),
        ("POST", f"{API_PREFIX}/auth/logout"),
        ("POST", f"{API_PREFIX}/auth/accept-invite"),
        # Authenticated by the secret token in its URL (and, by default, an HMAC signature).
        ("POST", f"{API_PREFIX}/hooks/{{token}}"),
    }
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check_ready()
    configure_logging(settings.log_level, json=settings.log_json)
    register_settings_secrets(settings)  # never let a configured secret reach a log line

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(
            settings.database_url or "", pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        app.state.redis = Redis.from_url(settings.redis_url or "", decode_responses=True)
        app.state.rate_limiter = RateLimiter(app.state.redis, enabled=settings.rate_limit_enabled)
        app.state.vault = vault_from_settings(settings)
        app.state.model_catalog = default_catalog()
        app.state.llm_providers = build_providers(app.state.model_catalog)
        app.state.celery = create_celery(settings)
        app.state.event_hub = EventHub(app.state.redis)  # one pub/sub connection for all live streams
        # Everything built so far lives as long as the process: move it out of the cyclic GC's
        # reach, so a full collection no longer scans it (~90 ms pauses under load otherwise,
        # the p99 tail in bench/api_bench.py).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await app.state.event_hub.close()
            await app.state.db.dispose()
            await app.state.redis.aclose()

    app = FastAPI(
        title="AgentFlow API",
        version="1.0",
        description="Design, publish and run AI agent workflows.",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    if settings.cors_origins:
        # Only for a UI served from another origin; the embedded default serves it same-origin.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID", "Idempotency-Key"],
            expose_headers=["X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
        )
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)

    # Each router straight into the app, not through one more APIRouter: FastAPI walks the tree of
    # included routers on every request to match it (bench/api_bench.py).
    for router in (
        auth_router,
        orgs_router,
        api_keys_router,
        audit_router,
        agents_router,
        templates_router,
        llm_router,
        executions_router,
        integrations_router,
        triggers_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    _add_health_routes(app)
    if (ui := ui_directory(settings)) is not None:
        app.router.routes.append(web_app_mount(ui))  # last: every API route matches first
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, built without any server: the placeholder settings are never used to
    connect (the app's lifespan does not run)."""
    placeholder = Settings(
        database_url="postgresql://openapi@127.0.0.1:9/openapi",
        redis_url="redis://127.0.0.1:9/0",
        jwt_secret=SecretStr("openapi-document-only-" + "x" * 32),
        vault_master_key=SecretStr(base64.urlsafe_b64encode(bytes(32)).decode()),
    )
    return create_app(placeholder).openapi()


def _add_health_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"], include_in_schema=True)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], response_model=None)
    async def readyz() -> dict[str, Any] | JSONResponse:
        """Readiness: PostgreSQL and Redis both answer."""
        checks: dict[str, str] = {}
        try:
            async with app.state.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            log.warning("database not ready", extra={"error": type(exc).__name__})
            checks["database"] = "unavailable"
        try:
            await app.state.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            log.warning("redis not ready", extra={"error": type(exc).__name__})
            checks["redis"] = "unavailable"
        if all(v == "ok" for v in checks.values()):
            return {"status": "ok", "checks": checks}
        return error_response(503, "NOT_READY", "A dependency is unavailable", {"checks": checks})


def _openapi(app: FastAPI) -> dict[str, Any]:
    """OpenAPI with both auth schemes declared, so Swagger UI's Authorize button works."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schema.setdefault("components", {})["securitySchemes"] = {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            public = (method.upper(), path) in PUBLIC_ROUTES
            operation["security"] = [] if public else [{"bearerAuth": []}, {"apiKeyAuth": []}]
    app.openapi_schema = schema
    return schema
