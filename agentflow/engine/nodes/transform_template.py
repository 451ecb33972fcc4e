"""Template: build a text from earlier data. Output: {{id.output.text}}."""

from __future__ import annotations

from pydantic import Field

from agentflow.engine.nodes.base import NodeConfig, NodeType, template_hint
from agentflow.engine.nodes.context import NodeResult, NodeRun


class TemplateConfig(NodeConfig):
    template: str = Field(
        min_length=1,
        max_length=100_000,
        description="Text with references, e.g. 'Hi {{trigger.data.name | default(\"there\")}}'.",
        json_schema_extra=template_hint(),
    )


async def run(config: TemplateConfig, run: NodeRun) -> NodeResult:
    return NodeResult(output={"text": run.render_text(config.template, "config.template")})


NODE_TYPE = NodeType(
    type="transform",
    subtype="template",
    display_name="Text template",
    description="Compose text from earlier data; the result is {{node_id.output.text}}.",
    category="Transform",
    icon="text-cursor-input",
    config_model=TemplateConfig,
    handler=run,
)
