"""Respond: answer the waiting webhook (respond_mode when_done) or API caller, then run on."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from agentflow.engine.nodes.base import NodeConfig, NodeType, template_hint
from agentflow.engine.nodes.context import NodeResult, NodeRun


class RespondConfig(NodeConfig):
    body: str = Field(
        default="",
        max_length=100_000,
        description=(
            "The response body. One reference alone, like {{draft.output}}, sends its value as JSON; "
            "anything else is sent as text."
        ),
        json_schema_extra=template_hint(),
    )
    status_code: int = Field(default=200, ge=200, le=599, description="HTTP status of the response.")
    content_type: Literal["auto", "application/json", "text/plain"] = Field(
        default="auto",
        description="auto: JSON for objects and lists, text otherwise.",
    )


async def run(config: RespondConfig, run: NodeRun) -> NodeResult:
    body = run.render(config.body, "config.body")
    content_type = config.content_type
    if content_type == "auto":
        content_type = "application/json" if isinstance(body, dict | list) else "text/plain"
    if content_type == "text/plain" and not isinstance(body, str):
        body = "" if body is None else json.dumps(body, ensure_ascii=False, default=str)
    response = {"body": body, "status_code": config.status_code, "content_type": content_type}
    return NodeResult(output=response, response=response)


NODE_TYPE = NodeType(
    type="flow",
    subtype="respond",
    display_name="Respond",
    description="Send the HTTP response to the caller waiting on a webhook; the run may go on after it.",
    category="Logic",
    icon="reply",
    config_model=RespondConfig,
    handler=run,
)
