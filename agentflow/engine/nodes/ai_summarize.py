"""AI summarize: condense a text. Output: {{id.output.text}}."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agentflow.engine.nodes.base import ERROR_OUTPUT, OUTPUT, NodeType, template_hint
from agentflow.engine.nodes.context import NodeResult, NodeRun
from agentflow.engine.nodes.llm_call import call_model, model_result
from agentflow.engine.nodes.llm_settings import MAX_PROMPT_LENGTH, LanguageModelSettings


class SummarizeConfig(LanguageModelSettings):
    input: str = Field(
        min_length=1,
        max_length=MAX_PROMPT_LENGTH,
        description="The text to summarize, e.g. {{trigger.data.transcript}}.",
        json_schema_extra=template_hint(),
    )
    style: Literal["brief", "detailed", "bullets"] = Field(
        default="brief",
        description="brief: a few sentences; detailed: a thorough summary; bullets: a bulleted list.",
    )
    max_words: int | None = Field(default=None, ge=10, le=5000, description="Upper bound on the summary's length.")
    instructions: str = Field(
        default="",
        max_length=10_000,
        description="Extra guidance, e.g. 'focus on decisions and owners'.",
        json_schema_extra=template_hint(),
    )


_STYLES = {
    "brief": "Summarize the text in a few sentences.",
    "detailed": "Write a thorough summary of the text.",
    "bullets": "Summarize the text as a bulleted list.",
}


async def run(config: SummarizeConfig, run: NodeRun) -> NodeResult:
    text = run.render_text(config.input, "config.input")
    system = _STYLES[config.style]
    if config.max_words:
        system += f" Use at most {config.max_words} words."
    instructions = run.render_text(config.instructions, "config.instructions")
    if instructions:
        system += f"\n{instructions}"
    response = await call_model(run, config, system=system, user=text)
    return model_result(response, {"text": response.text})


NODE_TYPE = NodeType(
    type="ai",
    subtype="summarize",
    display_name="AI summarize",
    description="Summarize a text with a language model; the summary is {{node_id.output.text}}.",
    category="AI",
    icon="file-text",
    config_model=SummarizeConfig,
    handler=run,
    static_outputs=(OUTPUT, ERROR_OUTPUT),
)
