"""Manual trigger: someone presses Run in the app, optionally filling in an input form."""

from __future__ import annotations

from agentflow.engine.nodes.base import NodeType
from agentflow.engine.nodes.context import run_trigger
from agentflow.engine.nodes.json_schema_documents import RunInputConfig


class ManualTriggerConfig(RunInputConfig):
    pass


NODE_TYPE = NodeType(
    type="trigger",
    subtype="manual",
    display_name="Manual trigger",
    description="Start the agent by hand from the app, with optional input.",
    category="Triggers",
    icon="mouse-pointer-click",
    config_model=ManualTriggerConfig,
    handler=run_trigger,
    inputs=(),
)
