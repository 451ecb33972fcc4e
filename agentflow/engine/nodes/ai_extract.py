"""AI extract: pull structured data out of a text, shaped by a JSON Schema. Output: {{id.output.data}}."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import Field, field_validator

from agentflow.engine.nodes.base import ERROR_OUTPUT, OUTPUT, NodeType, template_hint, widget_hint
from agentflow.engine.nodes.context import NodeError, NodeResult, NodeRun
from agentflow.engine.nodes.json_schema_documents import check_object_schema
from agentflow.engine.nodes.llm_call import call_model, model_result
from agentflow.engine.nodes.llm_settings import MAX_PROMPT_LENGTH, DeterministicLanguageModelSettings


class ExtractConfig(DeterministicLanguageModelSettings):
    input: str = Field(
        min_length=1,
        max_length=MAX_PROMPT_LENGTH,
        description="The text to read, e.g. {{trigger.data.email_body}}.",
        json_schema_extra=template_hint(),
    )
    json_schema: dict[str, Any] = Field(
        description='The shape of the result, a JSON Schema object: {"type": "object", "properties": {…}}.',
        json_schema_extra=widget_hint("json-schema"),
    )
    instructions: str = Field(
        default="",
        max_length=10_000,
        description="Extra guidance, e.g. how to treat missing values.",
        json_schema_extra=template_hint(),
    )

    @field_validator("json_schema")
    @classmethod
    def _json_schema_is_valid(cls, schema: dict[str, Any]) -> dict[str, Any]:
        return check_object_schema(schema)


async def run(config: ExtractConfig, run: NodeRun) -> NodeResult:
    text = run.render_text(config.input, "config.input")
    system = "Extract the requested fields from the user's text as a JSON object matching the schema."
    instructions = run.render_text(config.instructions, "config.instructions")
    if instructions:
        system += f"\n{instructions}"
    response = await call_model(run, config, system=system, user=text, response_format=config.json_schema)
    try:
        data = json.loads(response.text)
    except ValueError:
        raise NodeError("the model did not answer with valid JSON", code="INVALID_MODEL_OUTPUT") from None
    errors = sorted(Draft202012Validator(config.json_schema).iter_errors(data), key=lambda error: list(error.path))
    if errors:
        first = errors[0]
        where = "/".join(str(part) for part in first.absolute_path)
        raise NodeError(
            f"the extracted data does not match the schema: {first.message}" + (f" (at /{where})" if where else ""),
            code="SCHEMA_MISMATCH",
        )
    return model_result(response, {"data": data})


NODE_TYPE = NodeType(
    type="ai",
    subtype="extract",
    display_name="AI extract",
    description="Extract fields from a text into JSON matching your schema; the result is {{node_id.output.data}}.",
    category="AI",
    icon="scan-text",
    config_model=ExtractConfig,
    handler=run,
    static_outputs=(OUTPUT, ERROR_OUTPUT),
)
