"""The offline scripted provider: deterministic answers, tool calls on request, JSON that fits a
schema, word-by-word streaming, word-count usage, zero cost, and hashed bag-of-words embeddings."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import jsonschema
import pytest

from agentflow.engine.providers.base import (
    ChatMessage,
    ChatRequest,
    ProviderCredentials,
    StreamDone,
    TextDelta,
    ToolCall,
    ToolSpec,
)
from agentflow.engine.providers.errors import InvalidRequest, ModelNotFound
from agentflow.engine.providers.scripted import DEMO_PREFIX, ScriptedProvider, placeholder

NO_KEY = ProviderCredentials(api_key="")
provider = ScriptedProvider()
BOOK = ToolSpec(
    "book_meeting",
    "Book a meeting.",
    {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "minutes": {"type": "integer", "minimum": 15},
            "room": {"type": "string", "enum": ["north", "south"]},
        },
        "required": ["title", "minutes"],
    },
)


def ask(text: str, model: str = "scripted-echo", **changes: object) -> ChatRequest:
    request = ChatRequest(model=model, messages=[ChatMessage.system("Be helpful."), ChatMessage.user(text)])
    return request.replace(**changes) if changes else request


async def test_echo_and_demo_answers() -> None:
    echo = await provider.chat(ask("Hello there, robot"), NO_KEY)
    assert echo.text == "Hello there, robot"
    assert (echo.provider, echo.model, echo.finish_reason) == ("scripted", "scripted-echo", "stop")
    assert echo.cost == Decimal(0)
    assert (echo.usage.input_tokens, echo.usage.output_tokens) == (5, 3)  # words in, words out

    demo = await provider.chat(ask("Hello", model="scripted-demo"), NO_KEY)
    assert demo.text == f"{DEMO_PREFIX} Hello"
    assert "no language model" in demo.text  # a person reading it knows it is not an LLM


async def test_the_same_request_gives_the_same_response() -> None:
    request = ask("call:book_meeting please", tools=[BOOK])
    first, second = await provider.chat(request, NO_KEY), await provider.chat(request, NO_KEY)
    assert first.replace(latency_ms=0) == second.replace(latency_ms=0)


async def test_a_tool_is_called_when_asked_with_arguments() -> None:
    response = await provider.chat(ask('call:book_meeting {"title": "Standup", "minutes": 15}', tools=[BOOK]), NO_KEY)
    [call] = response.tool_calls
    assert (call.name, dict(call.arguments)) == ("book_meeting", {"title": "Standup", "minutes": 15})
    assert response.finish_reason == "tool_calls"
    assert response.text == ""


async def test_a_tool_called_without_arguments_gets_schema_placeholders() -> None:
    response = await provider.chat(ask("call:book_meeting", tools=[BOOK]), NO_KEY)
    [call] = response.tool_calls
    assert dict(call.arguments) == {"title": "example", "minutes": 15, "room": "north"}
    jsonschema.validate(dict(call.arguments), BOOK.parameters)


async def test_a_tool_that_was_not_offered_is_not_called() -> None:
    response = await provider.chat(ask("call:delete_everything"), NO_KEY)
    assert response.tool_calls == ()
    assert response.text == "call:delete_everything"


async def test_tool_results_are_reported_back() -> None:
    request = ChatRequest(
        model="scripted-echo",
        messages=[
            ChatMessage.user("call:book_meeting"),
            ChatMessage.assistant("", [ToolCall("call_1", "book_meeting", {"title": "x"})]),
            ChatMessage.tool_result("call_1", '{"booked": true}'),
        ],
        tools=[BOOK],
    )
    response = await provider.chat(request, NO_KEY)
    assert response.text == 'Tool book_meeting returned: {"booked": true}'
    assert response.tool_calls == ()


async def test_json_mode_and_a_json_schema() -> None:
    as_json = await provider.chat(ask("hi", response_format="json"), NO_KEY)
    assert json.loads(as_json.text) == {"reply": "hi"}

    schema = {
        "type": "object",
        "properties": {
            "sentiment": {"enum": ["positive", "negative"]},
            "score": {"type": "number", "minimum": 0.5},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 10}, "minItems": 2},
            "flagged": {"type": "boolean"},
            "note": {"type": ["string", "null"]},
        },
        "required": ["sentiment", "score", "tags"],
    }
    fitted = await provider.chat(ask("classify this", response_format=schema), NO_KEY)
    value = json.loads(fitted.text)
    jsonschema.validate(value, schema)
    assert value == {
        "sentiment": "positive",
        "score": 0.5,
        "tags": ["examplexxx", "examplexxx"],
        "flagged": False,
        "note": "example",
    }


def test_placeholders_for_combinators_and_constants() -> None:
    assert placeholder({"anyOf": [{"type": "integer"}, {"type": "string"}]}) == 0
    assert placeholder({"const": "fixed"}) == "fixed"
    assert placeholder({"type": "string", "default": "d"}) == "d"
    assert placeholder({"properties": {"a": {"type": "boolean"}}}) == {"a": False}


async def test_streaming_is_word_by_word_and_concatenates() -> None:
    events = [event async for event in provider.stream(ask("one two  three"), NO_KEY)]
    deltas = [event.text for event in events if isinstance(event, TextDelta)]
    assert deltas == ["one ", "two  ", "three"]
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert "".join(deltas) == done.response.text == "one two  three"


async def test_unknown_scripted_models_are_not_found() -> None:
    with pytest.raises(ModelNotFound):
        await provider.chat(ask("x", model="scripted-genius"), NO_KEY)


async def test_embeddings_are_deterministic_unit_vectors_that_reflect_shared_words() -> None:
    result = await provider.embed(
        "scripted-embedding", ["the cat sat on the mat", "a cat on a mat", "quarterly revenue grew"], NO_KEY
    )
    cat, cat_again, finance = result.vectors
    assert all(len(vector) == 64 for vector in result.vectors)
    assert all(math.isclose(sum(v * v for v in vector), 1.0) for vector in result.vectors)

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(cat, cat_again) > cosine(cat, finance)
    again = await provider.embed("scripted-embedding", ["the cat sat on the mat"], NO_KEY)
    assert again.vectors[0] == cat
    assert result.cost == Decimal(0)
    assert result.usage.input_tokens == 6 + 5 + 3

    with pytest.raises(InvalidRequest):
        await provider.embed("text-embedding-3-small", ["x"], NO_KEY)
