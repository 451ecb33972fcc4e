"""Settings every AI node shares: which model, how creative, how long an answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from agentflow.engine.nodes.base import NodeConfig, widget_hint

# Provider-qualified names too: "gpt-4o-mini", "claude-sonnet-4-5", "openai/gpt-4o", "llama3.1:8b".
ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,99}$")]

DEFAULT_MODEL = "gpt-4o-mini"
MAX_PROMPT_LENGTH = 100_000


class LanguageModelSettings(NodeConfig):
    model: ModelName = Field(
        default=DEFAULT_MODEL,
        description="The model to call; the provider is derived from it.",
        json_schema_extra=widget_hint("model"),
    )
    temperature: float = Field(default=0.7, ge=0, le=2, description="Higher is more varied, lower more predictable.")
    max_tokens: int = Field(default=1024, ge=1, le=200_000, description="Upper bound on the answer's length in tokens.")


class DeterministicLanguageModelSettings(LanguageModelSettings):
    """For nodes whose answer must be one of a fixed set or fit a schema: temperature 0 by default."""

    temperature: float = Field(default=0.0, ge=0, le=2, description="Higher is more varied, lower more predictable.")
