"""Choose the provider for a model, retry what is worth retrying, fall back to an equivalent model.

**fix** of the spec's router (§5.2), which retried the fallback provider with the *original* model
name and on *any* exception:

- The fallback is the catalog's EQUIVALENT model on the next provider (gpt-4o → claude-sonnet-4-6 →
  gemini-2.5-pro), and the response records the provider and model that actually served it.
- Only retryable errors (timeouts, connection errors, 429, 5xx) are retried: exponential backoff
  with full jitter and a cap; a 429's Retry-After is honored (up to a cap).
- Non-retryable errors (400, 401/403, content policy, unknown model, garbage) fail at once.
- A per-process circuit breaker per provider keeps a failing provider out for a cool-down, so
  every call does not first spend its retries on a provider that is down.
"""

from __future__ import annotations

import asyncio
import logging
import random as random_module
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from agentflow.engine.providers.base import (
    DEFAULT_TIMEOUT_SECONDS,
    ChatRequest,
    ChatResponse,
    EmbeddingResponse,
    LLMProvider,
    ProviderCredentials,
    StreamDone,
    StreamEvent,
)
from agentflow.engine.providers.catalog import ModelCatalog, ModelInfo
from agentflow.engine.providers.errors import (
    AllProvidersFailed,
    AuthenticationFailed,
    CircuitOpen,
    MalformedResponse,
    ModelNotFound,
    ProviderError,
    ProviderNotConfigured,
    QuotaExceeded,
    RateLimited,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


class CredentialSource(Protocol):
    """Where the router gets keys: the org's own key from the vault, else the platform key."""

    async def for_provider(self, provider: str) -> ProviderCredentials | None: ...


class StaticCredentials:
    """A fixed provider → credentials map (tests, benchmarks, the embedded demo)."""

    def __init__(self, credentials: Mapping[str, ProviderCredentials] | None = None) -> None:
        self._credentials = dict(credentials or {})

    async def for_provider(self, provider: str) -> ProviderCredentials | None:
        return self._credentials.get(provider)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    # Attempts on one provider, the first included, before falling back to the next.
    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    # A Retry-After longer than this is not waited out (it would hold a worker); fall back instead.
    max_retry_after: float = 30.0
    jitter: bool = True

    def backoff(self, attempt: int, unit_random: float) -> float:
        """Delay after the `attempt`-th failure: exponential, capped, with full jitter."""
        ceiling: float = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling * unit_random if self.jitter else ceiling


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 5
    cooldown_seconds: float = 30.0


BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Closed → (N consecutive failures) → open → (cool-down) → half-open: one probe call decides."""

    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float]) -> None:
        self._policy = policy
        self._clock = clock
        self._failures = 0
        self._opened_at = 0.0
        self._state: BreakerState = "closed"
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._state == "open" and self._clock() - self._opened_at >= self._policy.cooldown_seconds:
            return "half_open"
        return self._state

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        if self._probe_in_flight:
            return False  # one probe at a time while half-open
        self._state = "half_open"
        self._probe_in_flight = True
        return True

    def record_success(self) -> None:
        self._state = "closed"
        self._failures = 0
        self._probe_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._state == "half_open" or self._failures >= self._policy.failure_threshold:
            self._state = "open"
            self._opened_at = self._clock()
        self._probe_in_flight = False

    def record_neutral(self) -> None:
        """An outcome that says nothing about the provider's health (a 429, a cancelled call)."""
        self._probe_in_flight = False


class CircuitBreakers:
    """The breakers of one process, by provider (and base URL, for self-hosted endpoints)."""

    def __init__(self, policy: BreakerPolicy | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    @staticmethod
    def key(provider: str, credentials: ProviderCredentials | None) -> str:
        # One org's dead Ollama must not trip the breaker for another org's vLLM.
        return f"{provider} {credentials.base_url}" if credentials and credentials.base_url else provider

    def get(self, key: str) -> CircuitBreaker:
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._breakers[key] = CircuitBreaker(self.policy, self._clock)
        return breaker

    def state(self, provider: str, credentials: ProviderCredentials | None = None) -> BreakerState:
        breaker = self._breakers.get(self.key(provider, credentials))
        return breaker.state if breaker else "closed"


# Shared by every router in the process: routers are built per org/execution, health is global.
PROCESS_BREAKERS = CircuitBreakers()


@dataclass(frozen=True, slots=True)
class Route:
    provider: str
    # The model id sent to that provider.
    model: str
    info: ModelInfo | None


@dataclass(frozen=True, slots=True)
class ModelAvailability:
    model: ModelInfo
    available: bool
    # Why not, in words for the UI; None when available.
    reason: str | None = None


async def models_available(
    catalog: ModelCatalog, providers: Mapping[str, LLMProvider], credentials: CredentialSource
) -> list[ModelAvailability]:
    """Every catalog model, marked usable when its provider is enabled and has credentials."""
    usable: dict[str, str | None] = {}
    for provider_name in sorted(catalog.providers()):
        provider = providers.get(provider_name)
        if provider is None:
            usable[provider_name] = f"the {provider_name} provider is not enabled on this server"
        elif provider.requires_credentials and await credentials.for_provider(provider_name) is None:
            usable[provider_name] = f"no API key is configured for {provider_name}"
        else:
            usable[provider_name] = None
    return [ModelAvailability(model, usable[model.provider] is None, usable[model.provider]) for model in catalog.all()]


# Non-retryable errors that concern one provider's setup rather than the request: on a FALLBACK
# route they skip to the next fallback (the caller asked for the primary; fallbacks are best
# effort). On the primary route they fail at once like every other non-retryable error.
_PROVIDER_SETUP_ERRORS = (AuthenticationFailed, QuotaExceeded, ModelNotFound, ProviderNotConfigured)


class ProviderRouter:
    def __init__(
        self,
        providers: Mapping[str, LLMProvider],
        catalog: ModelCatalog,
        credentials: CredentialSource,
        *,
        retry: RetryPolicy | None = None,
        circuit_breakers: CircuitBreakers | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        self.providers = providers
        self.catalog = catalog
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self.breakers = circuit_breakers if circuit_breakers is not None else PROCESS_BREAKERS
        self._sleep = sleep
        self._random = random
        # A router lives for one org's execution; each provider's key is looked up (vault) once.
        self._credentials_cache: dict[str, ProviderCredentials | None] = {}

    # -- routing -------------------------------------------------------------------------------

    def resolve(self, model: str) -> Route:
        """The provider and provider-side model id for a catalog id, alias, or `provider/model`."""
        info = self.catalog.get(model)
        if info is not None:
            return Route(info.provider, model, info)
        prefix, slash, rest = model.partition("/")
        if slash and rest and prefix in self.providers:
            known = self.catalog.get(rest)
            return Route(prefix, rest, known if known and known.provider == prefix else None)
        raise ModelNotFound(
            f"unknown model {model!r}: pick a model from the catalog, or name a self-hosted one with its "
            "provider, e.g. 'openai_compatible/llama3.1:8b'",
            provider="router",
        )

    def routes(self, model: str, request: ChatRequest | None = None) -> list[Route]:
        """The requested model's route, then its catalog fallbacks that can serve this request."""
        primary = self.resolve(model)
        routes = [primary]
        if primary.info is not None:
            for fallback in self.catalog.fallback_chain(primary.info.id):
                if request is None or _can_serve(fallback, request):
                    routes.append(Route(fallback.provider, fallback.id, fallback))
        return routes

    @staticmethod
    def adapt(request: ChatRequest, route: Route) -> ChatRequest:
        """`request` for the route's model: its id, and settings that model accepts."""
        changes: dict[str, Any] = {"model": route.model}
        if route.info is not None:
            if not route.info.capabilities.temperature and request.temperature is not None:
                changes["temperature"] = None
            limit = route.info.max_output_tokens
            if limit is not None and request.max_tokens is not None and request.max_tokens > limit:
                changes["max_tokens"] = limit
        return request.replace(**changes)

    # -- calls ---------------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        async def call(provider: LLMProvider, route: Route, credentials: ProviderCredentials) -> ChatResponse:
            return await provider.chat(self.adapt(request, route), credentials)

        response, _ = await self._execute(self.routes(request.model, request), request.model, call)
        return response.replace(requested_model=request.model)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Like `chat`, streamed. Retries and fallback happen only until the first event arrives:
        after that the caller has shown output, and a second answer cannot be spliced onto it."""

        async def open_stream(
            provider: LLMProvider, route: Route, credentials: ProviderCredentials
        ) -> tuple[StreamEvent, AsyncIterator[StreamEvent]]:
            events = provider.stream(self.adapt(request, route), credentials)
            try:
                first = await anext(events)
            except StopAsyncIteration:
                raise MalformedResponse("the stream ended before any output", provider=route.provider) from None
            except BaseException:
                await _aclose(events)
                raise
            return first, events

        (first, events), _ = await self._execute(self.routes(request.model, request), request.model, open_stream)
        try:
            yield _stamp(first, request.model)
            async for event in events:
                yield _stamp(event, request.model)
        finally:
            await _aclose(events)

    async def embed(
        self, model: str, texts: Sequence[str], *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ) -> EmbeddingResponse:
        # Embedding models have no catalog fallbacks: vectors of different models live in different
        # spaces, so a fallback would silently corrupt a knowledge base's index.
        async def call(provider: LLMProvider, route: Route, credentials: ProviderCredentials) -> EmbeddingResponse:
            return await provider.embed(route.model, texts, credentials, timeout_seconds=timeout_seconds)

        response, _ = await self._execute(self.routes(model), model, call)
        return response

    async def verify(self, provider: str, credentials: ProviderCredentials) -> None:
        """Check a key with the provider's cheapest authenticated call; raises a `ProviderError`."""
        found = self.providers.get(provider)
        if found is None:
            raise ProviderNotConfigured(f"the {provider} provider is not enabled on this server", provider=provider)
        await found.verify(credentials)

    async def models_available(self, credentials: CredentialSource | None = None) -> list[ModelAvailability]:
        return await models_available(self.catalog, self.providers, credentials or self.credentials)

    # -- the loop ------------------------------------------------------------------------------

    async def _credentials_for(self, provider: str) -> ProviderCredentials | None:
        if provider not in self._credentials_cache:
            self._credentials_cache[provider] = await self.credentials.for_provider(provider)
        return self._credentials_cache[provider]

    async def _execute(
        self,
        routes: Sequence[Route],
        requested: str,
        call: Callable[[LLMProvider, Route, ProviderCredentials], Awaitable[T]],
    ) -> tuple[T, Route]:
        failures: list[tuple[str, str, ProviderError]] = []
        for position, route in enumerate(routes):
            provider = self.providers.get(route.provider)
            if provider is None:
                message = f"the {route.provider} provider is not enabled on this server"
                failures.append((route.provider, route.model, ProviderNotConfigured(message, provider=route.provider)))
                continue
            credentials = await self._credentials_for(route.provider)
            if credentials is None:
                if provider.requires_credentials:
                    failures.append((route.provider, route.model, ProviderNotConfigured(provider=route.provider)))
                    continue
                credentials = ProviderCredentials(api_key="")
            breaker = self.breakers.get(CircuitBreakers.key(route.provider, credentials))
            if not breaker.allow():
                failures.append((route.provider, route.model, CircuitOpen(provider=route.provider)))
                continue
            if position > 0:
                logger.info("falling back from %s to %s on %s", requested, route.model, route.provider)
            attempt = 0
            while True:
                attempt += 1
                try:
                    result = await call(provider, route, credentials)
                except ProviderError as error:
                    if not error.is_retryable:
                        # The provider answered, so it is healthy; the request or the setup is at fault.
                        breaker.record_success()
                        if position > 0 and isinstance(error, _PROVIDER_SETUP_ERRORS):
                            failures.append((route.provider, route.model, error))
                            break
                        # No fallback: another provider would get the same bad request (400), a
                        # rejected key (401) is a setup problem to surface, not to route around on
                        # someone else's bill, and shopping a refused prompt (content policy) to a
                        # more lenient provider would defeat the policy.
                        raise
                    if isinstance(error, RateLimited):
                        breaker.record_neutral()  # quotas are per key, the breaker is shared by all orgs
                    else:
                        breaker.record_failure()
                    delay = self._delay(error, attempt)
                    if delay is None or attempt >= self.retry.max_attempts or breaker.state != "closed":
                        failures.append((route.provider, route.model, error))
                        break
                    logger.info(
                        "retrying %s on %s in %.2fs after: %s", route.model, route.provider, delay, error.message
                    )
                    await self._sleep(delay)
                except BaseException:
                    breaker.record_neutral()  # cancelled or a bug: no verdict on the provider's health
                    raise
                else:
                    breaker.record_success()
                    return result, route
        raise AllProvidersFailed(requested, failures)

    def _delay(self, error: ProviderError, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to stop trying this provider."""
        if isinstance(error, RateLimited) and error.retry_after is not None:
            if error.retry_after > self.retry.max_retry_after:
                return None
            return error.retry_after
        return self.retry.backoff(attempt, self._random())


def _can_serve(model: ModelInfo, request: ChatRequest) -> bool:
    capabilities = model.capabilities
    if not capabilities.chat:
        return False
    if request.tools and not capabilities.tools:
        return False
    if request.response_format == "json" and not capabilities.json_mode:
        return False
    return not (isinstance(request.response_format, Mapping) and not capabilities.json_schema)


def _stamp(event: StreamEvent, requested_model: str) -> StreamEvent:
    if isinstance(event, StreamDone):
        return StreamDone(event.response.replace(requested_model=requested_model))
    return event


async def _aclose(events: AsyncIterator[StreamEvent]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()
