"""The node-type catalog. Adding a node type = one file in this package + one line in `_NODE_TYPES`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from agentflow.engine.nodes import (
    action_tool,
    ai_chat,
    ai_classify,
    ai_extract,
    ai_summarize,
    flow_respond,
    human_approval,
    knowledge_retrieval,
    logic_delay,
    logic_if_else,
    logic_loop,
    logic_merge,
    logic_switch,
    transform_set_variables,
    transform_template,
    trigger_api,
    trigger_manual,
    trigger_schedule,
    trigger_webhook,
)
from agentflow.engine.nodes.base import CATEGORIES, Handle, NodeType

_NODE_TYPES: tuple[NodeType, ...] = (
    trigger_manual.NODE_TYPE,
    trigger_api.NODE_TYPE,
    trigger_webhook.NODE_TYPE,
    trigger_schedule.NODE_TYPE,
    ai_chat.NODE_TYPE,
    ai_summarize.NODE_TYPE,
    ai_classify.NODE_TYPE,
    ai_extract.NODE_TYPE,
    action_tool.NODE_TYPE,
    logic_if_else.NODE_TYPE,
    logic_switch.NODE_TYPE,
    logic_loop.NODE_TYPE,
    logic_delay.NODE_TYPE,
    logic_merge.NODE_TYPE,
    flow_respond.NODE_TYPE,
    human_approval.NODE_TYPE,
    knowledge_retrieval.NODE_TYPE,
    transform_set_variables.NODE_TYPE,
    transform_template.NODE_TYPE,
)


def _index(node_types: tuple[NodeType, ...]) -> Mapping[str, NodeType]:
    catalog: dict[str, NodeType] = {}
    for node_type in node_types:
        if node_type.key in catalog:
            raise RuntimeError(f"node type {node_type.key} is registered twice")
        catalog[node_type.key] = node_type
    return MappingProxyType(catalog)


CATALOG: Mapping[str, NodeType] = _index(_NODE_TYPES)

__all__ = ["CATALOG", "Handle", "NodeType", "describe_catalog", "get_node_type"]


def get_node_type(type: str, subtype: str) -> NodeType | None:
    return CATALOG.get(f"{type}.{subtype}")


def describe_catalog() -> list[dict[str, Any]]:
    """The catalog as `GET /api/v1/node-types` serves it, by category (palette order), then name.

    `outputs` are the static handles. A node type with `dynamic_outputs` ({"from": field, "key": key})
    also has one handle per item of `config[from]`, with id `item[key]`, placed before the static ones.
    """
    ordered = sorted(_NODE_TYPES, key=lambda node_type: (CATEGORIES.index(node_type.category), node_type.display_name))
    return [
        {
            "key": node_type.key,
            "type": node_type.type,
            "subtype": node_type.subtype,
            "display_name": node_type.display_name,
            "description": node_type.description,
            "category": node_type.category,
            "icon": node_type.icon,
            "inputs": [handle.describe() for handle in node_type.inputs],
            "outputs": [handle.describe() for handle in node_type.static_outputs],
            "dynamic_outputs": node_type.dynamic_outputs.describe() if node_type.dynamic_outputs else None,
            "has_side_effects": node_type.has_side_effects,
            "config_schema": node_type.config_model.model_json_schema(),
        }
        for node_type in ordered
    ]
