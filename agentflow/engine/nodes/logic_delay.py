"""Delay: wait a number of seconds, or until a moment. The run parks meanwhile; no worker is held."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Self

from langgraph.types import interrupt
from pydantic import Field, model_validator

from agentflow.engine.nodes.base import NodeConfig, NodeType, template_hint
from agentflow.engine.nodes.context import NodeError, NodeResult, NodeRun

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


async def run(config: DelayConfig, run: NodeRun) -> NodeResult:
    """Short waits happen in process. A wait longer than the engine's in-process limit parks the run:
    the node interrupts with {"kind": "delay", "resume_at": epoch seconds}; `run_execution` then
    returns status "parked" with `resume_at`, no worker is held, and the domain calls `run_execution`
    again at (or after) that time, which continues the run past the delay."""
    now = run.now()
    if config.seconds is not None:
        wait = float(config.seconds)
    else:
        resume_at = _parse_time(run.render_text(config.until, "config.until"))
        wait = max(0.0, resume_at - now)
    if wait <= run.in_process_delay_limit:
        await run.sleep(wait)
        return NodeResult(output={"waited_seconds": wait, "parked": False})
    interrupt({"kind": "delay", "node_id": run.node_id, "step_id": str(run.step_id), "resume_at": now + wait})
    return NodeResult(output={"waited_seconds": wait, "parked": True})


def _parse_time(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise NodeError(f"{text[:100]!r} is not an ISO 8601 time", code="INVALID_TIME") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


NODE_TYPE = NodeType(
    type="logic",
    subtype="delay",
    display_name="Delay",
    description="Pause the run for a while or until a given time.",
    category="Logic",
    icon="timer",
    config_model=DelayConfig,
    handler=run,
)
