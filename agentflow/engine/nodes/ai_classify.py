"""AI classify: put a text into one of a few categories; the flow continues on that category's handle."""

from __future__ import annotations

from pydantic import Field, field_validator

from agentflow.engine.nodes.base import ERROR_OUTPUT, DynamicOutputs, NodeConfig, NodeType, template_hint
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


NODE_TYPE = NodeType(
    type="ai",
    subtype="classify",
    display_name="AI classify",
    description="Sort a text into one of your categories and branch on it; {{node_id.output.category}} is the key.",
    category="AI",
    icon="tags",
    config_model=ClassifyConfig,
    static_outputs=(ERROR_OUTPUT,),
    dynamic_outputs=DynamicOutputs(from_field="categories", key_field="key"),
)
