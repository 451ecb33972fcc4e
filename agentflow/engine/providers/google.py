"""Google Gemini (the Gemini Developer API) through the official `google-genai` SDK:
generate_content, streaming, function calling, JSON Schema output and embeddings.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx2
import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

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
from agentflow.engine.providers.clients import LoopLocalLRU, credentials_key
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

DEFAULT_API_VERSION = "v1beta"
VERIFY_TIMEOUT_SECONDS = 15.0
# Distinct credential sets kept warm per event loop; building a client costs ~50 ms.
CLIENT_CACHE_SIZE = 64

_FINISH_REASONS: Mapping[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}


def _retry_after(error: genai_errors.APIError) -> float | None:
    """Seconds from a Retry-After header, else from the RetryInfo detail Gemini puts in 429 bodies."""
    headers = getattr(error.response, "headers", None)
    from_header = parse_retry_after(dict(headers)) if headers is not None else None
    if from_header is not None:
        return from_header
    details = error.details.get("error", error.details) if isinstance(error.details, Mapping) else None
    for detail in (details or {}).get("details", []) if isinstance(details, Mapping) else []:
        delay = detail.get("retryDelay") if isinstance(detail, Mapping) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                return None
    return None


def map_google_error(exc: Exception, provider: str, credentials: ProviderCredentials) -> ProviderError:
    """The normalized error for anything the `google-genai` SDK (or its HTTP client) raised."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, httpx2.TimeoutException | asyncio.TimeoutError):
        return ProviderTimeout(provider=provider)
    if isinstance(exc, httpx2.TransportError):
        return ProviderConnectionError(provider=provider)
    if isinstance(exc, httpx2.InvalidURL):
        # The connection settings (base_url, api_version) make no valid URL: retrying cannot help.
        return InvalidRequest("the connection settings do not make a valid URL", provider=provider)
    if isinstance(exc, genai_errors.APIError):
        return error_for_status(
            provider=provider,
            status=exc.code or 500,
            detail=exc.message or "",
            code=exc.status,
            retry_after=_retry_after(exc),
            secrets=(credentials.api_key,),
        )
    if isinstance(exc, pydantic.ValidationError | ValueError | KeyError | TypeError | AttributeError):
        # A body that is not JSON or not the documented shape.
        return MalformedResponse(provider=provider)
    raise exc


def _function_response(content: str) -> dict[str, Any]:
    """Gemini wants a tool's result as a JSON object; wrap anything else."""
    try:
        value = json.loads(content)
    except json.JSONDecodeError:
        return {"result": content}
    return value if isinstance(value, dict) else {"result": value}


def _contents(request: ChatRequest) -> tuple[str, list[types.Content]]:
    system: list[str] = []
    contents: list[types.Content] = []
    names_by_call_id: dict[str, str] = {}
    for message in request.messages:
        if message.role == "system":
            system.append(message.content)
        elif message.role == "assistant":
            parts: list[types.Part] = []
            if message.content:
                parts.append(types.Part(text=message.content))
            for call in message.tool_calls:
                names_by_call_id[call.id] = call.name
                parts.append(
                    types.Part(
                        function_call=types.FunctionCall(id=call.id, name=call.name, args=dict(call.arguments)),
                        thought_signature=base64.b64decode(call.signature) if call.signature else None,
                    )
                )
            contents.append(types.Content(role="model", parts=parts or [types.Part(text="")]))
        elif message.role == "tool":
            call_id = message.tool_call_id or ""
            part = types.Part(
                function_response=types.FunctionResponse(
                    id=call_id or None,
                    name=names_by_call_id.get(call_id, call_id),
                    response=_function_response(message.content),
                )
            )
            previous = contents[-1] if contents else None
            # Results of one turn's parallel calls travel together in one user turn.
            if previous and previous.role == "user" and previous.parts and previous.parts[-1].function_response:
                previous.parts.append(part)
            else:
                contents.append(types.Content(role="user", parts=[part]))
        else:
            contents.append(types.Content(role="user", parts=[types.Part(text=message.content)]))
    return "\n\n".join(part for part in system if part), contents


