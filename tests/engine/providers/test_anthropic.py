"""Anthropic specifics: the system prompt, tool results grouped per turn, structured output, the
sampling settings the SDK dropped, refusals and error events inside an open stream."""

from __future__ import annotations

import json

import pytest

from agentflow.engine.providers.anthropic import DEFAULT_MAX_TOKENS, JSON_INSTRUCTION, AnthropicProvider
from agentflow.engine.providers.base import ChatMessage, ChatRequest, ProviderCredentials, ToolCall, ToolSpec
from agentflow.engine.providers.errors import ContentPolicyViolation, InvalidRequest, ProviderServerError
from tests.engine.providers.fakes import FakeAnthropic, Raw, Reply

SEARCH = ToolSpec("search", "Search the docs.", {"type": "object", "properties": {"q": {"type": "string"}}})


async def test_system_prompt_tools_and_grouped_tool_results(
    anthropic_provider: AnthropicProvider, anthropic_server: FakeAnthropic, anthropic_credentials: ProviderCredentials
) -> None:
    request = ChatRequest(
        model="claude-sonnet-4-6",
        messages=[
            ChatMessage.system("You are a librarian."),
            ChatMessage.system("Cite sources."),
            ChatMessage.user("Find A and B."),
            ChatMessage.assistant(
                "Searching.", [ToolCall("t1", "search", {"q": "A"}), ToolCall("t2", "search", {"q": "B"})]
            ),
            ChatMessage.tool_result("t1", "found A"),
            ChatMessage.tool_result("t2", "found B"),
        ],
        tools=[SEARCH],
        temperature=0.5,
    )
    await anthropic_provider.chat(request, anthropic_credentials)

    body = anthropic_server.calls("/v1/messages")[0].body
    assert body["system"] == "You are a librarian.\n\nCite sources."
    assert body["messages"] == [
        {"role": "user", "content": "Find A and B."},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Searching."},
                {"type": "tool_use", "id": "t1", "name": "search", "input": {"q": "A"}},
                {"type": "tool_use", "id": "t2", "name": "search", "input": {"q": "B"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "found A"},
                {"type": "tool_result", "tool_use_id": "t2", "content": "found B"},
            ],
        },
    ]
    assert body["tools"] == [{"name": "search", "description": "Search the docs.", "input_schema": SEARCH.parameters}]
    assert body["temperature"] == 0.5
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS  # required by the API; ours when the request sets none


async def test_no_temperature_is_sent_unless_asked(
    anthropic_provider: AnthropicProvider, anthropic_server: FakeAnthropic, anthropic_credentials: ProviderCredentials
) -> None:
    await anthropic_provider.chat(
        ChatRequest(model="claude-haiku-4-5", messages=[ChatMessage.user("Hi")], max_tokens=50), anthropic_credentials
    )
    body = anthropic_server.calls("/v1/messages")[0].body
    assert "temperature" not in body
    assert body["max_tokens"] == 50


async def test_json_schema_uses_structured_output(
    anthropic_provider: AnthropicProvider, anthropic_server: FakeAnthropic, anthropic_credentials: ProviderCredentials
) -> None:
    schema = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}
    anthropic_server.script(Reply(text='{"label": "spam"}'))
    response = await anthropic_provider.chat(
        ChatRequest(model="claude-haiku-4-5", messages=[ChatMessage.user("Classify")], response_format=schema),
        anthropic_credentials,
    )
    assert json.loads(response.text) == {"label": "spam"}
    body = anthropic_server.calls("/v1/messages")[0].body
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}


async def test_json_mode_instructs_and_unwraps_code_fences(
    anthropic_provider: AnthropicProvider, anthropic_server: FakeAnthropic, anthropic_credentials: ProviderCredentials
) -> None:
    anthropic_server.script(Reply(text='```json\n{"ok": true}\n```'))
    response = await anthropic_provider.chat(
        ChatRequest(model="claude-haiku-4-5", messages=[ChatMessage.user("Status?")], response_format="json"),
        anthropic_credentials,
    )
    assert json.loads(response.text) == {"ok": True}
    assert anthropic_server.calls("/v1/messages")[0].body["system"] == JSON_INSTRUCTION


async def test_a_refusal_with_no_output_is_a_content_policy_violation(
    anthropic_provider: AnthropicProvider, anthropic_server: FakeAnthropic, anthropic_credentials: ProviderCredentials
) -> None:
    anthropic_server.script(Reply(text="", finish="refusal"))
    with pytest.raises(ContentPolicyViolation):
        await anthropic_provider.chat(
            ChatRequest(model="claude-haiku-4-5", messages=[ChatMessage.user("?")]), anthropic_credentials
        )


async def test_an_error_event_inside_an_open_stream_is_normalized(
    anthropic_provider: AnthropicProvider, anthropic_server: FakeAnthropic, anthropic_credentials: ProviderCredentials
) -> None:
    start = {
        "type": "message_start",
        "message": {
            "id": "m",
            "type": "message",
            "role": "assistant",
            "model": "claude-haiku-4-5",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 1},
        },
    }
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    stream = f"event: message_start\ndata: {json.dumps(start)}\n\nevent: error\ndata: {json.dumps(error)}\n\n"
    anthropic_server.script(Raw(stream, media_type="text/event-stream"))
    request = ChatRequest(model="claude-haiku-4-5", messages=[ChatMessage.user("Hi")])
    with pytest.raises(ProviderServerError) as raised:
        [event async for event in anthropic_provider.stream(request, anthropic_credentials)]
    assert raised.value.is_retryable
    assert raised.value.status == 529


async def test_there_is_no_embeddings_api(
    anthropic_provider: AnthropicProvider, anthropic_credentials: ProviderCredentials
) -> None:
    with pytest.raises(InvalidRequest, match="no embeddings"):
        await anthropic_provider.embed("claude-haiku-4-5", ["x"], anthropic_credentials)
