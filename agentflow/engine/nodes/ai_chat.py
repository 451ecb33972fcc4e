"""AI chat: send a prompt (and a system prompt) to a language model. Output: {{id.output.text}}."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from agentflow.engine.nodes.base import ERROR_OUTPUT, OUTPUT, NodeType, template_hint
from agentflow.engine.nodes.context import NodeError, NodeResult, NodeRun
from agentflow.engine.nodes.llm_call import call_model, model_result
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


async def run(config: ChatConfig, run: NodeRun) -> NodeResult:
    system = run.render_text(config.system_prompt, "config.system_prompt")
    prompt = run.render_text(config.prompt, "config.prompt")
    as_json = config.response_format == "json"
    response = await call_model(run, config, system=system, user=prompt, response_format="json" if as_json else None)
    output: dict[str, Any] = {"text": response.text}
    if as_json:
        try:
            output["data"] = json.loads(response.text)
        except ValueError:
            raise NodeError("the model did not answer with valid JSON", code="INVALID_MODEL_OUTPUT") from None
    return model_result(response, output)


NODE_TYPE = NodeType(
    type="ai",
    subtype="chat",
    display_name="AI chat",
    description="Ask a language model; its answer is {{node_id.output.text}}.",
    category="AI",
    icon="sparkles",
    config_model=ChatConfig,
    handler=run,
    static_outputs=(OUTPUT, ERROR_OUTPUT),
)
