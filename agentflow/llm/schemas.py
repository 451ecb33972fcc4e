from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from agentflow.kit.schemas import RequestModel

ApiKey = Annotated[str, StringConstraints(min_length=8, max_length=500, strip_whitespace=True)]


class ProviderKeyIn(RequestModel):
    api_key: ApiKey = Field(description="Write-only: stored encrypted, never shown again")
    base_url: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        None, description="For OpenAI-compatible servers (Ollama, vLLM, LM Studio, Azure OpenAI)"
    )
    api_version: Annotated[str, StringConstraints(max_length=50)] | None = Field(None, description="Azure OpenAI")
    organization: Annotated[str, StringConstraints(max_length=100)] | None = Field(None, description="OpenAI org id")


class ProviderStatusOut(BaseModel):
    provider: str
    display_name: str
    source: Literal["org", "platform", "none"] = Field(description="Whose key calls use right now")
    key_hint: str | None = Field(description="Masked hint of the org's own key, e.g. '…a1b2'")
    base_url: str | None
    verified: bool
    verified_at: datetime | None
    last_error: str | None
    updated_at: datetime | None


class ModelOut(BaseModel):
    id: str
    provider: str
    display_name: str
    context_window: int
    max_output_tokens: int | None
    input_per_1m: str = Field(description="USD per million input tokens (decimal string)")
    output_per_1m: str = Field(description="USD per million output tokens (decimal string)")
    capabilities: dict[str, bool | int | None]
    fallbacks: list[str]
    aliases: list[str]
    notes: str
    available: bool = Field(description="This org can call it right now (provider enabled, key present)")
    unavailable_reason: str | None


class ModelsOut(BaseModel):
    catalog_updated: str
    models: list[ModelOut]
