"""OpenAI specifics: what goes on the wire (messages, tools, JSON modes, limits, stream options),
embeddings, refusals and quota errors — the real `openai` SDK against the local fake."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from agentflow.engine.providers.base import ChatMessage, ChatRequest, ProviderCredentials, ToolCall, ToolSpec
from agentflow.engine.providers.errors import ContentPolicyViolation, MalformedResponse, QuotaExceeded, RateLimited
from agentflow.engine.providers.openai import OpenAIProvider
from tests.engine.providers.fakes import FakeOpenAI, Raw, Reply, Status

LOOKUP = ToolSpec("lookup", "Find a record.", {"type": "object", "properties": {"id": {"type": "integer"}}})


async def test_messages_tools_and_limits_on_the_wire(
    openai_provider: OpenAIProvider, openai_server: FakeOpenAI, openai_credentials: ProviderCredentials
) -> None:
    request = ChatRequest(
        model="gpt-4o",
        messages=[
            ChatMessage.system("Be brief."),
            ChatMessage.user("Find record 7."),
            ChatMessage.assistant("", [ToolCall("call_1", "lookup", {"id": 7})]),
            ChatMessage.tool_result("call_1", '{"name": "Ada"}'),
        ],
        tools=[LOOKUP],
        temperature=0.3,
        max_tokens=321,
    )
    await openai_provider.chat(request, openai_credentials)

    body = openai_server.calls("/chat/completions")[0].body
    assert body["model"] == "gpt-4o"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Find record 7."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"id": 7}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"name": "Ada"}'},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "lookup", "description": "Find a record.", "parameters": LOOKUP.parameters},
        }
    ]
    assert body["temperature"] == 0.3
    assert body["max_completion_tokens"] == 321
    assert "max_tokens" not in body


async def test_json_mode_and_json_schema(
    openai_provider: OpenAIProvider, openai_server: FakeOpenAI, openai_credentials: ProviderCredentials
) -> None:
    schema = {"title": "Person record", "type": "object", "properties": {"name": {"type": "string"}}}
    base = ChatRequest(model="gpt-4o-mini", messages=[ChatMessage.user("Who?")])
    await openai_provider.chat(base.replace(response_format="json"), openai_credentials)
    await openai_provider.chat(base.replace(response_format=schema), openai_credentials)

    json_mode, json_schema = (call.body["response_format"] for call in openai_server.calls("/chat/completions"))
    assert json_mode == {"type": "json_object"}
    assert json_schema == {
        "type": "json_schema",
        "json_schema": {"name": "Person_record", "schema": schema, "strict": False},
    }


async def test_streaming_asks_for_usage(
    openai_provider: OpenAIProvider, openai_server: FakeOpenAI, openai_credentials: ProviderCredentials
) -> None:
    request = ChatRequest(model="gpt-4o", messages=[ChatMessage.user("Hi")])
    [event async for event in openai_provider.stream(request, openai_credentials)]
    body = openai_server.calls("/chat/completions")[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_embeddings(
    openai_provider: OpenAIProvider, openai_server: FakeOpenAI, openai_credentials: ProviderCredentials
) -> None:
    result = await openai_provider.embed("text-embedding-3-small", ["one two", "three"], openai_credentials)

    assert result.vectors == [[7.0, 0.0, 0.5], [5.0, 1.0, 0.5]]
    assert (result.usage.input_tokens, result.usage.output_tokens) == (3, 0)
    assert result.cost == Decimal("0.02") * 3 / 1_000_000
    assert (result.provider, result.model) == ("openai", "text-embedding-3-small")
    body = openai_server.calls("/embeddings")[0].body
    assert body == {"model": "text-embedding-3-small", "input": ["one two", "three"], "encoding_format": "float"}


async def test_a_refusal_is_a_content_policy_violation(
    openai_provider: OpenAIProvider, openai_server: FakeOpenAI, openai_credentials: ProviderCredentials
) -> None:
    completion = {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": None, "refusal": "I can't help with that."},
            }
        ],
    }
    openai_server.script(Raw(json.dumps(completion)))
    with pytest.raises(ContentPolicyViolation, match="can't help"):
        await openai_provider.chat(ChatRequest(model="gpt-4o", messages=[ChatMessage.user("?")]), openai_credentials)


async def test_content_filter_with_no_output_is_a_content_policy_violation(
    openai_provider: OpenAIProvider, openai_server: FakeOpenAI, openai_credentials: ProviderCredentials
) -> None:
    openai_server.script(Reply(text="", finish="content_filter"))
    with pytest.raises(ContentPolicyViolation):
        await openai_provider.chat(ChatRequest(model="gpt-4o", messages=[ChatMessage.user("?")]), openai_credentials)


async def test_out_of_credit_is_not_a_rate_limit(
    openai_provider: OpenAIProvider, openai_server: FakeOpenAI, openai_credentials: ProviderCredentials
) -> None:
    request = ChatRequest(model="gpt-4o", messages=[ChatMessage.user("?")])
    openai_server.script(Status(429, "You exceeded your current quota.", code="insufficient_quota"))
    with pytest.raises(QuotaExceeded) as raised:
        await openai_provider.chat(request, openai_credentials)
    assert not raised.value.is_retryable

    openai_server.script(
        Status(429, "Rate limit reached", headers={"retry-after-ms": "1500"}, code="rate_limit_exceeded")
    )
    with pytest.raises(RateLimited) as limited:
        await openai_provider.chat(request, openai_credentials)
    assert limited.value.retry_after == 1.5


async def test_tool_arguments_that_are_not_json_are_malformed(
    openai_provider: OpenAIProvider, openai_server: FakeOpenAI, openai_credentials: ProviderCredentials
) -> None:
    completion = {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c", "type": "function", "function": {"name": "lookup", "arguments": "{id: 7"}}
                    ],
                },
            }
        ],
    }
    openai_server.script(Raw(json.dumps(completion)))
    with pytest.raises(MalformedResponse, match="not valid JSON"):
        await openai_provider.chat(
            ChatRequest(model="gpt-4o", messages=[ChatMessage.user("?")], tools=[LOOKUP]), openai_credentials
        )


async def test_dated_snapshots_are_priced_like_their_family(
    openai_provider: OpenAIProvider, openai_server: FakeOpenAI, openai_credentials: ProviderCredentials
) -> None:
    openai_server.script(Reply(usage=(1_000_000, 0), model="gpt-4o-2024-08-06"))
    response = await openai_provider.chat(
        ChatRequest(model="gpt-4o", messages=[ChatMessage.user("?")]), openai_credentials
    )
    assert response.model == "gpt-4o-2024-08-06"  # what actually served it, as reported
    assert response.cost == Decimal("2.50")
