"""Switch: compare one value with several cases; continue on the first matching case or `default`."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from agentflow.engine.nodes.base import DynamicOutputs, Handle, NodeConfig, NodeType, template_hint
from agentflow.engine.nodes.context import NodeResult, NodeRun
from agentflow.engine.nodes.logic_if_else import values_equal
from agentflow.engine.spec import HandleId

DEFAULT_OUTPUT = Handle("default", "Default")


class SwitchCase(NodeConfig):
    key: HandleId = Field(description="Names the output handle, e.g. high, medium.")
    equals: Any = Field(
        description="The value that selects this case (any JSON value; strings may be templates).",
        json_schema_extra=template_hint(multiline=False),
    )


class SwitchConfig(NodeConfig):
    value: str = Field(
        min_length=1,
        max_length=10_000,
        description="The value to switch on, e.g. {{classify.output.category}}.",
        json_schema_extra=template_hint(multiline=False),
    )
    cases: list[SwitchCase] = Field(
        min_length=1,
        max_length=50,
        description="Checked in order; the first equal case wins, otherwise the default handle.",
    )

    @field_validator("cases")
    @classmethod
    def _keys_are_unique_handles(cls, cases: list[SwitchCase]) -> list[SwitchCase]:
        keys = [case.key for case in cases]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"case keys must be unique; repeated: {', '.join(duplicates)}")
        if DEFAULT_OUTPUT.id in keys:
            raise ValueError(f"'{DEFAULT_OUTPUT.id}' is the fallback handle; name the case differently")
        return cases


async def run(config: SwitchConfig, run: NodeRun) -> NodeResult:
    value = run.render(config.value, "config.value")
    for index, case in enumerate(config.cases):
        if values_equal(value, run.render(case.equals, f"config.cases[{index}].equals")):
            return NodeResult(output={"value": value, "case": case.key}, handle=case.key)
    return NodeResult(output={"value": value, "case": DEFAULT_OUTPUT.id}, handle=DEFAULT_OUTPUT.id)


NODE_TYPE = NodeType(
    type="logic",
    subtype="switch",
    display_name="Switch",
    description="Branch on a value: one output per case, plus default.",
    category="Logic",
    icon="split",
    config_model=SwitchConfig,
    handler=run,
    static_outputs=(DEFAULT_OUTPUT,),
    dynamic_outputs=DynamicOutputs(from_field="cases", key_field="key"),
)
