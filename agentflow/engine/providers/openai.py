"""OpenAI through the official `openai` SDK: chat completions (tools, JSON mode / JSON Schema,
streaming with usage), embeddings, and a key check by listing models.

`openai_compatible.py` reuses this translation for servers that speak the same wire format.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import openai
import pydantic
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam

from agentflow.engine.providers.base import (
    DEFAULT_TIMEOUT_SECONDS,
    ChatRequest,
    ChatResponse,
    EmbeddingResponse,
    FinishReason,
    ProviderCredentials,
    ResponseFormat,
    StreamDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
)
from agentflow.engine.providers.catalog import ModelCatalog, default_catalog
from agentflow.engine.providers.clients import LoopLocal, LoopLocalLRU, credentials_key
from agentflow.engine.providers.errors import (
    ContentPolicyViolation,
    MalformedResponse,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeout,
    error_for_status,
    parse_retry_after,
)

if TYPE_CHECKING:
    import httpx2

VERIFY_TIMEOUT_SECONDS = 15.0
# Distinct credential sets (orgs with their own key, plus the platform key) kept warm per event loop.
CLIENT_CACHE_SIZE = 256

_FINISH_REASONS: Mapping[str | None, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}
_SCHEMA_NAME = re.compile(r"[^A-Za-z0-9_-]")


def to_openai_messages(request: ChatRequest) -> list[ChatCompletionMessageParam]:
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "tool":
            messages.append({"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content})
        elif message.role == "assistant" and message.tool_calls:
            messages.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": json.dumps(dict(call.arguments))},
                        }
                        for call in message.tool_calls
                    ],
                }
            )
        else:
            messages.append({"role": message.role, "content": message.content})
    return cast(list[ChatCompletionMessageParam], messages)


def to_openai_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": dict(tool.parameters)},
        }
        for tool in tools
    ]


def to_openai_response_format(response_format: ResponseFormat) -> dict[str, Any] | None:
    if response_format is None:
        return None
    if response_format == "json":
        return {"type": "json_object"}
    schema = dict(response_format)
    name = _SCHEMA_NAME.sub("_", str(schema.get("title") or "response"))[:64]
    # strict=False: strict mode only accepts schemas where every property is required and no extra
    # properties are allowed, which user-written schemas rarely are; the schema still steers the model.
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


def parse_arguments(raw: str | None, provider: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        arguments = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MalformedResponse("the model returned tool arguments that are not valid JSON", provider=provider) from exc
    if not isinstance(arguments, dict):
        raise MalformedResponse("the model returned tool arguments that are not a JSON object", provider=provider)
    return arguments


def map_openai_error(exc: Exception, provider: str, credentials: ProviderCredentials) -> ProviderError:
    """The normalized error for anything the `openai` SDK raised."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout(provider=provider)
    if isinstance(exc, openai.APIConnectionError):
        return ProviderConnectionError(provider=provider)
    if isinstance(exc, openai.APIStatusError):
        body = exc.body
        detail = exc.message
        code = exc.code
        if isinstance(body, Mapping):
            error = body.get("error", body)
            if isinstance(error, Mapping):
                detail = str(error.get("message") or detail)
                code = str(error.get("code") or error.get("type") or code or "")
        return error_for_status(
            provider=provider,
            status=exc.status_code,
            detail=detail,
            code=code,
            retry_after=parse_retry_after(dict(exc.response.headers)),
            secrets=(credentials.api_key,),
        )
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return ContentPolicyViolation(provider=provider)
    if isinstance(
        exc, openai.APIResponseValidationError | pydantic.ValidationError | ValueError | KeyError | TypeError
    ):
        # A body that is not JSON or not the documented shape.
        return MalformedResponse(provider=provider)
    raise exc


