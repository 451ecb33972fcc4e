"""Gemini specifics through `google-genai`: contents and system instruction, function responses by
name, thought signatures sent back, JSON Schema output, safety blocks, RetryInfo, embeddings."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from agentflow.engine.providers.base import ChatMessage, ChatRequest, ProviderCredentials, ToolCall, ToolSpec
from agentflow.engine.providers.errors import AuthenticationFailed, ContentPolicyViolation, RateLimited
from agentflow.engine.providers.google import GoogleProvider
from tests.engine.providers.fakes import FakeGemini, Raw, Reply, Status

FORECAST = ToolSpec("forecast", "Weather forecast.", {"type": "object", "properties": {"city": {"type": "string"}}})


async def test_contents_system_instruction_and_function_responses(
    google_provider: GoogleProvider, gemini_server: FakeGemini, gemini_credentials: ProviderCredentials
) -> None:
    request = ChatRequest(
        model="gemini-2.5-pro",
        messages=[
            ChatMessage.system("Answer in French."),
            ChatMessage.user("Weather in Lyon?"),
            ChatMessage.assistant("", [ToolCall("fc1", "forecast", {"city": "Lyon"}, signature="c2lnbmF0dXJl")]),
            ChatMessage.tool_result("fc1", '{"sky": "clear"}'),
        ],
        tools=[FORECAST],
        temperature=0.1,
        max_tokens=64,
        response_format={"type": "object", "properties": {"answer": {"type": "string"}}},
    )
    await google_provider.chat(request, gemini_credentials)

    call = gemini_server.calls(":generateContent")[0]
    assert call.path == "/v1beta/models/gemini-2.5-pro:generateContent"
    body = call.body
    assert body["systemInstruction"]["parts"] == [{"text": "Answer in French."}]
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Weather in Lyon?"}]},
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"id": "fc1", "name": "forecast", "args": {"city": "Lyon"}},
                    "thoughtSignature": "c2lnbmF0dXJl",
                }
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"id": "fc1", "name": "forecast", "response": {"sky": "clear"}}}],
        },
    ]
    declaration = body["tools"][0]["functionDeclarations"][0]
    assert (declaration["name"], declaration["description"]) == ("forecast", "Weather forecast.")
    config = body["generationConfig"]
    assert (config["temperature"], config["maxOutputTokens"]) == (0.1, 64)
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == request.response_format


async def test_function_calls_keep_their_thought_signature(
    google_provider: GoogleProvider, gemini_server: FakeGemini, gemini_credentials: ProviderCredentials
) -> None:
    gemini_server.script(Reply(text="", tool_calls=(("forecast", {"city": "Nice"}),)))
    response = await google_provider.chat(
        ChatRequest(model="gemini-2.5-flash", messages=[ChatMessage.user("Nice?")], tools=[FORECAST]),
        gemini_credentials,
    )
    [call] = response.tool_calls
    assert call.signature == "c2lnbmF0dXJl"  # sent back in the next turn, as Gemini requires
    assert response.finish_reason == "tool_calls"


async def test_a_safety_block_is_a_content_policy_violation(
    google_provider: GoogleProvider, gemini_server: FakeGemini, gemini_credentials: ProviderCredentials
) -> None:
    request = ChatRequest(model="gemini-2.5-flash", messages=[ChatMessage.user("?")])
    gemini_server.script(Reply(text="", finish="SAFETY"))
    with pytest.raises(ContentPolicyViolation, match="SAFETY"):
        await google_provider.chat(request, gemini_credentials)

    blocked = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "modelVersion": "gemini-2.5-flash"}
    gemini_server.script(Raw(json.dumps(blocked)))
    with pytest.raises(ContentPolicyViolation, match="PROHIBITED_CONTENT"):
        await google_provider.chat(request, gemini_credentials)


async def test_retry_delay_from_the_error_body(
    google_provider: GoogleProvider, gemini_server: FakeGemini, gemini_credentials: ProviderCredentials
) -> None:
    body = {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted (e.g. check quota).",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}],
        }
    }
    gemini_server.script(Status(429, body=body))
    with pytest.raises(RateLimited) as raised:
        await google_provider.chat(
            ChatRequest(model="gemini-2.5-flash", messages=[ChatMessage.user("?")]), gemini_credentials
        )
    assert raised.value.retry_after == 12


async def test_an_invalid_key_answered_with_400_is_an_authentication_failure(
    google_provider: GoogleProvider, gemini_server: FakeGemini, gemini_credentials: ProviderCredentials
) -> None:
    gemini_server.script(Status(400, "API key not valid. Please pass a valid API key."))
    with pytest.raises(AuthenticationFailed):
        await google_provider.chat(
            ChatRequest(model="gemini-2.5-flash", messages=[ChatMessage.user("?")]), gemini_credentials
        )


async def test_embeddings_estimate_usage_the_api_does_not_report(
    google_provider: GoogleProvider, gemini_server: FakeGemini, gemini_credentials: ProviderCredentials
) -> None:
    result = await google_provider.embed("gemini-embedding-001", ["abcdefgh", "abc"], gemini_credentials)

    assert result.vectors == [[8.0, 0.25], [3.0, 0.25]]
    assert result.usage.input_tokens == 3  # ceil(8/4) + ceil(3/4)
    assert result.usage.estimated
    assert result.cost == Decimal("0.15") * 3 / 1_000_000
    call = gemini_server.calls(":batchEmbedContents")[0]
    assert call.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert [r["content"]["parts"][0]["text"] for r in call.body["requests"]] == ["abcdefgh", "abc"]
