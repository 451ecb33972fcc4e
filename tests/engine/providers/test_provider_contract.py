"""The same contract for OpenAI, Anthropic and Gemini: the real SDK against a local server that speaks
that provider's wire format. Normalized output, usage, cost, tool calls, streaming, error mapping,
and the org's key in the auth header."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest

from agentflow.engine.providers.base import (
    ChatMessage,
    ChatRequest,
    LLMProvider,
    ProviderCredentials,
    StreamDone,
    TextDelta,
    ToolCallDelta,
    ToolSpec,
)
from agentflow.engine.providers.catalog import default_catalog
from agentflow.engine.providers.errors import (
    AuthenticationFailed,
    InvalidRequest,
    MalformedResponse,
    ModelNotFound,
    ProviderServerError,
    ProviderTimeout,
    RateLimited,
)
from tests.engine.providers.fakes import FakeServer, Hang, Malformed, Recorded, Reply, Status

WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@dataclass
class Case:
    provider: LLMProvider
    server: FakeServer
    credentials: ProviderCredentials
    model: str
    chat_path: str
    sent_key: Callable[[Recorded], str | None]


@pytest.fixture(params=["openai", "anthropic", "google"])
def case(
    request: pytest.FixtureRequest,
    openai_credentials: ProviderCredentials,
    anthropic_credentials: ProviderCredentials,
    gemini_credentials: ProviderCredentials,
) -> Case:
    if request.param == "openai":
        return Case(
            request.getfixturevalue("openai_provider"),
            request.getfixturevalue("openai_server"),
            openai_credentials,
            "gpt-4o",
            "/chat/completions",
            lambda r: r.headers.get("authorization", "").removeprefix("Bearer ") or None,
        )
    if request.param == "anthropic":
        return Case(
            request.getfixturevalue("anthropic_provider"),
            request.getfixturevalue("anthropic_server"),
            anthropic_credentials,
            "claude-haiku-4-5",
            "/v1/messages",
            # anthropic 2.x sends the key as a bearer token; older versions used x-api-key.
            lambda r: r.headers.get("x-api-key") or r.headers.get("authorization", "").removeprefix("Bearer ") or None,
        )
    return Case(
        request.getfixturevalue("google_provider"),
        request.getfixturevalue("gemini_server"),
        gemini_credentials,
        "gemini-2.5-flash",
        ":generateContent",
        lambda r: r.headers.get("x-goog-api-key"),
    )


def ask(case: Case, text: str = "What is the weather in Paris?", **changes: object) -> ChatRequest:
    request = ChatRequest(
        model=case.model,
        messages=[ChatMessage.system("You are terse."), ChatMessage.user(text)],
        max_tokens=200,
        timeout_seconds=5,
    )
    return request.replace(**changes) if changes else request


async def test_chat_normalizes_text_usage_and_cost(case: Case) -> None:
    case.server.script(Reply(text="Sunny, 21 °C.", usage=(1000, 200)))
    response = await case.provider.chat(ask(case), case.credentials)

    assert response.text == "Sunny, 21 °C."
    assert response.tool_calls == ()
    assert (response.usage.input_tokens, response.usage.output_tokens) == (1000, 200)
    assert response.finish_reason == "stop"
    assert (response.provider, response.model, response.requested_model) == (case.provider.name, case.model, case.model)
    model = default_catalog().get(case.model)
    assert model is not None
    expected = (1000 * model.input_per_1m + 200 * model.output_per_1m) / Decimal(1_000_000)
    assert response.cost == expected
    assert isinstance(response.cost, Decimal)
    assert response.latency_ms > 0


async def test_the_org_key_is_the_one_sent(case: Case) -> None:
    await case.provider.chat(ask(case), case.credentials)
    other_org = ProviderCredentials(api_key="sk-org-b-fedcba9876543210", base_url=case.credentials.base_url)
    await case.provider.chat(ask(case), other_org)

    first, second = case.server.calls(case.chat_path)
    assert case.sent_key(first) == case.credentials.api_key
    assert case.sent_key(second) == "sk-org-b-fedcba9876543210"


async def test_tool_calls_are_normalized(case: Case) -> None:
    case.server.script(Reply(text="", tool_calls=(("get_weather", {"city": "Paris"}),)))
    response = await case.provider.chat(ask(case, tools=[WEATHER]), case.credentials)

    assert response.finish_reason == "tool_calls"
    assert len(response.tool_calls) == 1
    call = response.tool_calls[0]
    assert (call.name, dict(call.arguments)) == ("get_weather", {"city": "Paris"})
    assert call.id


async def test_streaming_deltas_concatenate_to_the_final_text(case: Case) -> None:
    case.server.script(Reply(text="The quick brown fox jumps.", usage=(40, 7)))
    events = [event async for event in case.provider.stream(ask(case), case.credentials)]

    deltas = [event.text for event in events if isinstance(event, TextDelta)]
    assert len(deltas) > 1
    assert isinstance(events[-1], StreamDone)
    assert sum(isinstance(event, StreamDone) for event in events) == 1
    final = events[-1].response
    assert "".join(deltas) == final.text == "The quick brown fox jumps."
    assert (final.usage.input_tokens, final.usage.output_tokens) == (40, 7)
    assert final.cost > 0
    assert final.provider == case.provider.name


async def test_streamed_tool_calls_arrive_whole_in_the_final_response(case: Case) -> None:
    case.server.script(Reply(text="Checking.", tool_calls=(("get_weather", {"city": "Oslo"}),)))
    events = [event async for event in case.provider.stream(ask(case, tools=[WEATHER]), case.credentials)]

    assert any(isinstance(event, ToolCallDelta) and event.name == "get_weather" for event in events)
    final = events[-1]
    assert isinstance(final, StreamDone)
    assert [(c.name, dict(c.arguments)) for c in final.response.tool_calls] == [("get_weather", {"city": "Oslo"})]
    assert final.response.finish_reason == "tool_calls"


async def test_rate_limit_carries_retry_after(case: Case) -> None:
    case.server.script(Status(429, "Too many requests", headers={"retry-after": "7"}))
    with pytest.raises(RateLimited) as raised:
        await case.provider.chat(ask(case), case.credentials)
    assert raised.value.retry_after == 7
    assert raised.value.status == 429
    assert raised.value.is_retryable
    assert len(case.server.calls(case.chat_path)) == 1  # the SDK's own retries are off


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [
        (500, ProviderServerError, True),
        (503, ProviderServerError, True),
        (400, InvalidRequest, False),
        (401, AuthenticationFailed, False),
        (403, AuthenticationFailed, False),
        (404, ModelNotFound, False),
    ],
)
async def test_http_errors_map_to_normalized_errors(
    case: Case, status: int, error_type: type[Exception], retryable: bool
) -> None:
    case.server.script(Status(status, "something went wrong"))
    with pytest.raises(error_type) as raised:
        await case.provider.chat(ask(case), case.credentials)
    error = raised.value
    assert getattr(error, "status", None) == status
    assert getattr(error, "provider", None) == case.provider.name
    assert getattr(error, "is_retryable", None) is retryable
    assert len(case.server.calls(case.chat_path)) == 1


async def test_auth_errors_never_echo_the_key(case: Case) -> None:
    leaked = f"Incorrect API key provided: {case.credentials.api_key}"
    case.server.script(Status(401, leaked))
    with pytest.raises(AuthenticationFailed) as raised:
        await case.provider.chat(ask(case), case.credentials)
    assert case.credentials.api_key not in str(raised.value)
    assert case.credentials.api_key[-8:] not in str(raised.value)


async def test_a_hanging_server_times_out(case: Case) -> None:
    case.server.script(Hang(3))
    with pytest.raises(ProviderTimeout) as raised:
        await case.provider.chat(ask(case, timeout_seconds=0.3), case.credentials)
    assert raised.value.is_retryable


async def test_a_body_that_is_not_json_is_a_malformed_response(case: Case) -> None:
    case.server.script(Malformed())
    with pytest.raises(MalformedResponse) as raised:
        await case.provider.chat(ask(case), case.credentials)
    assert not raised.value.is_retryable


async def test_errors_before_the_first_stream_event_are_normalized(case: Case) -> None:
    case.server.script(Status(503, "overloaded"))
    with pytest.raises(ProviderServerError):
        async for _ in case.provider.stream(ask(case), case.credentials):
            pass


async def test_verify_accepts_a_good_key_and_rejects_a_bad_one(case: Case) -> None:
    await case.provider.verify(case.credentials)
    case.server.script(Status(401, "invalid key"))
    with pytest.raises(AuthenticationFailed):
        await case.provider.verify(case.credentials)
    assert all(case.sent_key(r) == case.credentials.api_key for r in case.server.requests)
    assert all(r.method == "GET" for r in case.server.requests)
