"""OpenAI-compatible servers (Ollama, vLLM, LM Studio) and Azure OpenAI by base URL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agentflow.engine.providers.base import ChatMessage, ChatRequest, ProviderCredentials
from agentflow.engine.providers.errors import ProviderNotConfigured
from agentflow.engine.providers.openai_compatible import OpenAICompatibleProvider
from tests.engine.providers.fakes import FakeOpenAI, Reply


@pytest.fixture(scope="module")
def provider() -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider()


async def test_a_keyless_local_server(provider: OpenAICompatibleProvider, openai_server: FakeOpenAI) -> None:
    openai_server.script(Reply(text="Hello from llama.", usage=(9, 4)))
    credentials = ProviderCredentials(api_key="", base_url=openai_server.base_url)
    request = ChatRequest(model="qwen2.5:7b", messages=[ChatMessage.user("Hi")], max_tokens=99)
    response = await provider.chat(request, credentials)

    assert (response.text, response.provider, response.model) == (
        "Hello from llama.",
        "openai_compatible",
        "qwen2.5:7b",
    )
    assert response.cost == Decimal(0)  # a self-hosted model has no price
    body = openai_server.calls("/chat/completions")[0].body
    assert body["max_tokens"] == 99  # the name every compatible server understands
    assert "max_completion_tokens" not in body


async def test_a_catalog_model_is_priced(provider: OpenAICompatibleProvider, openai_server: FakeOpenAI) -> None:
    openai_server.script(Reply(usage=(1_000_000, 1_000_000)))
    credentials = ProviderCredentials(api_key="sk-vllm-proxy-key", base_url=openai_server.base_url)
    response = await provider.chat(ChatRequest(model="gpt-4o-mini", messages=[ChatMessage.user("Hi")]), credentials)
    assert response.cost == Decimal("0.75")  # 0.15 + 0.60, as the catalog lists gpt-4o-mini
    assert openai_server.calls("/chat/completions")[0].headers["authorization"] == "Bearer sk-vllm-proxy-key"


async def test_azure_openai_by_api_version(provider: OpenAICompatibleProvider, openai_server: FakeOpenAI) -> None:
    credentials = ProviderCredentials(
        api_key="azure-key-0123456789", base_url=openai_server.origin, extra={"api_version": "2024-10-21"}
    )
    response = await provider.chat(
        ChatRequest(model="my-gpt4o-deployment", messages=[ChatMessage.user("Hi")]), credentials
    )
    assert response.text

    call = openai_server.calls("/chat/completions")[0]
    assert call.path == "/openai/deployments/my-gpt4o-deployment/chat/completions"
    assert call.query["api-version"] == "2024-10-21"
    assert call.headers["api-key"] == "azure-key-0123456789"


async def test_streaming_and_embeddings_work_the_same(
    provider: OpenAICompatibleProvider, openai_server: FakeOpenAI
) -> None:
    credentials = ProviderCredentials(api_key="", base_url=openai_server.base_url)
    openai_server.script(Reply(text="one two three"))
    events = [e async for e in provider.stream(ChatRequest(model="m", messages=[ChatMessage.user("x")]), credentials)]
    assert events[-1].response.text == "one two three"  # type: ignore[union-attr]

    result = await provider.embed("nomic-embed-text", ["hello"], credentials)
    assert result.vectors == [[5.0, 0.0, 0.5]]
    assert result.cost == Decimal(0)


async def test_no_base_url_is_a_configuration_error(provider: OpenAICompatibleProvider) -> None:
    with pytest.raises(ProviderNotConfigured, match="base URL"):
        await provider.chat(ChatRequest(model="m", messages=[ChatMessage.user("x")]), ProviderCredentials(api_key="k"))


async def test_a_closed_provider_opens_a_fresh_pool_on_next_use(openai_server: FakeOpenAI) -> None:
    provider = OpenAICompatibleProvider()
    credentials = ProviderCredentials(api_key="", base_url=openai_server.base_url)
    request = ChatRequest(model="m", messages=[ChatMessage.user("x")])
    first = provider.client(credentials)
    assert provider.client(credentials) is first  # reused while the loop lives
    await provider.chat(request, credentials)
    await provider.aclose()
    assert provider.client(credentials) is not first
    await provider.chat(request, credentials)
    assert len(openai_server.calls("/chat/completions")) == 2
    await provider.aclose()
