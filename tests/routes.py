"""The app's route inventory, read from the app itself so a route added later is covered by every
test that walks it.

A route is keyed by `(method, path template)`, e.g. `("GET", "/api/v1/org/members/{member_id}")`.
`collection_time_app()` lists the routes without any server, so modules can parametrize over them
at collection time.
"""

from __future__ import annotations

import functools
import random
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, RouteContext, iter_route_contexts

from agentflow.app import PUBLIC_ROUTES, create_app
from tests.api_fixtures import settings_for

RouteKey = tuple[str, str]

# A path parameter in a route template: `{name}` or `{name:converter}`; group 1 is the name.
PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")

# Settings values that let `create_app` build the app; nothing connects to them.
_COLLECTION_ENV = {
    "AGENTFLOW_DATABASE_URL": "postgresql://collect@127.0.0.1:9/collect",
    "AGENTFLOW_MIGRATION_DATABASE_URL": "postgresql://collect@127.0.0.1:9/collect",
    "AGENTFLOW_REDIS_URL": "redis://127.0.0.1:9/0",
    "AGENTFLOW_JWT_SECRET": "collection-only-" + "x" * 32,
    "AGENTFLOW_VAULT_MASTER_KEY": "collection-only",
}


@functools.cache
def collection_time_app() -> FastAPI:
    """The app built (not started) from dummy settings: listing its routes needs no servers."""
    return create_app(settings_for(_COLLECTION_ENV))


def api_routes(application: FastAPI) -> list[RouteContext]:
    """Every API route with its full path and dependencies.

    FastAPI keeps an included router as one lazy entry in `app.routes`; `iter_route_contexts`
    (what FastAPI's own OpenAPI generator walks) expands it into the effective routes.
    """
    return [c for c in iter_route_contexts(application.routes) if isinstance(c.original_route, APIRoute)]


def websocket_paths(application: FastAPI) -> list[str]:
    """The full path of every WebSocket route. They are no `APIRoute`s (no methods, nothing in the
    OpenAPI document), so every walk over `api_routes` misses them: tests/test_route_inventory.py
    holds them to a reviewed list instead."""
    return [
        str(c.path) for c in iter_route_contexts(application.routes) if isinstance(c.original_route, APIWebSocketRoute)
    ]


def route_keys(application: FastAPI) -> list[RouteKey]:
    """`(method, path)` of every API route, once per route and method (repeats kept)."""
    return [(method, str(route.path)) for route in api_routes(application) for method in route.methods or ()]


def routes_by_key(application: FastAPI) -> dict[RouteKey, RouteContext]:
    """`(method, path)` -> the route that serves it (the first registered, as routing picks it)."""
    routes: dict[RouteKey, RouteContext] = {}
    for route in api_routes(application):
        for method in route.methods or ():
            routes.setdefault((method, str(route.path)), route)
    return routes


def protected_routes(application: FastAPI) -> dict[RouteKey, RouteContext]:
    """Every route not on the reviewed `PUBLIC_ROUTES` list, i.e. every one that must authenticate."""
    return {key: route for key, route in routes_by_key(application).items() if key not in PUBLIC_ROUTES}


def route_id(key: RouteKey) -> str:
    """A readable pytest id for a route: `GET /api/v1/org`."""
    return f"{key[0]} {key[1]}"


def path_param_types(route: RouteContext) -> dict[str, Any]:
    """Path parameter name -> its declared type (`uuid.UUID` for ids, `int` for version numbers,
    `str` for names such as an LLM provider's)."""
    return {param.name: param.field_info.annotation for param in route.dependant.path_params}


# A name no route knows, shaped like the ones they do (lowercase letters: `openai`, `anthropic`).
UNKNOWN_NAME = "nope"


def random_path_value(kind: Any) -> str:
    """A valid value of that type that names nothing: a fresh UUID, a number no test reaches, or
    for a name (`str`) one no route knows."""
    if kind is int:
        return str(random.randint(100_000, 999_999))
    if kind is str:
        return UNKNOWN_NAME
    return str(uuid.uuid4())


def with_random_ids(template: str, route: RouteContext | None = None) -> str:
    """The path template with a fresh random value in every path parameter: a UUID, or for the
    `int` and `str` parameters of `route` (a version number, a provider's name) a number or a name
    that names nothing."""
    kinds = path_param_types(route) if route is not None else {}
    return PATH_PARAM.sub(lambda m: random_path_value(kinds.get(m.group(1), uuid.UUID)), template)


def dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """Every callable a route depends on, at any depth (sub-dependencies included)."""
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from dependency_calls(dependency)
