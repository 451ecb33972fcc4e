"""AI classify: put a text into one of a few categories; the flow continues on that category's handle."""

from __future__ import annotations

from pydantic import Field, field_validator

from agentflow.engine.nodes.base import ERROR_OUTPUT, DynamicOutputs, NodeConfig, NodeType, template_hint
from agentflow.engine.nodes.context import NodeError, NodeResult, NodeRun
from agentflow.engine.nodes.llm_call import call_model, model_result
from agentflow.engine.nodes.llm_settings import MAX_PROMPT_LENGTH, DeterministicLanguageModelSettings
from agentflow.engine.spec import HandleId


class ClassifyCategory(NodeConfig):
    key: HandleId = Field(description="Names the output handle, e.g. sales, support, spam.")
    description: str = Field(
        default="",
        max_length=1000,
        description="What belongs here; the model reads this to decide.",
    )


class ClassifyConfig(DeterministicLanguageModelSettings):
    input: str = Field(
        min_length=1,
        max_length=MAX_PROMPT_LENGTH,
        description="The text to classify, e.g. {{trigger.data.message}}.",
        json_schema_extra=template_hint(),
    )
    categories: list[ClassifyCategory] = Field(
        min_length=2,
        max_length=20,
        description="One output handle per category, in this order.",
    )
    instructions: str = Field(
        default="",
        max_length=10_000,
        description="Extra guidance for borderline cases.",
        json_schema_extra=template_hint(),
    )

    @field_validator("categories")
    @classmethod
    def _keys_are_unique_handles(cls, categories: list[ClassifyCategory]) -> list[ClassifyCategory]:
        keys = [category.key for category in categories]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"category keys must be unique; repeated: {', '.join(duplicates)}")
        if ERROR_OUTPUT.id in keys:
            raise ValueError(f"'{ERROR_OUTPUT.id}' is the failure handle; name the category differently")
        return categories


async def run(config: ClassifyConfig, run: NodeRun) -> NodeResult:
    text = run.render_text(config.input, "config.input")
    listing = "\n".join(
        f"- {category.key}" + (f": {category.description}" if category.description else "")
        for category in config.categories
    )
    system = "Classify the user's text into exactly one of these categories and answer with its key only:\n" + listing
    instructions = run.render_text(config.instructions, "config.instructions")
    if instructions:
        system += f"\n{instructions}"
    response = await call_model(run, config, system=system, user=text)
    category = pick_category(response.text, [category.key for category in config.categories])
    if category is None:
        raise NodeError(
            f"the model answered {response.text[:100]!r}, which is none of the categories", code="NO_CATEGORY"
        )
    return model_result(response, {"category": category, "text": response.text}, handle=category)


def pick_category(answer: str, keys: list[str]) -> str | None:
    """The key the answer names: an exact match (ignoring case, quotes, punctuation), else the only key it mentions."""
    cleaned = answer.strip().strip("\"'`.*:").strip().lower()
    for key in keys:
        if cleaned == key.lower():
            return key
    mentioned = [key for key in keys if key.lower() in answer.lower()]
    return mentioned[0] if len(mentioned) == 1 else None


NODE_TYPE = NodeType(
    type="ai",
    subtype="classify",
    display_name="AI classify",
    description="Sort a text into one of your categories and branch on it; {{node_id.output.category}} is the key.",
    category="AI",
    icon="tags",
    config_model=ClassifyConfig,
    handler=run,
    static_outputs=(ERROR_OUTPUT,),
    dynamic_outputs=DynamicOutputs(from_field="categories", key_field="key"),
)
