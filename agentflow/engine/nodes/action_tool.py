"""Tool action: call one action of an integration (http.request, slack.send_message, …).

Each tool declares its params model, which checks the rendered `params`. With a `credential_id`,
the node opens that connected integration's secret (it must belong to the tool's own provider)
and hands it to the tool in its context, never through the params, so it reaches no step record.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, StringConstraints, ValidationError

from agentflow.engine.nodes.base import ERROR_OUTPUT, OUTPUT, NodeConfig, NodeType, template_hint, widget_hint
from agentflow.engine.nodes.context import NodeError, NodeResult, NodeRun
from agentflow.engine.tools import ToolContext, tool_provider

ToolName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=100)]


class ToolConfig(NodeConfig):
    tool: ToolName = Field(
        description="Integration and action, e.g. http.request or slack.send_message.",
        json_schema_extra=widget_hint("tool"),
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="The action's parameters; strings may reference data, e.g. {{trigger.data.email}}.",
        json_schema_extra={**template_hint(), "x-widget": "tool-params"},
    )
    credential_id: UUID | None = Field(
        default=None,
        strict=False,  # arrives as a JSON string
        description="The connected account to act as; its secret never appears in the definition.",
        json_schema_extra=widget_hint("credential"),
    )
    timeout_seconds: int = Field(default=30, ge=1, le=300, description="Give up (and take the error path) after this.")


async def run(config: ToolConfig, run: NodeRun) -> NodeResult:
    tool = run.tools.get(config.tool)
    if tool is None:
        raise NodeError(f"unknown tool {config.tool!r}", code="UNKNOWN_TOOL")
    raw_params = run.render(config.params, "config.params")
    try:
        params = tool.params_model.model_validate(raw_params)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise NodeError(
            f"invalid parameters for {config.tool}: {where}: {first['msg']}", code="INVALID_PARAMS"
        ) from None
    credential = None
    if config.credential_id is not None:
        provider = tool_provider(config.tool)
        if run.credentials is not None:
            credential = await run.credentials.resolve(config.credential_id, provider=provider)
        if credential is None:
            raise NodeError(
                f"credential {config.credential_id} is not a connected {provider} integration of this org",
                code="CREDENTIAL_NOT_FOUND",
            )
    context = ToolContext(
        org_id=run.org_id,
        execution_id=run.execution_id,
        node_id=run.node_id,
        credential_id=config.credential_id,
        timeout_seconds=float(config.timeout_seconds),
        egress_allowed_hosts=run.egress_allowed_hosts,
        credential=credential,
    )
    return NodeResult(output=await tool.run(params, context))


NODE_TYPE = NodeType(
    type="action",
    subtype="tool",
    display_name="Tool action",
    description="Call an integration's action, such as sending a Slack message or an HTTP request.",
    category="Actions",
    icon="wrench",
    config_model=ToolConfig,
    handler=run,
    static_outputs=(OUTPUT, ERROR_OUTPUT),
    has_side_effects=True,
)
