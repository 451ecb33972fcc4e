"""Anthropic through the official `anthropic` SDK: the Messages API with a system prompt, tools,
structured output, the SSE event stream and usage. Anthropic offers no embeddings API.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import anthropic
import pydantic
from anthropic.types import Message, MessageParam

from agentflow.engine.providers.base import (
    DEFAULT_TIMEOUT_SECONDS,
    ChatRequest,
    ChatResponse,
    EmbeddingResponse,
    FinishReason,
    ProviderCredentials,
    StreamDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from agentflow.engine.providers.catalog import ModelCatalog, default_catalog
from agentflow.engine.providers.clients import LoopLocal, LoopLocalLRU, credentials_key
from agentflow.engine.providers.errors import (
    ContentPolicyViolation,
    InvalidRequest,
    MalformedResponse,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeout,
    error_for_status,
    parse_retry_after,
)

if TYPE_CHECKING:
    import httpx2

# The Messages API requires an output limit; this is used when the request sets none.
DEFAULT_MAX_TOKENS = 4096
VERIFY_TIMEOUT_SECONDS = 15.0
# Distinct credential sets (orgs with their own key, plus the platform key) kept warm per event loop.
CLIENT_CACHE_SIZE = 256
JSON_INSTRUCTION = "Answer with a single JSON object and nothing else: no prose, no code fences."

_FINISH_REASONS: Mapping[str | None, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_STREAM_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
_CODE_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


def _system_and_messages(request: ChatRequest) -> tuple[str, list[MessageParam]]:
    system: list[str] = []
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            system.append(message.content)
        elif message.role == "tool":
            block = {"type": "tool_result", "tool_use_id": message.tool_call_id or "", "content": message.content}
            previous = messages[-1] if messages else None
            # All results for one assistant turn must arrive together in the next user message.
            if previous and previous["role"] == "user" and previous.get("_tool_results"):
                previous["content"].append(block)
            else:
                messages.append({"role": "user", "content": [block], "_tool_results": True})
        elif message.role == "assistant":
            blocks: list[dict[str, Any]] = []
            if message.content:
                blocks.append({"type": "text", "text": message.content})
            for call in message.tool_calls:
                blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": dict(call.arguments)})
            messages.append({"role": "assistant", "content": blocks or message.content})
        else:
            messages.append({"role": "user", "content": message.content})
    for entry in messages:
        entry.pop("_tool_results", None)
    if request.response_format == "json":
        system.append(JSON_INSTRUCTION)
    return "\n\n".join(part for part in system if part), cast(list[MessageParam], messages)


def _strip_code_fence(text: str) -> str:
    match = _CODE_FENCE.match(text)
    return match.group(1) if match else text


def map_anthropic_error(exc: Exception, provider: str, credentials: ProviderCredentials) -> ProviderError:
    """The normalized error for anything the `anthropic` SDK raised."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderTimeout(provider=provider)
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderConnectionError(provider=provider)
    if isinstance(exc, anthropic.APIStatusError):
        detail = exc.message
        code = None
        body = exc.body
        if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
            detail = str(body["error"].get("message") or detail)
            code = str(body["error"].get("type") or "")
        status = exc.status_code
        if status < 400:
            # An `error` event inside an already-open (200) stream: its type says what went wrong.
            status = _STREAM_ERROR_STATUS.get(code or "", 500)
        return error_for_status(
            provider=provider,
            status=status,
            detail=detail,
            code=code,
            retry_after=parse_retry_after(dict(exc.response.headers)),
            secrets=(credentials.api_key,),
        )
    if isinstance(exc, anthropic.APIError | pydantic.ValidationError | ValueError | KeyError | TypeError):
        # A body that is not JSON or not the documented shape.
        return MalformedResponse(provider=provider)
    raise exc


