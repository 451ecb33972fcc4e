"""Webhook trigger: an outside system POSTs to the agent's webhook URL.

The signing secret lives with the trigger's registration (encrypted), never in the definition: a
definition is exported and shared as code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agentflow.engine.nodes.base import NodeConfig, NodeType
from agentflow.engine.nodes.context import run_trigger


class WebhookTriggerConfig(NodeConfig):
    respond_mode: Literal["immediately", "when_done"] = Field(
        default="immediately",
        description=(
            "immediately: answer 202 with the execution id at once. "
            "when_done: hold the request until a Respond node (or the end) and answer with its body."
        ),
    )
    response_timeout_seconds: int = Field(
        default=30,
        ge=1,
        le=300,
        description="With when_done: how long to hold the request before answering 202 and running on.",
    )
    require_signature: bool = Field(
        default=True,
        description="Reject requests without a valid HMAC signature made with the webhook's secret.",
    )


NODE_TYPE = NodeType(
    type="trigger",
    subtype="webhook",
    display_name="Webhook",
    description="Start the agent when an HTTP request arrives at its webhook URL. Body is {{trigger.data}}.",
    category="Triggers",
    icon="webhook",
    config_model=WebhookTriggerConfig,
    handler=run_trigger,
    inputs=(),
)
