"""structural_diff between two definitions."""

from __future__ import annotations

import json
from typing import Any

from agentflow.engine.diff import structural_diff
from agentflow.engine.spec import AgentDefinition
from tests.engine.graphs import realistic


def parse(raw: dict[str, Any]) -> AgentDefinition:
    return AgentDefinition.model_validate(raw)


def nodes_by_id(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in raw["nodes"]}


def test_identical_definitions_have_no_changes() -> None:
    assert structural_diff(parse(realistic()), parse(realistic())) == {
        "has_changes": False,
        "nodes": {"added": {}, "removed": {}, "changed": {}},
        "edges": {"added": {}, "removed": {}, "changed": {}},
    }


def test_node_and_edge_changes_are_keyed_by_id() -> None:
    old_raw, new_raw = realistic(), realistic()
    new_nodes = nodes_by_id(new_raw)
    new_nodes["draft"]["label"] = "Draft reply"
    new_nodes["draft"]["config"]["style"] = "brief"  # changed
    new_nodes["draft"]["config"]["max_words"] = 120  # added
    del new_nodes["classify_lead"]["config"]["categories"][2]  # nested change shows as the whole key
    new_nodes["inbound"]["position"] = {"x": 40, "y": -10}
    new_nodes["settings"]["type"], new_nodes["settings"]["subtype"] = "transform", "template"
    del new_nodes["lookup"]["config"]["query"]  # removed key
    new_raw["nodes"] = [n for n in new_raw["nodes"] if n["id"] != "failed"]
    new_raw["nodes"].append({"id": "audit", "type": "action", "subtype": "tool", "config": {"tool": "audit.log"}})
    new_raw["edges"] = [e for e in new_raw["edges"] if e["target"] != "failed"]
    new_raw["edges"].append({"id": "to-audit", "source": "reply", "target": "audit"})
    for e in new_raw["edges"]:
        if e["id"] == "notify-error":
            e["target"], e["label"] = "rejected_reply", "failed to notify"

    diff = structural_diff(parse(old_raw), parse(new_raw))
    json.dumps(diff)
    assert diff["has_changes"] is True
    assert list(diff["nodes"]["added"]) == ["audit"]
    assert diff["nodes"]["added"]["audit"]["config"] == {"tool": "audit.log"}
    assert list(diff["nodes"]["removed"]) == ["failed"]
    changed = diff["nodes"]["changed"]
    assert set(changed) == {"draft", "classify_lead", "inbound", "settings", "lookup"}
    assert changed["draft"] == {
        "label": {"old": None, "new": "Draft reply"},
        "config": {"style": {"old": "bullets", "new": "brief"}, "max_words": {"new": 120}},
    }
    assert changed["classify_lead"]["config"]["categories"]["new"] == new_nodes["classify_lead"]["config"]["categories"]
    assert len(changed["classify_lead"]["config"]["categories"]["old"]) == 3
    assert changed["inbound"] == {"position": {"old": {"x": 0.0, "y": 0.0}, "new": {"x": 40.0, "y": -10.0}}}
    assert changed["settings"]["type"] == {"old": "transform.set_variables", "new": "transform.template"}
    assert changed["lookup"] == {"config": {"query": {"old": "{{trigger.data.message}}"}}}
    assert list(diff["edges"]["added"]) == ["to-audit"]
    assert list(diff["edges"]["removed"]) == ["classify_lead-error-failed"]
    assert diff["edges"]["changed"] == {
        "notify-error": {
            "target": {"old": "reply", "new": "rejected_reply"},
            "label": {"old": None, "new": "failed to notify"},
        }
    }


def test_json_equal_but_differently_typed_values_count_as_changes() -> None:
    old_raw, new_raw = realistic(), realistic()
    nodes_by_id(old_raw)["settings"]["config"]["variables"]["threshold"] = 1
    nodes_by_id(new_raw)["settings"]["config"]["variables"]["threshold"] = 1.0
    diff = structural_diff(parse(old_raw), parse(new_raw))
    assert diff["nodes"]["changed"]["settings"]["config"]["variables"]["new"]["threshold"] == 1.0
    nodes_by_id(new_raw)["settings"]["config"]["variables"]["threshold"] = True
    assert structural_diff(parse(old_raw), parse(new_raw))["has_changes"] is True


def test_reordering_nodes_is_not_a_change() -> None:
    old_raw, new_raw = realistic(), realistic()
    new_raw["nodes"].reverse()
    new_raw["edges"].reverse()
    assert structural_diff(parse(old_raw), parse(new_raw))["has_changes"] is False
