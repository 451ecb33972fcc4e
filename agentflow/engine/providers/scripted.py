"""An offline, deterministic provider for tests and for the demo when no API key is configured.

It is clearly not a language model: its models are named `scripted-*` and their answers say so.
Same request in, same response out, no network, no key, cost 0. The script:

- `scripted-echo` answers with the last user message, unchanged.
- `scripted-demo` answers with a short canned sentence that quotes the last user message.
- A user message containing `call:<tool_name>` (optionally followed by a JSON object of arguments,
  e.g. `call:get_weather {"city": "Paris"}`) makes the model call that tool, if it was offered;
  without a JSON object the arguments are placeholders built from the tool's parameter schema.
- After tool results (the conversation ends with `tool` messages) the answer reports them:
  `Tool get_weather returned: {...}`.
- With `response_format="json"` the answer is `{"reply": <text>}`; with a JSON Schema it is a value
  matching the schema built from placeholders (first enum value, `"example"`, 0, false, one item).
- `scripted-embedding` embeds text as a hashed bag of words (64 dimensions, unit length), so texts
  sharing words are close: good enough to demo retrieval, deterministic across processes.

Streaming yields the answer word by word. Usage counts words: input = words in all messages,
output = words in the answer.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from agentflow.engine.providers.base import (
    DEFAULT_TIMEOUT_SECONDS,
    ChatRequest,
    ChatResponse,
    EmbeddingResponse,
    ProviderCredentials,
    StreamDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
)
from agentflow.engine.providers.errors import InvalidRequest, ModelNotFound

CHAT_MODELS = ("scripted-echo", "scripted-demo")
EMBEDDING_MODEL = "scripted-embedding"
EMBEDDING_DIMENSIONS = 64
DEMO_PREFIX = "[scripted demo reply — no language model was called] You said:"

_TOOL_REQUEST = re.compile(r"call:([A-Za-z0-9_.\-]+)")
_WORD = re.compile(r"\S+\s*")
_TOKEN = re.compile(r"[a-z0-9]+")


def count_words(text: str) -> int:
    return len(text.split())


def placeholder(schema: Mapping[str, Any], depth: int = 0) -> Any:
    """A value that satisfies the common JSON Schema keywords, built without any randomness."""
    if depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if options:
            return placeholder(options[0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        properties: Mapping[str, Any] = schema.get("properties", {})
        return {name: placeholder(sub, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        items = schema.get("items", {})
        count = max(1, int(schema.get("minItems", 1)))
        return [placeholder(items if isinstance(items, Mapping) else {}, depth + 1) for _ in range(count)]
    if kind == "string":
        text = "example"
        minimum = int(schema.get("minLength", 0))
        return text if len(text) >= minimum else text + "x" * (minimum - len(text))
    if kind == "integer":
        return max(0, int(schema.get("minimum", 0)))
    if kind == "number":
        return max(0.0, float(schema.get("minimum", 0)))
    if kind == "boolean":
        return False
    return None


class ScriptedProvider:
    name = "scripted"
    requires_credentials = False

    def estimate_cost(self, model: str, usage: Usage) -> Decimal:
        return Decimal(0)

    def _answer(self, request: ChatRequest) -> tuple[str, tuple[ToolCall, ...]]:
        if request.model not in CHAT_MODELS:
            raise ModelNotFound(f"the scripted provider has no chat model {request.model!r}", provider=self.name)
        trailing_results = []
        for message in reversed(request.messages):
            if message.role != "tool":
                break
            trailing_results.append(message)
        if trailing_results:
            names = {call.id: call.name for m in request.messages for call in m.tool_calls}
            text = "\n".join(
                f"Tool {names.get(m.tool_call_id or '', m.tool_call_id)} returned: {m.content}"
                for m in reversed(trailing_results)
            )
            return self._format(request, text), ()
        last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        call = self._tool_call(last_user, request.tools)
        if call is not None:
            return "", (call,)
        text = last_user if request.model == "scripted-echo" else f"{DEMO_PREFIX} {last_user}"
        return self._format(request, text), ()

    def _tool_call(self, text: str, tools: Sequence[ToolSpec]) -> ToolCall | None:
        match = _TOOL_REQUEST.search(text)
        if match is None:
            return None
        tool = next((t for t in tools if t.name == match.group(1)), None)
        if tool is None:
            return None
        rest = text[match.end() :].strip()
        arguments: Any = None
        if rest.startswith("{"):
            try:
                arguments, _ = json.JSONDecoder().raw_decode(rest)
            except json.JSONDecodeError:
                arguments = None
        if not isinstance(arguments, dict):
            arguments = placeholder(tool.parameters) or {}
        digest = hashlib.sha256(f"{tool.name}:{json.dumps(arguments, sort_keys=True)}".encode()).hexdigest()
        return ToolCall(id=f"call_{digest[:12]}", name=tool.name, arguments=arguments)

    def _format(self, request: ChatRequest, text: str) -> str:
        if request.response_format is None:
            return text
        if request.response_format == "json":
            return json.dumps({"reply": text})
        return json.dumps(placeholder(request.response_format))

    def _response(self, request: ChatRequest, text: str, calls: tuple[ToolCall, ...], started: float) -> ChatResponse:
        output_words = count_words(text) + sum(count_words(json.dumps(dict(c.arguments))) for c in calls)
        usage = Usage(sum(count_words(m.content) for m in request.messages), output_words)
        return ChatResponse(
            text=text,
            tool_calls=calls,
            usage=usage,
            finish_reason="tool_calls" if calls else "stop",
            provider=self.name,
            model=request.model,
            cost=Decimal(0),
            latency_ms=(time.perf_counter() - started) * 1000,
            requested_model=request.model,
        )

    async def chat(self, request: ChatRequest, credentials: ProviderCredentials) -> ChatResponse:
        started = time.perf_counter()
        text, calls = self._answer(request)
        return self._response(request, text, calls, started)

    async def stream(self, request: ChatRequest, credentials: ProviderCredentials) -> AsyncIterator[StreamEvent]:
        started = time.perf_counter()
        text, calls = self._answer(request)
        for word in _WORD.findall(text):
            yield TextDelta(word)
        for index, call in enumerate(calls):
            yield ToolCallDelta(index, call.id, call.name, json.dumps(dict(call.arguments)))
        yield StreamDone(self._response(request, text, calls, started))

    async def embed(
        self,
        model: str,
        texts: Sequence[str],
        credentials: ProviderCredentials,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> EmbeddingResponse:
        if model != EMBEDDING_MODEL:
            raise InvalidRequest(f"the scripted provider embeds only with {EMBEDDING_MODEL!r}", provider=self.name)
        started = time.perf_counter()
        vectors = [hashed_bag_of_words(text) for text in texts]
        usage = Usage(sum(count_words(text) for text in texts), 0)
        return EmbeddingResponse(
            vectors=vectors,
            usage=usage,
            provider=self.name,
            model=model,
            cost=Decimal(0),
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    async def verify(self, credentials: ProviderCredentials) -> None:
        return None


def hashed_bag_of_words(text: str, dimensions: int = EMBEDDING_DIMENSIONS) -> list[float]:
    vector = [0.0] * dimensions
    for token in _TOKEN.findall(text.lower()):
        digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "big") % dimensions
        sign = 1.0 if digest[4] & 1 else -1.0
        vector[bucket] += sign
    norm = math.sqrt(sum(value * value for value in vector))
    return [value / norm for value in vector] if norm else vector
