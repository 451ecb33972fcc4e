"""Structural diff between two definitions (e.g. published versions 3 and 4), keyed by node/edge id.

Shape:

    {
      "has_changes": bool,
      "nodes": {
        "added":   {id: node as JSON},
        "removed": {id: node as JSON},
        "changed": {id: {
            "label":    {"old": …, "new": …},          # present only if it changed
            "type":     {"old": "ai.chat", "new": "ai.summarize"},
            "config":   {key: {"old": …, "new": …}},   # top-level config keys; a side is absent
                                                         # when the key is absent in that version
            "position": {"old": {"x", "y"}, "new": {"x", "y"}},
        }},
      },
      "edges": {
        "added": {id: edge}, "removed": {id: edge},
        "changed": {id: {field: {"old": …, "new": …}}},  # source, source_handle, target, label
      },
    }

Ids are unique in a valid definition; if one repeats, its last occurrence counts. Entries follow the
new definition's order (removed ones the old definition's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from agentflow.engine.spec import AgentDefinition, Edge, Node

Item = TypeVar("Item", Node, Edge)

_EDGE_FIELDS = ("source", "source_handle", "target", "label")


def structural_diff(old: AgentDefinition, new: AgentDefinition) -> dict[str, Any]:
    nodes = _diff_items(
        {node.id: node for node in old.nodes},
        {node.id: node for node in new.nodes},
        _node_changes,
    )
    edges = _diff_items(
        {edge.id: edge for edge in old.edges},
        {edge.id: edge for edge in new.edges},
        _edge_changes,
    )
    has_changes = any(section[kind] for section in (nodes, edges) for kind in ("added", "removed", "changed"))
    return {"has_changes": has_changes, "nodes": nodes, "edges": edges}


def _diff_items(
    old: Mapping[str, Item],
    new: Mapping[str, Item],
    changes_of: Callable[[Item, Item], dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    changed: dict[str, Any] = {}
    for item_id, item in new.items():
        if item_id in old:
            changes = changes_of(old[item_id], item)
            if changes:
                changed[item_id] = changes
    return {
        "added": {item_id: item.model_dump(mode="json") for item_id, item in new.items() if item_id not in old},
        "removed": {item_id: item.model_dump(mode="json") for item_id, item in old.items() if item_id not in new},
        "changed": changed,
    }


def _node_changes(old: Node, new: Node) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if old.label != new.label:
        changes["label"] = {"old": old.label, "new": new.label}
    if old.key != new.key:
        changes["type"] = {"old": old.key, "new": new.key}
    config_changes: dict[str, Any] = {}
    for key in [*old.config, *(key for key in new.config if key not in old.config)]:
        in_old, in_new = key in old.config, key in new.config
        if in_old and in_new and _same_json(old.config[key], new.config[key]):
            continue
        change: dict[str, Any] = {}
        if in_old:
            change["old"] = old.config[key]
        if in_new:
            change["new"] = new.config[key]
        config_changes[key] = change
    if config_changes:
        changes["config"] = config_changes
    if old.position != new.position:
        changes["position"] = {"old": old.position.model_dump(), "new": new.position.model_dump()}
    return changes


def _edge_changes(old: Edge, new: Edge) -> dict[str, Any]:
    return {
        field: {"old": getattr(old, field), "new": getattr(new, field)}
        for field in _EDGE_FIELDS
        if getattr(old, field) != getattr(new, field)
    }


def _same_json(left: Any, right: Any) -> bool:
    # Python's == says True == 1 and 1 == 1.0; in a definition those are different values.
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same_json(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(_same_json(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)
