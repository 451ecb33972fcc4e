"""The router with the real providers and SDKs against the local fakes: retries (and their delays),
Retry-After, fallback to the EQUIVALENT model on the next provider, no fallback for non-retryable
errors, the circuit breaker, streaming and embeddings. Sleep, clock and jitter are injected, so
nothing waits and every delay is asserted exactly."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from agentflow.engine.providers.anthropic import AnthropicProvider
from agentflow.engine.providers.base import (
    ChatMessage,
    ChatRequest,
    LLMProvider,
    ProviderCredentials,
    StreamDone,
    TextDelta,
    ToolSpec,
)
from agentflow.engine.providers.catalog import ModelCatalog, default_catalog
from agentflow.engine.providers.errors import (
    AllProvidersFailed,
    AuthenticationFailed,
    CircuitOpen,
    ContentPolicyViolation,
    InvalidRequest,
    MalformedResponse,
    ModelNotFound,
    ProviderNotConfigured,
    ProviderServerError,
    RateLimited,
)
from agentflow.engine.providers.google import GoogleProvider
from agentflow.engine.providers.openai import OpenAIProvider
from agentflow.engine.providers.router import (
    BreakerPolicy,
    CircuitBreaker,
    CircuitBreakers,
    ProviderRouter,
    RetryPolicy,
    StaticCredentials,
)
from agentflow.engine.providers.scripted import ScriptedProvider
from tests.engine.providers.fakes import FakeAnthropic, FakeGemini, FakeOpenAI, Hang, Raw, Reply, Status

RETRY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=4.0, max_retry_after=30.0)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Sleeps:
    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@dataclass
class Env:
    openai: FakeOpenAI
    anthropic: FakeAnthropic
    gemini: FakeGemini
    providers: dict[str, LLMProvider]
    credentials: dict[str, ProviderCredentials]
    clock: Clock
    sleeps: Sleeps
    breakers: CircuitBreakers

    def router(self, credentials: dict[str, ProviderCredentials] | None = None, **options: Any) -> ProviderRouter:
        return ProviderRouter(
            self.providers,
            default_catalog(),
            StaticCredentials(self.credentials if credentials is None else credentials),
            retry=options.pop("retry", RETRY),
            circuit_breakers=self.breakers,
            sleep=self.sleeps,
            random=lambda: 0.5,  # full jitter pinned to the middle of each window
            **options,
        )


@pytest.fixture
def env(
    openai_server: FakeOpenAI,
    anthropic_server: FakeAnthropic,
    gemini_server: FakeGemini,
    openai_provider: OpenAIProvider,
    anthropic_provider: AnthropicProvider,
    google_provider: GoogleProvider,
    openai_credentials: ProviderCredentials,
    anthropic_credentials: ProviderCredentials,
    gemini_credentials: ProviderCredentials,
) -> Env:
    clock = Clock()
    return Env(
        openai_server,
        anthropic_server,
        gemini_server,
        {
            "openai": openai_provider,
            "anthropic": anthropic_provider,
            "google": google_provider,
            "scripted": ScriptedProvider(),
        },
        {"openai": openai_credentials, "anthropic": anthropic_credentials, "google": gemini_credentials},
        clock,
        Sleeps(),
        CircuitBreakers(BreakerPolicy(failure_threshold=3, cooldown_seconds=30), clock=clock),
    )


def ask(model: str = "gpt-4o", **changes: Any) -> ChatRequest:
    request = ChatRequest(model=model, messages=[ChatMessage.user("Summarize the report.")], timeout_seconds=5)
    return request.replace(**changes) if changes else request


def models_sent(server: FakeOpenAI | FakeAnthropic | FakeGemini, suffix: str) -> list[str]:
    if isinstance(server, FakeGemini):
        return [call.path.rsplit("/", 1)[-1].split(":")[0] for call in server.calls(suffix)]
    return [call.body["model"] for call in server.calls(suffix)]


async def test_a_healthy_provider_serves_on_the_first_attempt(env: Env) -> None:
    response = await env.router().chat(ask())
    assert (response.provider, response.model, response.requested_model) == ("openai", "gpt-4o", "gpt-4o")
    assert env.sleeps.delays == []
    assert len(env.openai.calls("/chat/completions")) == 1


async def test_server_errors_are_retried_with_capped_exponential_backoff(env: Env) -> None:
    env.openai.script(Status(500), Status(502), Reply(text="third time lucky"))
    response = await env.router().chat(ask())

    assert response.text == "third time lucky"
    assert response.provider == "openai"
    assert len(env.openai.calls("/chat/completions")) == 3
    # base 0.5 s doubling per attempt, full jitter pinned at 0.5 of the window
    assert env.sleeps.delays == [0.25, 0.5]


async def test_backoff_is_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    assert [policy.backoff(attempt, 1.0) for attempt in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert RetryPolicy(jitter=False).backoff(2, 0.0) == 1.0


async def test_retry_after_is_honored(env: Env) -> None:
    env.openai.script(Status(429, "slow down", headers={"retry-after": "7"}), Reply(text="ok"))
    response = await env.router().chat(ask())
    assert response.text == "ok"
    assert env.sleeps.delays == [7.0]


async def test_a_retry_after_beyond_the_cap_falls_back_instead_of_waiting(env: Env) -> None:
    env.openai.script(Status(429, "come back later", headers={"retry-after": "600"}))
    response = await env.router().chat(ask())
    assert env.sleeps.delays == []
    assert (response.provider, response.model) == ("anthropic", "claude-sonnet-4-6")


async def test_fallback_sends_the_equivalent_model_to_the_next_provider(env: Env) -> None:
    env.openai.script(Status(500), Status(500), Status(500))
    env.anthropic.script(Reply(text="served by Claude", usage=(100, 10)))
    response = await env.router().chat(ask())

    assert (response.provider, response.model, response.requested_model) == (
        "anthropic",
        "claude-sonnet-4-6",
        "gpt-4o",
    )
    assert response.text == "served by Claude"
    assert models_sent(env.openai, "/chat/completions") == ["gpt-4o"] * 3
    # The spec's bug was to send "gpt-4o" to the fallback provider; the equivalent model goes instead.
    assert models_sent(env.anthropic, "/v1/messages") == ["claude-sonnet-4-6"]
    # Priced at the model that served it.
    assert response.cost == default_catalog().cost("claude-sonnet-4-6", response.usage)


async def test_the_whole_chain_is_walked_in_catalog_order(env: Env) -> None:
    env.openai.script(*[Status(500)] * 3)
    env.anthropic.script(*[Status(529, "overloaded")] * 3)
    response = await env.router().chat(ask())
    assert (response.provider, response.model) == ("google", "gemini-2.5-pro")
    assert models_sent(env.gemini, ":generateContent") == ["gemini-2.5-pro"]


async def test_when_everything_fails_the_error_names_each_attempt(env: Env) -> None:
    env.openai.script(*[Status(500)] * 3)
    env.anthropic.script(*[Status(503)] * 3)
    env.gemini.script(*[Status(500)] * 3)
    with pytest.raises(AllProvidersFailed) as raised:
        await env.router().chat(ask())
    error = raised.value
    assert [(provider, model) for provider, model, _ in error.failures] == [
        ("openai", "gpt-4o"),
        ("anthropic", "claude-sonnet-4-6"),
        ("google", "gemini-2.5-pro"),
    ]
    assert all(isinstance(failure, ProviderServerError) for _, _, failure in error.failures)
    assert error.is_retryable
    assert "gpt-4o on openai" in error.message and "gemini-2.5-pro on google" in error.message


@pytest.mark.parametrize(
    ("behaviour", "error_type"),
    [
        (Status(400, "messages: field required"), InvalidRequest),
        (Status(401, "bad key"), AuthenticationFailed),
        (Status(400, "flagged", code="content_policy_violation"), ContentPolicyViolation),
        (Status(404, "The model does not exist"), ModelNotFound),
    ],
)
async def test_non_retryable_errors_fail_at_once_without_fallback(
    env: Env, behaviour: Status, error_type: type[Exception]
) -> None:
    env.openai.script(behaviour)
    with pytest.raises(error_type):
        await env.router().chat(ask())
    assert len(env.openai.calls("/chat/completions")) == 1
    assert env.anthropic.calls("/v1/messages") == []
    assert env.gemini.requests == []
    assert env.sleeps.delays == []


async def test_a_timeout_is_retried(env: Env) -> None:
    env.openai.script(Hang(3), Reply(text="after the hang"))
    response = await env.router().chat(ask(timeout_seconds=0.3))
    assert response.text == "after the hang"
    assert len(env.openai.calls("/chat/completions")) == 2
    assert env.sleeps.delays == [0.25]


async def test_a_provider_without_credentials_is_skipped(env: Env) -> None:
    credentials = {name: creds for name, creds in env.credentials.items() if name != "openai"}
    response = await env.router(credentials).chat(ask())
    assert (response.provider, response.model) == ("anthropic", "claude-sonnet-4-6")
    assert env.openai.requests == []


async def test_no_credentials_anywhere_is_a_clear_error(env: Env) -> None:
    with pytest.raises(AllProvidersFailed) as raised:
        await env.router({}).chat(ask())
    assert all(isinstance(error, ProviderNotConfigured) for _, _, error in raised.value.failures)
    assert "no API key is configured" in raised.value.message
    assert not raised.value.is_retryable


async def test_a_rejected_key_on_a_fallback_moves_on_to_the_next_fallback(env: Env) -> None:
    env.openai.script(*[Status(500)] * 3)
    env.anthropic.script(Status(401, "invalid x-api-key"))
    response = await env.router().chat(ask())
    assert (response.provider, response.model) == ("google", "gemini-2.5-pro")


async def test_a_bad_request_on_a_fallback_still_fails_at_once(env: Env) -> None:
    env.openai.script(*[Status(500)] * 3)
    env.anthropic.script(Status(400, "prompt is too long"))
    with pytest.raises(InvalidRequest, match="too long"):
        await env.router().chat(ask())
    assert env.gemini.requests == []


async def test_the_circuit_opens_skips_the_provider_and_recovers_half_open(env: Env) -> None:
    router = env.router()
    # Three consecutive failures (threshold 3) open openai's circuit; the call falls back.
    env.openai.script(*[Status(500)] * 3)
    first = await router.chat(ask())
    assert first.provider == "anthropic"
    assert env.breakers.state("openai", env.credentials["openai"]) == "open"

    # While open, openai is not even tried.
    second = await router.chat(ask())
    assert second.provider == "anthropic"
    assert len(env.openai.calls("/chat/completions")) == 3

    # After the cool-down one probe goes through; it fails, so the circuit opens again at once.
    env.clock.now += 31
    assert env.breakers.state("openai", env.credentials["openai"]) == "half_open"
    env.openai.script(Status(503))
    third = await router.chat(ask())
    assert third.provider == "anthropic"
    assert len(env.openai.calls("/chat/completions")) == 4
    assert env.breakers.state("openai", env.credentials["openai"]) == "open"

    # After another cool-down the probe succeeds and the circuit closes.
    env.clock.now += 31
    fourth = await router.chat(ask())
    assert fourth.provider == "openai"
    assert env.breakers.state("openai", env.credentials["openai"]) == "closed"


async def test_an_open_circuit_with_no_fallback_is_reported(env: Env) -> None:
    router = env.router()
    env.openai.script(*[Status(500)] * 3)
    with pytest.raises(AllProvidersFailed):
        await router.embed("text-embedding-3-small", ["x"])
    with pytest.raises(AllProvidersFailed) as raised:
        await router.embed("text-embedding-3-small", ["x"])
    [(_, _, error)] = raised.value.failures
    assert isinstance(error, CircuitOpen)


async def test_rate_limits_do_not_open_the_circuit(env: Env) -> None:
    env.openai.script(*[Status(429, "slow", headers={"retry-after": "1"})] * 3)
    response = await env.router().chat(ask())
    assert response.provider == "anthropic"
    assert env.sleeps.delays == [1.0, 1.0]
    assert env.breakers.state("openai", env.credentials["openai"]) == "closed"


async def test_settings_are_adapted_to_the_model_that_serves(env: Env) -> None:
    # o4-mini accepts only its default temperature: the router leaves it unset.
    await env.router().chat(ask("o4-mini", temperature=0.7, max_tokens=50))
    body = env.openai.calls("/chat/completions")[0].body
    assert "temperature" not in body
    assert body["max_completion_tokens"] == 50

    # An output limit beyond the model's maximum is clamped to it.
    env.openai.reset()
    await env.router().chat(ask("gpt-4o", temperature=0.7, max_tokens=100_000))
    body = env.openai.calls("/chat/completions")[0].body
    assert (body["temperature"], body["max_completion_tokens"]) == (0.7, 16384)


async def test_fallbacks_that_lack_a_needed_capability_are_skipped(env: Env) -> None:
    entry = {"context_window": 1000, "input_per_1m": "1", "output_per_1m": "1"}
    catalog = ModelCatalog.from_json(
        {
            "models": {
                "alpha": {
                    **entry,
                    "provider": "openai",
                    "capabilities": {"tools": True},
                    "fallbacks": ["beta", "gamma"],
                },
                "beta": {**entry, "provider": "anthropic", "capabilities": {"tools": False}},
                "gamma": {**entry, "provider": "google", "capabilities": {"tools": True}},
            }
        }
    )
    router = ProviderRouter(env.providers, catalog, StaticCredentials(env.credentials))
    tool = ToolSpec("t")
    assert [r.model for r in router.routes("alpha", ask("alpha"))] == ["alpha", "beta", "gamma"]
    assert [r.model for r in router.routes("alpha", ask("alpha", tools=[tool]))] == ["alpha", "gamma"]


async def test_model_names_resolve_to_routes(env: Env) -> None:
    router = env.router()
    assert (router.resolve("gpt-4o").provider, router.resolve("gpt-4o").model) == ("openai", "gpt-4o")
    snapshot = router.resolve("claude-haiku-4-5-20251001")
    assert (snapshot.provider, snapshot.model, snapshot.info and snapshot.info.id) == (
        "anthropic",
        "claude-haiku-4-5-20251001",
        "claude-haiku-4-5",
    )
    qualified = router.resolve("openai/gpt-4o-mini")
    assert (qualified.provider, qualified.model, qualified.info and qualified.info.id) == (
        "openai",
        "gpt-4o-mini",
        "gpt-4o-mini",
    )
    with pytest.raises(ModelNotFound, match="openai_compatible/"):
        router.resolve("my-local-llama")
    with pytest.raises(ModelNotFound):
        await router.chat(ask("nonexistent-model"))


async def test_streaming_falls_back_before_the_first_token(env: Env) -> None:
    env.openai.script(*[Status(503)] * 3)
    env.anthropic.script(Reply(text="streamed by the fallback"))
    events = [event async for event in env.router().stream(ask())]

    text = "".join(event.text for event in events if isinstance(event, TextDelta))
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert text == done.response.text == "streamed by the fallback"
    assert (done.response.provider, done.response.model, done.response.requested_model) == (
        "anthropic",
        "claude-sonnet-4-6",
        "gpt-4o",
    )
    assert env.sleeps.delays == [0.25, 0.5]


async def test_a_stream_that_breaks_after_output_is_not_retried(env: Env) -> None:
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"content": "Half an"}, "finish_reason": None}],
    }
    env.openai.script(Raw(f"data: {json.dumps(chunk)}\n\ndata: {{broken\n\n", media_type="text/event-stream"))
    received: list[str] = []

    async def consume() -> None:
        async for event in env.router().stream(ask()):
            if isinstance(event, TextDelta):
                received.append(event.text)

    with pytest.raises(MalformedResponse):
        await consume()
    assert received == ["Half an"]
    assert len(env.openai.calls("/chat/completions")) == 1
    assert env.anthropic.requests == []


async def test_embeddings_retry_but_never_fall_back(env: Env) -> None:
    env.openai.script(Status(500), Reply())
    result = await env.router().embed("text-embedding-3-small", ["alpha beta"])
    assert (result.provider, result.model) == ("openai", "text-embedding-3-small")
    assert env.sleeps.delays == [0.25]

    env.openai.script(*[Status(500)] * 3)
    with pytest.raises(AllProvidersFailed) as raised:
        await env.router().embed("text-embedding-3-small", ["alpha beta"])
    assert len(raised.value.failures) == 1
    assert env.gemini.requests == []


async def test_the_scripted_provider_needs_no_credentials(env: Env) -> None:
    response = await env.router({}).chat(ask("scripted-echo"))
    assert (response.provider, response.model, response.text) == ("scripted", "scripted-echo", "Summarize the report.")


async def test_credentials_are_looked_up_once_per_provider(env: Env) -> None:
    class CountingSource(StaticCredentials):
        lookups: list[str] = []

        async def for_provider(self, provider: str) -> ProviderCredentials | None:
            self.lookups.append(provider)
            return await super().for_provider(provider)

    source = CountingSource(env.credentials)
    router = ProviderRouter(env.providers, default_catalog(), source, circuit_breakers=env.breakers, sleep=env.sleeps)
    env.openai.script(*[Status(500)] * 3)
    await router.chat(ask())
    await router.chat(ask())
    assert source.lookups == ["openai", "anthropic"]


async def test_models_available_marks_what_an_org_can_use(env: Env) -> None:
    router = env.router({"openai": env.credentials["openai"]})
    availability = {entry.model.id: entry for entry in await router.models_available()}

    assert len(availability) == len(default_catalog())
    assert availability["gpt-4o"].available
    assert availability["scripted-demo"].available  # offline, needs no key
    assert not availability["claude-sonnet-4-6"].available
    assert availability["claude-sonnet-4-6"].reason == "no API key is configured for anthropic"
    # Registered in the catalog but not enabled in this router's provider map.
    assert not availability["llama3.1:8b"].available
    assert "not enabled" in (availability["llama3.1:8b"].reason or "")


async def test_verify_goes_to_the_named_provider(env: Env) -> None:
    router = env.router()
    await router.verify("openai", env.credentials["openai"])
    env.anthropic.script(Status(401, "invalid key"))
    with pytest.raises(AuthenticationFailed):
        await router.verify("anthropic", env.credentials["anthropic"])
    with pytest.raises(ProviderNotConfigured):
        await router.verify("mistral", env.credentials["openai"])


async def test_rate_limited_is_reported_with_its_retry_after(env: Env) -> None:
    env.openai.script(*[Status(429, "slow", headers={"retry-after": "2"})] * 3)
    with pytest.raises(AllProvidersFailed) as raised:
        await env.router({"openai": env.credentials["openai"]}).chat(ask())
    first = raised.value.failures[0][2]
    assert isinstance(first, RateLimited)
    assert first.retry_after == 2


def test_a_half_open_circuit_lets_one_probe_through_at_a_time() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerPolicy(failure_threshold=2, cooldown_seconds=10), clock)
    observed = []
    breaker.record_failure()
    observed.append(breaker.state)
    breaker.record_success()  # success resets the count: failures must be consecutive
    breaker.record_failure()
    breaker.record_failure()
    observed.append(breaker.state)
    assert not breaker.allow()

    clock.now += 10
    observed.append(breaker.state)
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # a concurrent call waits for the probe's verdict
    breaker.record_neutral()  # e.g. the probe was rate limited: no verdict, next call may probe
    assert breaker.allow()
    breaker.record_success()
    observed.append(breaker.state)
    assert breaker.allow()
    assert observed == ["closed", "open", "half_open", "closed"]


def test_breakers_are_per_provider_and_per_self_hosted_endpoint() -> None:
    breakers = CircuitBreakers()
    ollama_a = ProviderCredentials(api_key="", base_url="http://a:11434/v1")
    ollama_b = ProviderCredentials(api_key="", base_url="http://b:11434/v1")
    assert breakers.key("openai_compatible", ollama_a) != breakers.key("openai_compatible", ollama_b)
    assert breakers.key("openai", ProviderCredentials(api_key="k")) == "openai"
    assert breakers.get("openai") is breakers.get("openai")
