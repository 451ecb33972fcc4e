"""Fake provider servers, started once per session and reset for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentflow.engine.providers.anthropic import AnthropicProvider
from agentflow.engine.providers.base import ProviderCredentials
from agentflow.engine.providers.google import GoogleProvider
from agentflow.engine.providers.openai import OpenAIProvider
from tests.engine.providers.fakes import FakeAnthropic, FakeGemini, FakeOpenAI

ORG_KEY = "sk-org-a-0123456789abcdef"


@pytest.fixture(scope="session")
def _openai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _anthropic_server() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _gemini_server() -> Iterator[FakeGemini]:
    server = FakeGemini().start()
    yield server
    server.stop()


@pytest.fixture
def openai_server(_openai_server: FakeOpenAI) -> FakeOpenAI:
    _openai_server.reset()
    return _openai_server


@pytest.fixture
def anthropic_server(_anthropic_server: FakeAnthropic) -> FakeAnthropic:
    _anthropic_server.reset()
    return _anthropic_server


@pytest.fixture
def gemini_server(_gemini_server: FakeGemini) -> FakeGemini:
    _gemini_server.reset()
    return _gemini_server


@pytest.fixture
def openai_credentials(openai_server: FakeOpenAI) -> ProviderCredentials:
    return ProviderCredentials(api_key=ORG_KEY, base_url=openai_server.base_url)


@pytest.fixture
def anthropic_credentials(anthropic_server: FakeAnthropic) -> ProviderCredentials:
    return ProviderCredentials(api_key="sk-ant-org-a-0123456789", base_url=anthropic_server.base_url)


@pytest.fixture
def gemini_credentials(gemini_server: FakeGemini) -> ProviderCredentials:
    return ProviderCredentials(api_key="AIzaOrgA0123456789abcdef", base_url=gemini_server.base_url)


# Provider objects are stateless apart from their client/connection-pool caches, so the session
# shares them like a worker process does (and skips rebuilding SDK clients for every test).
@pytest.fixture(scope="session")
def openai_provider() -> OpenAIProvider:
    return OpenAIProvider()


@pytest.fixture(scope="session")
def anthropic_provider() -> AnthropicProvider:
    return AnthropicProvider()


@pytest.fixture(scope="session")
def google_provider() -> GoogleProvider:
    return GoogleProvider()
