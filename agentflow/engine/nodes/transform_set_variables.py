"""Set variables: name values once, read them anywhere downstream as {{vars.name}}."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from agentflow.engine.nodes.base import NodeConfig, NodeType, template_hint
from agentflow.engine.nodes.context import NodeResult, NodeRun

VARIABLE_NAME_PATTERN = r"^[a-z_][a-z0-9_]{0,63}$"
VariableName = Annotated[str, StringConstraints(pattern=VARIABLE_NAME_PATTERN)]


class SetVariablesConfig(NodeConfig):
    variables: dict[VariableName, Any] = Field(
        min_length=1,
        max_length=100,
        description="Name → value (any JSON; strings may be templates). A later node setting a name overwrites it.",
        json_schema_extra={**template_hint(), "x-widget": "key-value"},
    )


async def run(config: SetVariablesConfig, run: NodeRun) -> NodeResult:
    values = {name: run.render(value, f"config.variables.{name}") for name, value in config.variables.items()}
    return NodeResult(output=values, variables=values)


NODE_TYPE = NodeType(
    type="transform",
    subtype="set_variables",
    display_name="Set variables",
    description="Store values under names, readable downstream as {{vars.name}}.",
    category="Transform",
    icon="variable",
    config_model=SetVariablesConfig,
    handler=run,
)
