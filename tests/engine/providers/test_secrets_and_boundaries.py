"""No API key in any log line (ours or the SDKs', at DEBUG) or error message, and the provider layer
stays inside the engine's import boundary (no domain modules, no FastAPI)."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from agentflow.engine.providers.base import ChatMessage, ChatRequest, ProviderCredentials
from agentflow.engine.providers.catalog import default_catalog
from agentflow.engine.providers.errors import AllProvidersFailed, AuthenticationFailed
from agentflow.engine.providers.router import BreakerPolicy, CircuitBreakers, ProviderRouter, StaticCredentials
from tests.engine.providers.conftest import ORG_KEY
from tests.engine.providers.fakes import FakeAnthropic, FakeGemini, FakeOpenAI, Status


async def test_no_key_in_logs_or_errors_through_retries_fallbacks_and_failures(
    caplog: pytest.LogCaptureFixture,
    openai_server: FakeOpenAI,
    anthropic_server: FakeAnthropic,
    gemini_server: FakeGemini,
    openai_credentials: ProviderCredentials,
    anthropic_credentials: ProviderCredentials,
    gemini_credentials: ProviderCredentials,
    openai_provider: object,
    anthropic_provider: object,
    google_provider: object,
) -> None:
    keys = [openai_credentials.api_key, anthropic_credentials.api_key, gemini_credentials.api_key]
    router = ProviderRouter(
        {"openai": openai_provider, "anthropic": anthropic_provider, "google": google_provider},  # type: ignore[dict-item]
        default_catalog(),
        StaticCredentials(
            {"openai": openai_credentials, "anthropic": anthropic_credentials, "google": gemini_credentials}
        ),
        circuit_breakers=CircuitBreakers(BreakerPolicy(failure_threshold=100)),
        sleep=lambda _: _no_wait(),
    )
    request = ChatRequest(model="gpt-4o", messages=[ChatMessage.user("hello")], timeout_seconds=5)
    with caplog.at_level(logging.DEBUG):
        openai_server.script(Status(500), Status(401, f"Incorrect API key provided: {ORG_KEY}"))
        with pytest.raises(AuthenticationFailed) as raised:
            await router.chat(request)
        messages = [str(raised.value)]
        openai_server.script(*[Status(503)] * 3)
        anthropic_server.script(*[Status(500)] * 3)
        gemini_server.script(*[Status(429, f"quota for key {gemini_credentials.api_key}")] * 3)
        with pytest.raises(AllProvidersFailed) as failed:
            await router.chat(request)
        messages.append(str(failed.value))
        [event async for event in router.stream(request)]

    assert caplog.records, "expected the SDKs and the router to log at DEBUG"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for key in keys:
        assert key not in logged
        assert all(key not in message for message in messages)


async def _no_wait() -> None:
    return None


def test_the_provider_layer_imports_no_domain_module_and_no_fastapi() -> None:
    code = (
        "import sys, agentflow.engine.providers as p; p.build_providers();"
        "import agentflow.engine.providers.router, agentflow.engine.providers.scripted;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'sqlalchemy')"
        " or (m.startswith('agentflow.') and not m.startswith('agentflow.engine')));"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""