class GoogleProvider:
    name = "google"
    requires_credentials = True

    def __init__(self, catalog: ModelCatalog | None = None) -> None:
        self._catalog = catalog or default_catalog()
        self._clients: LoopLocalLRU[genai.Client] = LoopLocalLRU(CLIENT_CACHE_SIZE, on_evict=_close_later)

    def client(self, credentials: ProviderCredentials) -> genai.Client:
        def build() -> genai.Client:
            return genai.Client(
                # Explicit, so GOOGLE_GENAI_USE_VERTEXAI / _ENTERPRISE in the environment cannot redirect it.
                enterprise=False,
                vertexai=False,
                api_key=credentials.api_key,
                http_options=types.HttpOptions(
                    base_url=credentials.base_url,
                    api_version=credentials.extra.get("api_version", DEFAULT_API_VERSION),
                    # One attempt: the router retries, honoring Retry-After and falling back.
                    retry_options=types.HttpRetryOptions(attempts=1),
                ),
            )

        return self._clients.get_or_create(credentials_key(credentials), build)

    async def aclose(self) -> None:
        """Close this event loop's clients (tests and orderly shutdown)."""
        for client in self._clients.clear():
            await client.aio.aclose()

    def estimate_cost(self, model: str, usage: Usage) -> Decimal:
        return self._catalog.cost(model, usage)

    def _config(self, request: ChatRequest, system: str) -> types.GenerateContentConfig:
        config = types.GenerateContentConfig(
            system_instruction=system or None,
            temperature=request.temperature,
            max_output_tokens=request.max_tokens,
            http_options=types.HttpOptions(timeout=math.ceil(request.timeout_seconds * 1000)),
            # Tools here are declarations only; the engine runs them, never the SDK.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        if request.tools:
            config.tools = [
                types.Tool(
                    function_declarations=[
                        types.FunctionDeclaration(
                            name=tool.name,
                            description=tool.description,
                            parameters_json_schema=dict(tool.parameters),
                        )
                        for tool in request.tools
                    ]
                )
            ]
        if request.response_format is not None:
            config.response_mime_type = "application/json"
            if isinstance(request.response_format, Mapping):
                config.response_json_schema = dict(request.response_format)
        return config

    async def chat(self, request: ChatRequest, credentials: ProviderCredentials) -> ChatResponse:
        started = time.perf_counter()
        try:
            system, contents = _contents(request)
            response = await self.client(credentials).aio.models.generate_content(
                model=request.model, contents=contents, config=self._config(request, system)
            )
            text, tool_calls, finish = self._read(response, call_offset=0)
            return self._response(request, text, tool_calls, finish, _usage(response), response.model_version, started)
        except Exception as exc:
            raise map_google_error(exc, self.name, credentials) from None

    def _read(
        self, response: types.GenerateContentResponse, *, call_offset: int
    ) -> tuple[str, list[ToolCall], str | None]:
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            raise ContentPolicyViolation(
                f"the prompt was blocked ({_enum_name(feedback.block_reason)})", provider=self.name
            )
        if not response.candidates:
            return "", [], None
        candidate = response.candidates[0]
        texts: list[str] = []
        calls: list[ToolCall] = []
        for part in (candidate.content.parts if candidate.content else None) or ():
            if part.thought:
                continue  # the model's reasoning, not its answer
            if part.text:
                texts.append(part.text)
            if part.function_call is not None:
                call = part.function_call
                signature = base64.b64encode(part.thought_signature).decode() if part.thought_signature else None
                calls.append(
                    ToolCall(
                        id=call.id or f"call_{call_offset + len(calls)}",
                        name=call.name or "",
                        arguments=dict(call.args or {}),
                        signature=signature,
                    )
                )
        finish = _enum_name(candidate.finish_reason) if candidate.finish_reason is not None else None
        return "".join(texts), calls, finish

    def _response(
        self,
        request: ChatRequest,
        text: str,
        tool_calls: Sequence[ToolCall],
        finish: str | None,
        usage: Usage,
        served_model: str | None,
        started: float,
    ) -> ChatResponse:
        finish_reason: FinishReason = _FINISH_REASONS.get(finish or "", "other" if finish else "stop")
        if tool_calls and finish_reason == "stop":
            finish_reason = "tool_calls"  # Gemini reports STOP after a function call
        if finish_reason == "content_filter" and not text and not tool_calls:
            raise ContentPolicyViolation(f"the answer was blocked ({finish})", provider=self.name)
        return ChatResponse(
            text=text,
            tool_calls=tuple(tool_calls),
            usage=usage,
            finish_reason=finish_reason,
            provider=self.name,
            model=served_model or request.model,
            cost=self.estimate_cost(request.model, usage),
            latency_ms=(time.perf_counter() - started) * 1000,
            requested_model=request.model,
        )

    async def stream(self, request: ChatRequest, credentials: ProviderCredentials) -> AsyncIterator[StreamEvent]:
        started = time.perf_counter()
        try:
            system, contents = _contents(request)
            chunks = await self.client(credentials).aio.models.generate_content_stream(
                model=request.model, contents=contents, config=self._config(request, system)
            )
        except Exception as exc:
            raise map_google_error(exc, self.name, credentials) from None
        text: list[str] = []
        calls: list[ToolCall] = []
        finish: str | None = None
        usage = Usage()
        served_model: str | None = None
        try:
            async for chunk in chunks:
                piece, new_calls, chunk_finish = self._read(chunk, call_offset=len(calls))
                if piece:
                    text.append(piece)
                    yield TextDelta(piece)
                for call in new_calls:
                    # Gemini sends each function call whole, never in fragments.
                    yield ToolCallDelta(len(calls), call.id, call.name, json.dumps(dict(call.arguments)))
                    calls.append(call)
                finish = chunk_finish or finish
                served_model = chunk.model_version or served_model
                if chunk.usage_metadata is not None:
                    usage = _usage(chunk)
        except Exception as exc:
            raise map_google_error(exc, self.name, credentials) from None
        yield StreamDone(self._response(request, "".join(text), calls, finish, usage, served_model, started))

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
            result = await self.client(credentials).aio.models.embed_content(
                model=model,
                contents=list(texts),
                config=types.EmbedContentConfig(
                    http_options=types.HttpOptions(timeout=math.ceil(timeout_seconds * 1000))
                ),
            )
            vectors = [list(embedding.values or ()) for embedding in result.embeddings or ()]
            if len(vectors) != len(texts):
                raise MalformedResponse("the number of vectors does not match the number of texts", provider=self.name)
        except Exception as exc:
            raise map_google_error(exc, self.name, credentials) from None
        reported = result.usage_metadata.prompt_token_count if result.usage_metadata else None
        if reported is not None:
            usage = Usage(reported, 0)
        else:
            # The Gemini API reports no token count for embeddings; ~4 characters per token is
            # Google's own rule of thumb, and the usage is marked as an estimate.
            usage = Usage(sum(math.ceil(len(text) / 4) for text in texts), 0, estimated=True)
        return EmbeddingResponse(
            vectors=vectors,
            usage=usage,
            provider=self.name,
            model=model,
            cost=self.estimate_cost(model, usage),
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    async def verify(self, credentials: ProviderCredentials) -> None:
        try:
            await self.client(credentials).aio.models.list(
                config=types.ListModelsConfig(
                    page_size=1, http_options=types.HttpOptions(timeout=int(VERIFY_TIMEOUT_SECONDS * 1000))
                )
            )
        except Exception as exc:
            raise map_google_error(exc, self.name, credentials) from None


def _usage(response: types.GenerateContentResponse) -> Usage:
    metadata = response.usage_metadata
    if metadata is None:
        return Usage()
    # Thinking tokens are billed as output.
    output = (metadata.candidates_token_count or 0) + (metadata.thoughts_token_count or 0)
    prompt = (metadata.prompt_token_count or 0) + (metadata.tool_use_prompt_token_count or 0)
    return Usage(prompt, output)


def _enum_name(value: Any) -> str:
    return str(getattr(value, "value", value))


def _close_later(client: genai.Client) -> None:
    # Eviction happens inside a running loop (a call is being made); close without blocking it.
    task = asyncio.get_running_loop().create_task(client.aio.aclose())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


_closing: set[asyncio.Task[None]] = set()