class OpenAIProvider:
    """`name` is "openai"; `OpenAICompatibleProvider` reuses everything under its own name."""

    requires_credentials = True
    # The current name of the output limit; reasoning models reject the older `max_tokens`.
    max_tokens_parameter = "max_completion_tokens"

    def __init__(self, catalog: ModelCatalog | None = None, *, name: str = "openai") -> None:
        self.name = name
        self._catalog = catalog or default_catalog()
        # One connection pool per event loop shared by every org's calls: auth is a per-request
        # header, so pooled connections carry nothing of one org into another's request.
        self._http: LoopLocal[httpx2.AsyncClient] = LoopLocal(openai.DefaultAsyncHttpxClient)
        # SDK clients per credential set on that pool: building one per call costs ~0.25 ms.
        # Evicted clients are not closed, because the pool they use is shared.
        self._clients: LoopLocalLRU[openai.AsyncOpenAI] = LoopLocalLRU(CLIENT_CACHE_SIZE)

    def client(self, credentials: ProviderCredentials) -> openai.AsyncOpenAI:
        return self._clients.get_or_create(credentials_key(credentials), lambda: self.build_client(credentials))

    def build_client(self, credentials: ProviderCredentials) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=credentials.api_key,
            base_url=credentials.base_url,
            organization=credentials.extra.get("organization"),
            project=credentials.extra.get("project"),
            max_retries=0,  # the router retries, honoring Retry-After and falling back
            http_client=self._http.get(),
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
        arguments: dict[str, Any] = {
            "model": request.model,
            "messages": to_openai_messages(request),
            "timeout": request.timeout_seconds,
        }
        if request.tools:
            arguments["tools"] = to_openai_tools(request.tools)
        if request.temperature is not None:
            arguments["temperature"] = request.temperature
        if request.max_tokens is not None:
            arguments[self.max_tokens_parameter] = request.max_tokens
        response_format = to_openai_response_format(request.response_format)
        if response_format is not None:
            arguments["response_format"] = response_format
        return arguments

    async def chat(self, request: ChatRequest, credentials: ProviderCredentials) -> ChatResponse:
        started = time.perf_counter()
        try:
            completion = await self.client(credentials).chat.completions.create(**self._create_arguments(request))
            return self._normalize(request, completion, started)
        except Exception as exc:
            raise map_openai_error(exc, self.name, credentials) from None

    def _normalize(self, request: ChatRequest, completion: ChatCompletion, started: float) -> ChatResponse:
        if not isinstance(completion, ChatCompletion) or not completion.choices:
            raise MalformedResponse("the response has no choices", provider=self.name)
        choice = completion.choices[0]
        message = choice.message
        if message.refusal:
            raise ContentPolicyViolation(f"the model refused: {message.refusal[:200]}", provider=self.name)
        tool_calls = tuple(
            ToolCall(call.id, call.function.name, parse_arguments(call.function.arguments, self.name))
            for call in message.tool_calls or ()
            if call.type == "function"
        )
        finish_reason = _FINISH_REASONS.get(choice.finish_reason, "other")
        text = message.content or ""
        if finish_reason == "content_filter" and not text and not tool_calls:
            raise ContentPolicyViolation(provider=self.name)
        usage = (
            Usage(completion.usage.prompt_tokens, completion.usage.completion_tokens) if completion.usage else Usage()
        )
        return ChatResponse(
            text=text,
            tool_calls=tool_calls,
            usage=usage,
            finish_reason=finish_reason,
            provider=self.name,
            model=completion.model or request.model,
            cost=self.estimate_cost(request.model, usage),
            latency_ms=(time.perf_counter() - started) * 1000,
            requested_model=request.model,
        )

    async def stream(self, request: ChatRequest, credentials: ProviderCredentials) -> AsyncIterator[StreamEvent]:
        started = time.perf_counter()
        arguments = self._create_arguments(request)
        try:
            stream = await self.client(credentials).chat.completions.create(
                **arguments,
                stream=True,
                # Without include_usage a streamed call reports no token counts and could not be billed.
                stream_options={"include_usage": True},
            )
        except Exception as exc:
            raise map_openai_error(exc, self.name, credentials) from None
        text: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        finish: str | None = None
        usage = Usage()
        served_model = request.model
        try:
            async for chunk in stream:
                if not isinstance(chunk, ChatCompletionChunk):
                    raise MalformedResponse("unexpected stream event", provider=self.name)
                served_model = chunk.model or served_model
                if chunk.usage is not None:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices[:1]:
                    delta = choice.delta
                    if delta.content:
                        text.append(delta.content)
                        yield TextDelta(delta.content)
                    for fragment in delta.tool_calls or ():
                        call = calls.setdefault(fragment.index, {"id": None, "name": None, "arguments": []})
                        name = fragment.function.name if fragment.function else None
                        arguments_delta = (fragment.function.arguments if fragment.function else None) or ""
                        call["id"] = fragment.id or call["id"]
                        call["name"] = name or call["name"]
                        call["arguments"].append(arguments_delta)
                        yield ToolCallDelta(fragment.index, fragment.id, name, arguments_delta)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except Exception as exc:
            raise map_openai_error(exc, self.name, credentials) from None
        finally:
            await stream.close()
        tool_calls = tuple(
            ToolCall(
                call["id"] or f"call_{index}",
                call["name"] or "",
                parse_arguments("".join(call["arguments"]), self.name),
            )
            for index, call in sorted(calls.items())
        )
        finish_reason = _FINISH_REASONS.get(finish, "other")
        if finish_reason == "content_filter" and not text and not tool_calls:
            raise ContentPolicyViolation(provider=self.name)
        yield StreamDone(
            ChatResponse(
                text="".join(text),
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
        started = time.perf_counter()
        try:
            result = await self.client(credentials).embeddings.create(
                model=model,
                input=list(texts),
                # Floats, not the SDK's default base64: self-hosted servers do not all speak base64.
                encoding_format="float",
                timeout=timeout_seconds,
            )
            vectors = [list(item.embedding) for item in sorted(result.data, key=lambda item: item.index)]
            if len(vectors) != len(texts):
                raise MalformedResponse("the number of vectors does not match the number of texts", provider=self.name)
            usage = Usage(result.usage.prompt_tokens, 0) if result.usage else Usage()
        except Exception as exc:
            raise map_openai_error(exc, self.name, credentials) from None
        return EmbeddingResponse(
            vectors=vectors,
            usage=usage,
            provider=self.name,
            model=result.model or model,
            cost=self.estimate_cost(model, usage),
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    async def verify(self, credentials: ProviderCredentials) -> None:
        try:
            await self.client(credentials).models.list(timeout=VERIFY_TIMEOUT_SECONDS)
        except Exception as exc:
            raise map_openai_error(exc, self.name, credentials) from None
