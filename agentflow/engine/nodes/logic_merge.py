"""Merge: join branches back into one path."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agentflow.engine.nodes.base import INPUT, Handle, NodeConfig, NodeType
from agentflow.engine.nodes.context import NodeResult, NodeRun


class MergeConfig(NodeConfig):
    mode: Literal["all", "any"] = Field(
        default="all",
        description="all: wait for every incoming branch that runs; any: continue as soon as the first arrives.",
    )


async def run(config: MergeConfig, run: NodeRun) -> NodeResult:
    """The engine runs a merge once its branches have arrived (all, or the first for mode any)."""
    return NodeResult(output={"branches": dict(run.inputs), "count": len(run.inputs)})


NODE_TYPE = NodeType(
    type="logic",
    subtype="merge",
    display_name="Merge",
    description="Join several branches; continue when all (or the first) arrive.",
    category="Logic",
    icon="merge",
    config_model=MergeConfig,
    handler=run,
    inputs=(Handle(INPUT.id, "Inputs", multiple=True),),
)
