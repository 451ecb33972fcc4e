"""The LLM provider layer: one interface over OpenAI, Anthropic, Google Gemini, OpenAI-compatible
servers and an offline scripted provider, with a dated model catalog and a router that retries,
falls back to equivalent models and keeps failing providers out for a cool-down.

Typical use (the API layer supplies the credentials: an org's own key from the vault, else the
platform key):

    router = ProviderRouter(build_providers(), default_catalog(), org_credentials)
    response = await router.chat(ChatRequest(model="gpt-4o", messages=[ChatMessage.user("Hi")]))
    response.provider, response.model, response.cost   # who actually served it, and what it cost
"""

from __future__ import annotations

from agentflow.engine.providers.base import (
    ChatMessage,
    ChatRequest,
    ChatResponse,
    EmbeddingResponse,
    LLMProvider,
    ProviderCredentials,
    StreamDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
)
from agentflow.engine.providers.catalog import Capabilities, ModelCatalog, ModelInfo, default_catalog
from agentflow.engine.providers.errors import (
    AllProvidersFailed,
    AuthenticationFailed,
    CircuitOpen,
    ContentPolicyViolation,
    InvalidRequest,
    MalformedResponse,
    ModelNotFound,
    ProviderConnectionError,
    ProviderError,
    ProviderNotConfigured,
    ProviderServerError,
    ProviderTimeout,
    QuotaExceeded,
    RateLimited,
    RetryableProviderError,
)
from agentflow.engine.providers.router import (
    BreakerPolicy,
    CircuitBreakers,
    CredentialSource,
    ModelAvailability,
    ProviderRouter,
    RetryPolicy,
    StaticCredentials,
    models_available,
)

# Provider names as used in the catalog, credentials and `/org/providers/{provider}`.
PROVIDER_NAMES = ("openai", "anthropic", "google", "openai_compatible", "scripted")


def build_providers(catalog: ModelCatalog | None = None) -> dict[str, LLMProvider]:
    """One instance of every provider, keyed by name. SDKs are imported here, not at package import."""
    from agentflow.engine.providers.anthropic import AnthropicProvider
    from agentflow.engine.providers.google import GoogleProvider
    from agentflow.engine.providers.openai import OpenAIProvider
    from agentflow.engine.providers.openai_compatible import OpenAICompatibleProvider
    from agentflow.engine.providers.scripted import ScriptedProvider

    catalog = catalog or default_catalog()
    providers: list[LLMProvider] = [
        OpenAIProvider(catalog),
        AnthropicProvider(catalog),
        GoogleProvider(catalog),
        OpenAICompatibleProvider(catalog),
        ScriptedProvider(),
    ]
    return {provider.name: provider for provider in providers}


__all__ = [
    "PROVIDER_NAMES",
    "AllProvidersFailed",
    "AuthenticationFailed",
    "BreakerPolicy",
    "Capabilities",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "CircuitBreakers",
    "CircuitOpen",
    "ContentPolicyViolation",
    "CredentialSource",
    "EmbeddingResponse",
    "InvalidRequest",
    "LLMProvider",
    "MalformedResponse",
    "ModelAvailability",
    "ModelCatalog",
    "ModelInfo",
    "ModelNotFound",
    "ProviderConnectionError",
    "ProviderCredentials",
    "ProviderError",
    "ProviderNotConfigured",
    "ProviderRouter",
    "ProviderServerError",
    "ProviderTimeout",
    "QuotaExceeded",
    "RateLimited",
    "RetryPolicy",
    "RetryableProviderError",
    "StaticCredentials",
    "StreamDone",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    "Usage",
    "build_providers",
    "default_catalog",
    "models_available",
]
