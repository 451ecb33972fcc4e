"""Merge: join branches back into one path."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agentflow.engine.nodes.base import INPUT, Handle, NodeConfig, NodeType


class MergeConfig(NodeConfig):
    mode: Literal["all", "any"] = Field(
        default="all",
        description="all: wait for every incoming branch that runs; any: continue as soon as the first arrives.",
    )


NODE_TYPE = NodeType(
    type="logic",
    subtype="merge",
    display_name="Merge",
    description="Join several branches; continue when all (or the first) arrive.",
    category="Logic",
    icon="merge",
    config_model=MergeConfig,
    inputs=(Handle(INPUT.id, "Inputs", multiple=True),),
)
