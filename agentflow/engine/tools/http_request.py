"""The `http.request` tool: one HTTP call to a URL the flow author wrote, through the egress guard.

Every hop goes through `kit.egress.PinnedEgressTransport` (the first request and each redirect,
which we follow ourselves, at most MAX_REDIRECTS): http(s) only, the host must resolve only to
public addresses unless it is in the allowed hosts, and the connection goes to one of the addresses
that were checked, never to a second lookup of the name (DNS rebinding).

Auth from the vault: with a `credential_id` on the node, the connected HTTP integration's secret
(bearer token, basic auth, an API-key header or query parameter) is added to the request here. It
goes only to the URL's own origin: a redirect elsewhere is followed without it, as browsers do. A
query-parameter key is removed from every URL the step reports (output and errors), since those
are stored.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentflow.engine.tools import RetryableToolError, ToolContext, ToolError
from agentflow.kit.egress import EgressBlocked, PinnedEgressTransport, Resolver, system_resolver

MAX_REDIRECTS = 5
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class HttpRequestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = "GET"
    url: str = Field(min_length=1, max_length=8000)
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str | int | float | bool] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    form: dict[str, str] | None = None
    timeout_seconds: float | None = Field(default=None, gt=0, le=300)
    response_format: Literal["auto", "json", "text"] = "auto"
    fail_on_error_status: bool = Field(default=True, description="4xx/5xx answers fail the step (error handle).")

    @model_validator(mode="after")
    def _one_body(self) -> HttpRequestParams:
        if self.json_body is not None and self.form is not None:
            raise ValueError("send either json or form, not both")
        return self


class HttpRequestTool:
    name = "http.request"
    params_model = HttpRequestParams

    def __init__(
        self,
        *,
        resolver: Resolver = system_resolver,
        transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        """`resolver` answers the egress check's lookups; `transport_factory` makes the transports that
        connect to the vetted addresses (default: httpx's, no retries) — e.g. one trusting a test CA."""
        self._resolver = resolver
        self._transport_factory = transport_factory

    async def run(self, params: Any, ctx: ToolContext) -> dict[str, Any]:
        assert isinstance(params, HttpRequestParams)
        timeout = min(params.timeout_seconds or ctx.timeout_seconds, ctx.timeout_seconds)
        auth = Auth(ctx.credential)
        transport = PinnedEgressTransport(
            ctx.egress_allowed_hosts, resolver=self._resolver, transport_factory=self._transport_factory
        )
        try:
            async with httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False) as client:
                response = await self._send(client, params, auth)
        except EgressBlocked as error:
            raise ToolError(str(error.args[0] if error.args else error), code="URL_NOT_ALLOWED") from None
        except httpx.TimeoutException:
            raise RetryableToolError(
                f"{params.method} {params.url} timed out after {timeout:g}s", code="TIMEOUT"
            ) from None
        except httpx.TransportError as error:
            raise RetryableToolError(f"{params.method} {params.url} failed: {error}", code="CONNECTION") from None
        except httpx.InvalidURL as error:
            raise ToolError(f"invalid URL: {error}", code="INVALID_URL") from None
        result = _parse(response, params.response_format)
        result["url"] = auth.scrub(response.url)
        if params.fail_on_error_status and response.status_code >= 400:
            error_class = RetryableToolError if response.status_code in RETRYABLE_STATUSES else ToolError
            raise error_class(f"{params.method} {result['url']} answered {response.status_code}", code="HTTP_STATUS")
        return result

    async def _send(self, client: httpx.AsyncClient, params: HttpRequestParams, auth: Auth) -> httpx.Response:
        method = params.method
        url: httpx.URL | str = params.url
        origin = _origin(httpx.URL(params.url))
        query: dict[str, Any] | None = {k: _query_value(v) for k, v in params.query.items()} or None
        body: dict[str, Any] = {}
        if params.json_body is not None:
            body["json"] = params.json_body
        elif params.form is not None:
            body["data"] = params.form
        for _ in range(MAX_REDIRECTS + 1):
            request = client.build_request(method, url, headers=params.headers, params=query, **body)
            if _origin(request.url) == origin:
                auth.apply(request)
            response = await client.send(request, stream=True)
            try:
                if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
                    await _read_bounded(response)
                    return response
            finally:
                await response.aclose()
            url = response.url.join(response.headers["location"])
            query = None  # the Location is complete
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, body = "GET", {}
        raise ToolError(f"more than {MAX_REDIRECTS} redirects", code="TOO_MANY_REDIRECTS")


class Auth:
    """A connected HTTP integration's secret, as it goes onto a request."""

    def __init__(self, credential: Mapping[str, Any] | None) -> None:
        self.credential = credential or {}

    def apply(self, request: httpx.Request) -> None:
        kind = self.credential.get("type")
        if kind == "bearer":
            request.headers["Authorization"] = f"Bearer {self.credential['token']}"
        elif kind == "basic":
            pair = f"{self.credential['username']}:{self.credential['password']}".encode()
            request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        elif kind == "header":
            request.headers[str(self.credential["name"])] = str(self.credential["value"])
        elif kind == "query":
            request.url = request.url.copy_set_param(str(self.credential["name"]), str(self.credential["value"]))

    def scrub(self, url: httpx.URL) -> str:
        """The URL as a step may record it: without a query-parameter secret."""
        if self.credential.get("type") == "query":
            url = url.copy_remove_param(str(self.credential["name"]))
        return str(url)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


async def _read_bounded(response: httpx.Response) -> None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise ToolError(f"the response is larger than {MAX_RESPONSE_BYTES} bytes", code="RESPONSE_TOO_LARGE")
        chunks.append(chunk)
    response._content = b"".join(chunks)


def _query_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse(response: httpx.Response, response_format: str) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "")
    text = response.content.decode(response.encoding or "utf-8", errors="replace")
    body: Any = text
    if response_format == "json" or (response_format == "auto" and "json" in content_type):
        try:
            body = json.loads(text) if text else None
        except ValueError:
            if response_format == "json":
                raise ToolError("the response is not valid JSON", code="INVALID_JSON") from None
    return {
        "status": response.status_code,
        "headers": dict(response.headers),
        "body": body,
        "url": str(response.url),
    }
