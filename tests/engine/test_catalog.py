"""The node-type catalog: complete, unique, and every config model a valid JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

import agentflow.engine.nodes as nodes_package
from agentflow.engine.nodes import CATALOG, describe_catalog, get_node_type
from agentflow.engine.nodes.base import CATEGORIES, NodeConfig

EXPECTED_KEYS = {
    "trigger.manual",
    "trigger.api",
    "trigger.webhook",
    "trigger.schedule",
    "ai.chat",
    "ai.summarize",
    "ai.classify",
    "ai.extract",
    "action.tool",
    "logic.if_else",
    "logic.switch",
    "logic.loop",
    "logic.delay",
    "logic.merge",
    "human.approval",
    "knowledge.retrieval",
    "transform.set_variables",
    "transform.template",
    "flow.respond",
}


def test_catalog_covers_the_spec_node_types() -> None:
    assert set(CATALOG) == EXPECTED_KEYS


def test_one_file_per_node_type() -> None:
    package_dir = Path(nodes_package.__file__).parent
    node_files = {
        path.stem for path in package_dir.glob("*.py") if path.stem.split("_")[0] in {k.split(".")[0] for k in CATALOG}
    }
    assert node_files == {key.replace(".", "_") for key in CATALOG}


@pytest.mark.parametrize("key", sorted(EXPECTED_KEYS))
def test_config_schema_is_valid_json_schema(key: str) -> None:
    schema = CATALOG[key].config_model.model_json_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    json.dumps(schema)  # serializable as the API will send it


@pytest.mark.parametrize("key", sorted(EXPECTED_KEYS))
def test_every_config_field_is_described(key: str) -> None:
    def check(model: type[BaseModel]) -> None:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            annotation = field.annotation
            for candidate in getattr(annotation, "__args__", (annotation,)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    check(candidate)

    model = CATALOG[key].config_model
    assert issubclass(model, NodeConfig)
    check(model)


def test_all_categories_are_used_and_descriptor_fields_filled() -> None:
    assert {node_type.category for node_type in CATALOG.values()} == set(CATEGORIES)
    for node_type in CATALOG.values():
        assert node_type.display_name and node_type.description and node_type.icon
        assert callable(node_type.handler)


def test_keys_match_type_and_subtype_and_lookup_works() -> None:
    for key, node_type in CATALOG.items():
        assert key == f"{node_type.type}.{node_type.subtype}" == node_type.key
        assert get_node_type(node_type.type, node_type.subtype) is node_type
    assert get_node_type("ai", "nope") is None


def test_triggers_have_no_inputs_and_others_one() -> None:
    for node_type in CATALOG.values():
        if node_type.type == "trigger":
            assert node_type.inputs == ()
        else:
            assert [handle.id for handle in node_type.inputs] == ["in"]
    assert CATALOG["logic.merge"].inputs[0].multiple is True


def test_nodes_that_can_fail_have_an_error_output() -> None:
    for node_type in CATALOG.values():
        has_error = "error" in [handle.id for handle in node_type.static_outputs]
        assert has_error == (node_type.type in {"ai", "action", "knowledge"}), node_type.key


def test_side_effects_are_declared() -> None:
    assert CATALOG["action.tool"].has_side_effects
    assert CATALOG["human.approval"].has_side_effects
    assert not CATALOG["ai.chat"].has_side_effects
    assert not CATALOG["logic.if_else"].has_side_effects


def test_classify_has_one_handle_per_category_then_error() -> None:
    classify = CATALOG["ai.classify"]
    config = classify.parse_config(
        {"input": "{{trigger.data.text}}", "categories": [{"key": "sales"}, {"key": "support"}, {"key": "other"}]}
    )
    assert [handle.id for handle in classify.outputs(config)] == ["sales", "support", "other", "error"]


def test_switch_has_one_handle_per_case_then_default() -> None:
    switch = CATALOG["logic.switch"]
    config = switch.parse_config(
        {"value": "{{trigger.data.x}}", "cases": [{"key": "a", "equals": 1}, {"key": "b", "equals": "2"}]}
    )
    assert [handle.id for handle in switch.outputs(config)] == ["a", "b", "default"]


def test_static_outputs() -> None:
    def handles(key: str, config: dict[str, object]) -> list[str]:
        node_type = CATALOG[key]
        return [handle.id for handle in node_type.outputs(node_type.parse_config(config))]

    assert handles("logic.loop", {"items": "{{trigger.data.rows}}"}) == ["loop_body", "done"]
    assert handles("human.approval", {"approvers": ["owner"]}) == ["approved", "rejected", "timed_out"]
    assert handles("logic.merge", {}) == ["out"]
    assert handles("trigger.manual", {}) == ["out"]


@pytest.mark.parametrize(
    ("key", "config", "expected_error"),
    [
        ("ai.classify", {"input": "x", "categories": [{"key": "a"}, {"key": "a"}]}, "unique"),
        ("ai.classify", {"input": "x", "categories": [{"key": "a"}, {"key": "error"}]}, "failure handle"),
        ("ai.classify", {"input": "x", "categories": [{"key": "a"}]}, "at least 2"),
        ("ai.classify", {"input": "x", "categories": [{"key": "Bad Key"}, {"key": "b"}]}, "pattern"),
        ("logic.switch", {"value": "x", "cases": [{"key": "default", "equals": 1}]}, "fallback handle"),
        ("logic.switch", {"value": "x", "cases": [{"key": "a", "equals": 1}, {"key": "a", "equals": 2}]}, "unique"),
        ("trigger.schedule", {"cron": "0 0 * * * *"}, "5 fields"),
        ("trigger.schedule", {"cron": "@daily"}, "5 fields"),
        ("trigger.schedule", {"cron": "61 * * * *"}, "invalid cron"),
        ("trigger.schedule", {"cron": "0 0 30 2 *"}, "invalid cron"),
        ("trigger.schedule", {"timezone": "Mars/Olympus"}, "unknown time zone"),
        ("trigger.schedule", {"timezone": "../../etc/passwd"}, "unknown time zone"),
        ("trigger.schedule", {"missed_fires": "all"}, "fire_once"),
        ("trigger.webhook", {"response_timeout_seconds": 301}, "less than or equal"),
        ("trigger.webhook", {"secret": "hunter2"}, "Extra inputs"),
        ("ai.chat", {"prompt": "x", "temperature": 2.5}, "less than or equal"),
        ("ai.chat", {"prompt": "x", "temperature": "0.5"}, "valid number"),
        ("ai.chat", {"prompt": "x", "max_tokens": 0}, "greater than or equal"),
        ("ai.chat", {"prompt": "x", "response_format": "xml"}, "'text' or 'json'"),
        ("ai.chat", {}, "Field required"),
        ("ai.extract", {"input": "x", "json_schema": {"type": "nope"}}, "not a valid JSON Schema"),
        ("ai.extract", {"input": "x", "json_schema": {"type": "string"}}, "describe an object"),
        (
            "ai.extract",
            {"input": "x", "json_schema": {"type": "object", "properties": {"a": {"pattern": "("}}}},
            "JSON Schema",
        ),
        ("action.tool", {"tool": "slack"}, "pattern"),
        ("action.tool", {"tool": "http.request", "credential_id": "not-a-uuid"}, "UUID"),
        ("logic.loop", {"items": "rows: {{trigger.data.rows}}"}, "exactly one"),
        ("logic.loop", {"items": "{{trigger.data.rows}}", "max_iterations": 10_001}, "less than or equal"),
        ("logic.delay", {}, "exactly one"),
        ("logic.delay", {"seconds": 5, "until": "{{trigger.data.at}}"}, "exactly one"),
        ("logic.delay", {"seconds": 2_592_001}, "less than or equal"),
        ("logic.merge", {"mode": "first"}, "'all' or 'any'"),
        ("human.approval", {"approvers": ["viewer"]}, "neither an email"),
        ("human.approval", {"approvers": ["a@b"]}, "neither an email"),
        ("human.approval", {"approvers": []}, "at least 1"),
        ("human.approval", {"approvers": ["admin", "admin"]}, "repeat"),
        ("knowledge.retrieval", {"knowledge_base_id": "x", "query": "q"}, "UUID"),
        (
            "knowledge.retrieval",
            {"knowledge_base_id": "5b1f4a52-7c1e-4c55-9a53-4d2f8f0f3a10", "query": "q", "top_k": 51},
            "less",
        ),
        ("transform.set_variables", {"variables": {"Bad": 1}}, "pattern"),
        ("transform.set_variables", {"variables": {}}, "at least 1"),
        ("flow.respond", {"status_code": 99}, "greater than or equal"),
    ],
)
def test_invalid_configs_are_rejected(key: str, config: dict[str, object], expected_error: str) -> None:
    with pytest.raises(ValidationError) as raised:
        CATALOG[key].parse_config(config)
    assert expected_error in str(raised.value)


@pytest.mark.parametrize(
    ("operator", "right", "expected_error"),
    [
        ("is_empty", "x", "takes no right-hand value"),
        ("equals", None, "needs a right-hand value"),
        ("starts_with", 5, "needs a text"),
        ("matches", "([a-z]", "invalid regular expression"),
        ("matches", "a" * 501, "longer than 500"),
        ("between", 1, "equals"),
    ],
)
def test_if_else_conditions_are_checked(operator: str, right: object, expected_error: str) -> None:
    config = {"conditions": {"conditions": [{"left": "{{trigger.data.x}}", "operator": operator, "right": right}]}}
    with pytest.raises(ValidationError) as raised:
        CATALOG["logic.if_else"].parse_config(config)
    assert expected_error in str(raised.value)


def _nested_group(depth: int) -> dict[str, object]:
    group: dict[str, object] = {"conditions": [{"left": "{{trigger.data.x}}", "operator": "is_true"}]}
    for _ in range(depth - 1):
        group = {"combinator": "or", "conditions": [group]}
    return group


def test_if_else_groups_nest_at_most_five_deep() -> None:
    if_else = CATALOG["logic.if_else"]
    if_else.parse_config({"conditions": _nested_group(5)})
    with pytest.raises(ValidationError, match="more than 5 deep"):
        if_else.parse_config({"conditions": _nested_group(6)})


def test_valid_configs_parse_with_defaults() -> None:
    schedule = CATALOG["trigger.schedule"].parse_config({"cron": "*/15 9-17 * * MON-FRI", "timezone": "Europe/Paris"})
    assert schedule.model_dump() == {
        "cron": "*/15 9-17 * * MON-FRI",
        "timezone": "Europe/Paris",
        "missed_fires": "fire_once",
    }
    webhook = CATALOG["trigger.webhook"].parse_config({})
    assert webhook.model_dump() == {
        "respond_mode": "immediately",
        "response_timeout_seconds": 30,
        "require_signature": True,
    }
    delay = CATALOG["logic.delay"].parse_config({"until": "{{trigger.data.send_at}}"})
    assert delay.model_dump() == {"seconds": None, "until": "{{trigger.data.send_at}}"}
    regex_from_data = {"left": "{{trigger.data.x}}", "operator": "matches", "right": "{{trigger.data.pattern}}"}
    CATALOG["logic.if_else"].parse_config({"conditions": {"conditions": [regex_from_data]}})


def test_describe_catalog_shape_and_order() -> None:
    described = describe_catalog()
    assert len(described) == len(CATALOG)
    order = [(CATEGORIES.index(entry["category"]), entry["display_name"]) for entry in described]
    assert order == sorted(order)
    by_key = {entry["key"]: entry for entry in described}
    assert set(by_key["ai.chat"]) == {
        "key",
        "type",
        "subtype",
        "display_name",
        "description",
        "category",
        "icon",
        "inputs",
        "outputs",
        "dynamic_outputs",
        "has_side_effects",
        "config_schema",
    }
    assert by_key["ai.classify"]["dynamic_outputs"] == {"from": "categories", "key": "key"}
    assert by_key["ai.classify"]["outputs"] == [{"id": "error", "label": "Error", "multiple": False}]
    assert by_key["logic.switch"]["dynamic_outputs"] == {"from": "cases", "key": "key"}
    assert by_key["ai.chat"]["dynamic_outputs"] is None
    assert by_key["trigger.webhook"]["inputs"] == []
    prompt = by_key["ai.chat"]["config_schema"]["properties"]["prompt"]
    assert prompt["x-template"] is True and prompt["x-widget"] == "textarea"
    assert "prompt" in by_key["ai.chat"]["config_schema"]["required"]
    json.dumps(described)
