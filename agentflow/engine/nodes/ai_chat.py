"""AI chat: send a prompt (and a system prompt) to a language model. Output: {{id.output.text}}."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agentflow.engine.nodes.base import ERROR_OUTPUT, OUTPUT, NodeType, template_hint
from agentflow.engine.nodes.llm_settings import MAX_PROMPT_LENGTH, LanguageModelSettings


class ChatConfig(LanguageModelSettings):
    system_prompt: str = Field(
        default="",
        max_length=MAX_PROMPT_LENGTH,
        description="Instructions that frame every answer (role, tone, rules).",
        json_schema_extra=template_hint(),
    )
    prompt: str = Field(
        min_length=1,
        max_length=MAX_PROMPT_LENGTH,
        description="The message to the model; reference earlier data like {{trigger.data.question}}.",
        json_schema_extra=template_hint(),
    )
    response_format: Literal["text", "json"] = Field(
        default="text",
        description="json: ask for a JSON object and parse it into {{id.output.data}}.",
    )


NODE_TYPE = NodeType(
    type="ai",
    subtype="chat",
    display_name="AI chat",
    description="Ask a language model; its answer is {{node_id.output.text}}.",
    category="AI",
    icon="sparkles",
    config_model=ChatConfig,
    static_outputs=(OUTPUT, ERROR_OUTPUT),
)
