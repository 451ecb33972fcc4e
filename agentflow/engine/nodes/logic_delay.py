"""Delay: wait a number of seconds, or until a moment. The run parks meanwhile; no worker is held."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from agentflow.engine.nodes.base import NodeConfig, NodeType, template_hint

MAX_DELAY_SECONDS = 30 * 24 * 3600


class DelayConfig(NodeConfig):
    seconds: int | None = Field(
        default=None,
        ge=0,
        le=MAX_DELAY_SECONDS,
        description="Wait this long (at most 30 days). Set this or until, not both.",
    )
    until: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Wait until this ISO 8601 time, e.g. {{trigger.data.send_at}}. Set this or seconds, not both.",
        json_schema_extra=template_hint(multiline=False),
    )

    @model_validator(mode="after")
    def _exactly_one_of_seconds_and_until(self) -> Self:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("set exactly one of seconds and until")
        return self


NODE_TYPE = NodeType(
    type="logic",
    subtype="delay",
    display_name="Delay",
    description="Pause the run for a while or until a given time.",
    category="Logic",
    icon="timer",
    config_model=DelayConfig,
)