class AnthropicProvider:
    name = "anthropic"
    requires_credentials = True

    def __init__(self, catalog: ModelCatalog | None = None) -> None:
        self._catalog = catalog or default_catalog()
        # Shared per event loop by all orgs: the key travels in a per-request header only.
        self._http: LoopLocal[httpx2.AsyncClient] = LoopLocal(anthropic.DefaultAsyncHttpxClient)
        # SDK clients per credential set on that pool (building one per call costs ~0.25 ms); not
        # closed on eviction, because the pool they use is shared.
        self._clients: LoopLocalLRU[anthropic.AsyncAnthropic] = LoopLocalLRU(CLIENT_CACHE_SIZE)

    def client(self, credentials: ProviderCredentials) -> anthropic.AsyncAnthropic:
        return self._clients.get_or_create(credentials_key(credentials), lambda: self._build_client(credentials))

    def _build_client(self, credentials: ProviderCredentials) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            api_key=credentials.api_key,
            base_url=credentials.base_url,
            max_retries=0,  # the router retries, honoring Retry-After and falling back
            http_client=self._http.get(),
            # We record our own per-call metrics; no prompt content goes into third-party traces.
            open_telemetry=False,
        )

    async def aclose(self) -> None:
        """Close this event loop's connection pool and forget its clients (shutdown, tests)."""
        self._clients.clear()
        http = self._http.pop()
        if http is not None:
            await http.aclose()

    def estimate_cost(self, model: str, usage: Usage) -> Decimal:
        return self._catalog.cost(model, usage)

    def _create_arguments(self, request: ChatRequest) -> dict[str, Any]:
        system, messages = _system_and_messages(request)
        arguments: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "timeout": request.timeout_seconds,
        }
        if system:
            arguments["system"] = system
        if request.tools:
            arguments["tools"] = [
                {"name": tool.name, "description": tool.description, "input_schema": dict(tool.parameters)}
                for tool in request.tools
            ]
        if isinstance(request.response_format, Mapping):
            arguments["output_config"] = {"format": {"type": "json_schema", "schema": dict(request.response_format)}}
        if request.temperature is not None:
            # The SDK dropped `temperature` from its signature (newer models reject it); the API still
            # takes it on models that support sampling settings, so it goes in the body as-is.
            arguments["extra_body"] = {"temperature": request.temperature}
        return arguments

    async def chat(self, request: ChatRequest, credentials: ProviderCredentials) -> ChatResponse:
        started = time.perf_counter()
        try:
            message = await self.client(credentials).messages.create(**self._create_arguments(request))
            return self._normalize(request, message, started)
        except Exception as exc:
            raise map_anthropic_error(exc, self.name, credentials) from None

    def _finish(
        self, request: ChatRequest, text: str, tool_calls: tuple[ToolCall, ...], stop_reason: str | None
    ) -> tuple[str, FinishReason]:
        finish_reason = _FINISH_REASONS.get(stop_reason, "other")
        if finish_reason == "content_filter" and not text and not tool_calls:
            raise ContentPolicyViolation(provider=self.name)
        if request.response_format is not None:
            text = _strip_code_fence(text)
        return text, finish_reason

    def _normalize(self, request: ChatRequest, message: Message, started: float) -> ChatResponse:
        if not isinstance(message, Message):
            raise MalformedResponse(provider=self.name)
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in message.content:
            if block.type == "text":
                texts.append(block.text)
            elif block.type == "tool_use":
                if not isinstance(block.input, dict):
                    raise MalformedResponse("tool input is not a JSON object", provider=self.name)
                calls.append(ToolCall(block.id, block.name, block.input))
        text, finish_reason = self._finish(request, "".join(texts), tuple(calls), message.stop_reason)
        usage = Usage(message.usage.input_tokens, message.usage.output_tokens)
        return ChatResponse(
            text=text,
            tool_calls=tuple(calls),
            usage=usage,
            finish_reason=finish_reason,
            provider=self.name,
            model=message.model or request.model,
            cost=self.estimate_cost(request.model, usage),
            latency_ms=(time.perf_counter() - started) * 1000,
            requested_model=request.model,
        )

    async def stream(self, request: ChatRequest, credentials: ProviderCredentials) -> AsyncIterator[StreamEvent]:
        started = time.perf_counter()
        try:
            stream = await self.client(credentials).messages.create(**self._create_arguments(request), stream=True)
        except Exception as exc:
            raise map_anthropic_error(exc, self.name, credentials) from None
        text: list[str] = []
        # Content block index → the tool call being assembled in it.
        calls: dict[int, dict[str, Any]] = {}
        input_tokens = output_tokens = 0
        stop_reason: str | None = None
        served_model = request.model
        try:
            async for event in stream:
                if event.type == "message_start":
                    served_model = event.message.model or served_model
                    input_tokens = event.message.usage.input_tokens
                    output_tokens = event.message.usage.output_tokens
                elif event.type == "content_block_start":
                    block = event.content_block
                    if block.type == "tool_use":
                        calls[event.index] = {"id": block.id, "name": block.name, "arguments": []}
                        yield ToolCallDelta(len(calls) - 1, block.id, block.name, "")
                elif event.type == "content_block_delta":
                    delta = event.delta
                    if delta.type == "text_delta":
                        text.append(delta.text)
                        yield TextDelta(delta.text)
                    elif delta.type == "input_json_delta" and event.index in calls:
                        calls[event.index]["arguments"].append(delta.partial_json)
                        position = list(calls).index(event.index)
                        yield ToolCallDelta(position, None, None, delta.partial_json)
                elif event.type == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    output_tokens = event.usage.output_tokens
                    if event.usage.input_tokens is not None:
                        input_tokens = event.usage.input_tokens
        except Exception as exc:
            raise map_anthropic_error(exc, self.name, credentials) from None
        finally:
            await stream.close()
        tool_calls = tuple(
            ToolCall(call["id"], call["name"], _parse_input("".join(call["arguments"]), self.name))
            for call in calls.values()
        )
        final_text, finish_reason = self._finish(request, "".join(text), tool_calls, stop_reason)
        usage = Usage(input_tokens, output_tokens)
        yield StreamDone(
            ChatResponse(
                text=final_text,
                tool_calls=tool_calls,
                usage=usage,
                finish_reason=finish_reason,
                provider=self.name,
                model=served_model,
                cost=self.estimate_cost(request.model, usage),
                latency_ms=(time.perf_counter() - started) * 1000,
                requested_model=request.model,
            )
        )

    async def embed(
        self,
        model: str,
        texts: Sequence[str],
        credentials: ProviderCredentials,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> EmbeddingResponse:
        raise InvalidRequest(
            "Anthropic offers no embeddings API; choose an OpenAI or Google embedding model", provider=self.name
        )

    async def verify(self, credentials: ProviderCredentials) -> None:
        try:
            await self.client(credentials).models.list(limit=1, timeout=VERIFY_TIMEOUT_SECONDS)
        except Exception as exc:
            raise map_anthropic_error(exc, self.name, credentials) from None


def _parse_input(raw: str, provider: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MalformedResponse("the model returned tool input that is not valid JSON", provider=provider) from exc
    if not isinstance(value, dict):
        raise MalformedResponse("the model returned tool input that is not a JSON object", provider=provider)
    return value
