"""The provider interface: normalized requests, responses, stream events and the `LLMProvider` protocol.

Every provider file translates between these types and its SDK, so nodes, the router and cost
accounting never see a provider-specific shape. Frozen dataclasses (not pydantic) because these are
built on every call and the router's overhead budget is well under a millisecond.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

Role: TypeAlias = Literal["system", "user", "assistant", "tool"]
FinishReason: TypeAlias = Literal["stop", "length", "tool_calls", "content_filter", "other"]
# None: free text. "json": any JSON object. A dict: a JSON Schema the answer must match.
ResponseFormat: TypeAlias = Literal["json"] | Mapping[str, Any] | None

DEFAULT_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A model's request to call one of the offered tools."""

    id: str
    name: str
    arguments: Mapping[str, Any]
    # Opaque provider continuation data (Gemini's thought signature) that must be sent back with
    # this call in the next turn; None for providers that have none.
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str = ""
    # For role "tool": which call this message answers.
    tool_call_id: str | None = None
    # For role "assistant": the tool calls it made.
    tool_calls: tuple[ToolCall, ...] = ()

    @classmethod
    def system(cls, content: str) -> ChatMessage:
        return cls("system", content)

    @classmethod
    def user(cls, content: str) -> ChatMessage:
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: Sequence[ToolCall] = ()) -> ChatMessage:
        return cls("assistant", content, tool_calls=tuple(tool_calls))

    @classmethod
    def tool_result(cls, tool_call_id: str, content: str) -> ChatMessage:
        return cls("tool", content, tool_call_id=tool_call_id)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call; `parameters` is the JSON Schema of its arguments object."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    # True when the provider reported no counts and these are our estimate (e.g. Gemini embeddings).
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: Sequence[ChatMessage]
    tools: Sequence[ToolSpec] = ()
    # None leaves the provider's default; some models accept no other value.
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: ResponseFormat = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValueError("a chat request needs at least one message")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")

    def replace(self, **changes: Any) -> ChatRequest:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ChatResponse:
    text: str
    tool_calls: tuple[ToolCall, ...]
    usage: Usage
    finish_reason: FinishReason
    # The provider and model that actually produced this answer (after any fallback), as reported.
    provider: str
    model: str
    cost: Decimal
    latency_ms: float
    # The model the caller asked for; differs from `model` when the router fell back.
    requested_model: str = ""

    def replace(self, **changes: Any) -> ChatResponse:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a tool call as it streams; the complete calls arrive in `StreamDone`."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments_delta: str = ""


@dataclass(frozen=True, slots=True)
class StreamDone:
    response: ChatResponse


StreamEvent: TypeAlias = TextDelta | ToolCallDelta | StreamDone


@dataclass(frozen=True, slots=True)
class EmbeddingResponse:
    vectors: list[list[float]]
    usage: Usage
    provider: str
    model: str
    cost: Decimal
    latency_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class ProviderCredentials:
    """What a call needs to authenticate: an org's own key from the vault, else the platform key.

    `extra` holds non-secret connection settings (Azure `api_version`, OpenAI `organization`).
    The key is left out of `repr` so a logged object or a traceback never shows it.
    """

    api_key: str = field(repr=False)
    base_url: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def key_hint(self) -> str:
        """A masked form for people to tell keys apart: the last four characters only."""
        return f"…{self.api_key[-4:]}" if len(self.api_key) >= 12 else "…"


@runtime_checkable
class LLMProvider(Protocol):
    """One provider behind its official SDK. Implementations raise only `errors.ProviderError`s.

    Implementations never retry (the SDK's own retries are off): the router owns retrying so it can
    honor Retry-After, count failures for the circuit breaker and fall back to another provider.
    """

    name: str
    # False for providers that need no key (the offline scripted provider).
    requires_credentials: bool

    async def chat(self, request: ChatRequest, credentials: ProviderCredentials) -> ChatResponse: ...

    def stream(self, request: ChatRequest, credentials: ProviderCredentials) -> AsyncIterator[StreamEvent]:
        """Text and tool-call deltas, then exactly one `StreamDone` carrying the full response."""
        ...

    async def embed(
        self, model: str, texts: Sequence[str], credentials: ProviderCredentials, *, timeout_seconds: float = ...
    ) -> EmbeddingResponse: ...

    async def verify(self, credentials: ProviderCredentials) -> None:
        """The cheapest authenticated call (listing models); raises `AuthenticationFailed` on a bad key."""
        ...

    def estimate_cost(self, model: str, usage: Usage) -> Decimal: ...
