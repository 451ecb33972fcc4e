"""Servers that speak OpenAI's wire format at their own base URL: Ollama, vLLM, LM Studio, and
Azure OpenAI — through the same official `openai` SDK, so a self-hosted model needs no new code.

Credentials: `base_url` is required (e.g. `http://ollama:11434/v1`). Azure is chosen by
`extra["api_version"]`; then `base_url` is the resource endpoint and the model is the deployment
name. Local servers often need no key; any placeholder works. Prices are unknown for self-hosted
models, so cost is zero unless the catalog lists the model.
"""

from __future__ import annotations

import openai

from agentflow.engine.providers.base import ProviderCredentials
from agentflow.engine.providers.catalog import ModelCatalog
from agentflow.engine.providers.errors import ProviderNotConfigured
from agentflow.engine.providers.openai import OpenAIProvider


class OpenAICompatibleProvider(OpenAIProvider):
    # Servers other than OpenAI's own know the original name of the output limit.
    max_tokens_parameter = "max_tokens"

    def __init__(self, catalog: ModelCatalog | None = None, *, name: str = "openai_compatible") -> None:
        super().__init__(catalog, name=name)

    def client(self, credentials: ProviderCredentials) -> openai.AsyncOpenAI:
        if not credentials.base_url:
            raise ProviderNotConfigured("set the server's base URL for this provider", provider=self.name)
        return super().client(credentials)

    def build_client(self, credentials: ProviderCredentials) -> openai.AsyncOpenAI:
        assert credentials.base_url is not None  # checked in client()
        api_version = credentials.extra.get("api_version")
        if api_version:
            return openai.AsyncAzureOpenAI(
                api_key=credentials.api_key,
                azure_endpoint=credentials.base_url,
                api_version=api_version,
                max_retries=0,  # the router retries, honoring Retry-After and falling back
                http_client=self._http.get(),
            )
        return openai.AsyncOpenAI(
            # The SDK refuses an empty key; keyless local servers ignore whatever is sent.
            api_key=credentials.api_key or "not-needed",
            base_url=credentials.base_url,
            max_retries=0,
            http_client=self._http.get(),
        )
