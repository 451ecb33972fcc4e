"""Loop: run the `loop_body` branch once per item of a list, then continue on `done`.

Inside the body, {{loop.item}} is the current item and {{loop.index}} its 0-based position. The
body's last node connects back into the loop node to take the next item; that edge is the only kind
of cycle a definition may contain.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from agentflow.engine.nodes.base import INPUT, Handle, NodeConfig, NodeType, template_hint
from agentflow.engine.nodes.context import NodeError, NodeResult, NodeRun
from agentflow.engine.variables import TemplateSyntaxError, parse_template

LOOP_BODY_OUTPUT = Handle("loop_body", "Each item")
DONE_OUTPUT = Handle("done", "Done")


class LoopConfig(NodeConfig):
    items: str = Field(
        min_length=1,
        max_length=1000,
        description="One reference that yields a list, e.g. {{fetch_rows.output.items}}.",
        json_schema_extra=template_hint(multiline=False),
    )
    max_iterations: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Stop after this many items, so a huge list can't run away with time and cost.",
    )

    @field_validator("items")
    @classmethod
    def _items_is_one_reference(cls, items: str) -> str:
        try:
            template = parse_template(items)
        except TemplateSyntaxError:
            return items  # reported with its position by the template check
        if not template.is_single_expression:
            raise ValueError("items must be exactly one {{ reference }} that yields a list, with no text around it")
        return items


async def run(config: LoopConfig, run: NodeRun) -> NodeResult:
    """Resolves the items; the engine then runs the loop_body path once per item, then `done`."""
    items = run.render(config.items, "config.items")
    if not isinstance(items, list):
        raise NodeError(f"{config.items} is {type(items).__name__}, not a list", code="NOT_A_LIST")
    kept = items[: config.max_iterations]
    output = {"items": kept, "count": len(kept), "truncated": len(items) > len(kept)}
    return NodeResult(output=output, handle=LOOP_BODY_OUTPUT.id if kept else DONE_OUTPUT.id)


NODE_TYPE = NodeType(
    type="logic",
    subtype="loop",
    display_name="Loop",
    description="Repeat a branch for each item of a list; the current item is {{loop.item}}.",
    category="Logic",
    icon="repeat",
    config_model=LoopConfig,
    handler=run,
    inputs=(Handle(INPUT.id, INPUT.label, multiple=True),),
    static_outputs=(LOOP_BODY_OUTPUT, DONE_OUTPUT),
)
