"""API trigger: a client calls POST /agents/{id}/execute with an API key."""

from __future__ import annotations

from agentflow.engine.nodes.base import NodeType
from agentflow.engine.nodes.context import run_trigger
from agentflow.engine.nodes.json_schema_documents import RunInputConfig


class ApiTriggerConfig(RunInputConfig):
    pass


NODE_TYPE = NodeType(
    type="trigger",
    subtype="api",
    display_name="API trigger",
    description="Start the agent from code: the REST API, the SDKs or the CLI.",
    category="Triggers",
    icon="code",
    config_model=ApiTriggerConfig,
    handler=run_trigger,
    inputs=(),
)
