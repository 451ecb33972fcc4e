"""validate_definition: one test per issue code on small graphs, and a realistic graph that passes."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import pytest

from agentflow.engine import validation
from agentflow.engine.spec import MAX_EDGES, MAX_NODES, AgentDefinition
from agentflow.engine.validation import MAX_ISSUES, IssueCode, ValidationIssue, validate_definition
from tests.engine.graphs import KB_ID, chat, definition, edge, minimal, node, realistic

Found = tuple[str, str | None, str | None, str | None]


def issues_of(raw: Any) -> list[ValidationIssue]:
    _, issues = validate_definition(raw)
    return issues


def found(raw: Any) -> list[Found]:
    """(code, node_id, edge_id, path) of every issue."""
    return [(issue.code, issue.node_id, issue.edge_id, issue.path) for issue in issues_of(raw)]


def codes(raw: Any) -> list[str]:
    return [issue.code for issue in issues_of(raw)]


def test_realistic_graph_has_no_issues() -> None:
    parsed, issues = validate_definition(realistic())
    assert issues == []
    assert isinstance(parsed, AgentDefinition)
    assert [n.id for n in parsed.trigger_nodes()] == ["inbound"]
    looked_up = parsed.node("classify_lead")
    assert looked_up is not None and looked_up.key == "ai.classify"
    assert parsed.node("nope") is None
    # the definition keeps the config exactly as given (round-trips for export)
    assert parsed.model_dump(mode="json", exclude_unset=True)["nodes"][1]["config"] == realistic()["nodes"][1]["config"]


def test_every_issue_code_is_exercised_by_this_module() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    missing = [code.value for code in IssueCode if f"IssueCode.{code.name}" not in source]
    assert missing == []


# --- structure -----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, 42, "text", [], [1, 2], {"nodes": "x"}, {"nodes": [1]}, b"{}"])
def test_non_definitions_are_invalid_structure(raw: Any) -> None:
    parsed, issues = validate_definition(raw)
    assert parsed is None
    assert issues and {issue.code for issue in issues} == {IssueCode.INVALID_STRUCTURE}


def test_structure_issues_name_the_node_or_edge_and_a_relative_path() -> None:
    raw = minimal(chat("ask"))
    raw["nodes"][1]["label"] = "x" * 256
    raw["nodes"][1]["position"] = {"x": "left"}
    raw["nodes"].append({"type": "ai", "subtype": "chat"})
    raw["edges"][0]["colour"] = "red"
    raw["extra"] = True
    assert sorted(found(raw), key=str) == sorted(
        [
            (IssueCode.INVALID_STRUCTURE, "ask", None, "label"),
            (IssueCode.INVALID_STRUCTURE, "ask", None, "position.x"),
            (IssueCode.INVALID_STRUCTURE, None, None, "nodes[2].id"),
            (IssueCode.INVALID_STRUCTURE, None, "start-out-ask", "colour"),
            (IssueCode.INVALID_STRUCTURE, None, None, "extra"),
        ],
        key=str,
    )


@pytest.mark.parametrize(
    ("bad_config", "path"),
    [
        ({"x": math.nan}, "config"),
        ({"x": {"y": math.inf}}, "config"),
        ({"x": object()}, "config"),
        ({"x": {1: "int key"}}, "config"),
    ],
)
def test_config_must_be_finite_plain_json(bad_config: dict[str, Any], path: str) -> None:
    raw = minimal(node("ask", "ai.chat", bad_config))
    assert found(raw) == [(IssueCode.INVALID_STRUCTURE, "ask", None, path)]


def test_config_nesting_and_size_are_bounded() -> None:
    deep: Any = "leaf"
    for _ in range(40):
        deep = {"d": deep}
    assert codes(minimal(node("ask", "ai.chat", {"deep": deep}))) == [IssueCode.INVALID_STRUCTURE]
    wide = {"items": list(range(20_000))}
    assert codes(minimal(node("ask", "ai.chat", wide))) == [IssueCode.INVALID_STRUCTURE]
    looped: dict[str, Any] = {}
    looped["self"] = looped
    assert codes(minimal(node("ask", "ai.chat", looped))) == [IssueCode.INVALID_STRUCTURE]


@pytest.mark.parametrize("version", [2, 0, True, "1", None])
def test_unsupported_schema_version(version: Any) -> None:
    raw = minimal()
    raw["schema_version"] = version
    assert found(raw) == [(IssueCode.UNSUPPORTED_SCHEMA_VERSION, None, None, "schema_version")]


def test_schema_version_defaults_to_one() -> None:
    raw = minimal()
    del raw["schema_version"]
    parsed, issues = validate_definition(raw)
    assert issues == [] and parsed is not None and parsed.schema_version == 1


def test_too_many_nodes_is_rejected_before_parsing() -> None:
    raw = definition([node(f"n{i}", "ai.chat", {"prompt": "x"}) for i in range(MAX_NODES + 1)], [])
    assert found(raw) == [(IssueCode.TOO_MANY_NODES, None, None, "nodes")]


def test_too_many_edges_is_rejected_before_parsing() -> None:
    raw = minimal(chat("ask"), edges=[edge("start", "ask", edge_id=f"e{i}") for i in range(MAX_EDGES + 1)])
    assert found(raw) == [(IssueCode.TOO_MANY_EDGES, None, None, "edges")]


@pytest.mark.parametrize("bad_id", ["Ask", "1ask", "ask-me", "", "a" * 65, "ask me"])
def test_node_id_pattern(bad_id: str) -> None:
    raw = minimal(chat("ask"))
    raw["nodes"][1]["id"] = bad_id
    assert IssueCode.INVALID_STRUCTURE in codes(raw)


# --- nodes ---------------------------------------------------------------------------------------


def test_duplicate_node_id() -> None:
    raw = minimal(chat("ask"), chat("ask"), edges=[edge("start", "ask")])
    assert found(raw) == [(IssueCode.DUPLICATE_NODE_ID, "ask", None, "id")]


@pytest.mark.parametrize("reserved", ["trigger", "vars", "loop", "execution"])
def test_reserved_node_id(reserved: str) -> None:
    raw = minimal(chat(reserved))
    assert found(raw) == [(IssueCode.RESERVED_NODE_ID, reserved, None, "id")]


def test_unknown_node_type() -> None:
    raw = minimal(
        node("ask", "ai.telepathy"), node("bot", "robot.dance"), edges=[edge("start", "ask"), edge("ask", "bot")]
    )
    issues = issues_of(raw)
    assert [(i.code, i.node_id, i.path) for i in issues] == [
        (IssueCode.UNKNOWN_NODE_TYPE, "ask", "type"),
        (IssueCode.UNKNOWN_NODE_TYPE, "bot", "type"),
    ]
    assert "chat, classify, extract, summarize" in issues[0].message
    assert "trigger" in issues[1].message


def test_invalid_config_paths_point_at_fields() -> None:
    raw = minimal(
        node("sort", "ai.classify", {"input": "{{trigger.data.x}}", "categories": [{"key": "a"}, {"key": "B!"}]}),
        node(
            "check",
            "logic.if_else",
            {
                "conditions": {
                    "conditions": [
                        {"left": "x", "operator": "equals", "right": 1},
                        {"conditions": [{"left": "x", "operator": "is_empty", "right": 2}]},
                    ]
                }
            },
        ),
        node("store", "transform.set_variables", {"variables": {"Bad-Name": 1}}),
        node("wait", "logic.delay", {}),
        edges=[edge("start", "sort"), edge("start", "check"), edge("start", "store"), edge("start", "wait")],
    )
    assert found(raw) == [
        (IssueCode.INVALID_CONFIG, "sort", None, "config.categories[1].key"),
        (IssueCode.INVALID_CONFIG, "check", None, "config.conditions.conditions[1].conditions[0]"),
        (IssueCode.INVALID_CONFIG, "store", None, 'config.variables["Bad-Name"]'),
        (IssueCode.INVALID_CONFIG, "wait", None, "config"),
    ]
    messages = [issue.message for issue in issues_of(raw)]
    assert "takes no right-hand value" in messages[1]
    assert not messages[1].startswith("Value error")
    assert "exactly one of seconds and until" in messages[3]


def test_invalid_config_unknown_key_and_missing_field() -> None:
    raw = minimal(node("ask", "ai.chat", {"promt": "typo"}))
    assert found(raw) == [
        (IssueCode.INVALID_CONFIG, "ask", None, "config.prompt"),
        (IssueCode.INVALID_CONFIG, "ask", None, "config.promt"),
    ]


def test_no_trigger() -> None:
    raw = definition([chat("ask"), chat("answer")], [edge("ask", "answer")])
    assert found(raw) == [(IssueCode.NO_TRIGGER, None, None, None)]
    assert found(definition([], [])) == [(IssueCode.NO_TRIGGER, None, None, None)]


def test_multiple_triggers() -> None:
    raw = definition(
        [node("start", "trigger.manual"), node("hook", "trigger.webhook"), chat("ask")],
        [edge("start", "ask"), edge("hook", "ask")],
    )
    assert found(raw) == [
        (IssueCode.MULTIPLE_TRIGGERS, "start", None, None),
        (IssueCode.MULTIPLE_TRIGGERS, "hook", None, None),
    ]


# --- edges ---------------------------------------------------------------------------------------


def test_duplicate_edge_id() -> None:
    raw = minimal(
        chat("ask"), chat("answer"), edges=[edge("start", "ask", edge_id="e1"), edge("ask", "answer", edge_id="e1")]
    )
    assert (IssueCode.DUPLICATE_EDGE_ID, None, "e1", "id") in found(raw)


def test_edge_source_and_target_missing() -> None:
    raw = minimal(
        chat("ask"), edges=[edge("start", "ask"), edge("ghost", "ask", edge_id="e2"), edge("ask", "void", edge_id="e3")]
    )
    assert found(raw) == [
        (IssueCode.EDGE_SOURCE_MISSING, None, "e2", "source"),
        (IssueCode.EDGE_TARGET_MISSING, None, "e3", "target"),
    ]


def test_unknown_source_handle_uses_the_nodes_config() -> None:
    raw = minimal(
        node("sort", "ai.classify", {"input": "x", "categories": [{"key": "sales"}, {"key": "support"}]}),
        chat("sell"),
        chat("help"),
        edges=[
            edge("start", "sort"),
            edge("sort", "sell", "sales"),
            edge("sort", "help", "billing", edge_id="bad-handle"),
            edge("sort", "help", "support"),
            edge("start", "help", "true", edge_id="bad-handle-2"),
        ],
    )
    issues = issues_of(raw)
    assert [(i.code, i.edge_id, i.path) for i in issues] == [
        (IssueCode.UNKNOWN_SOURCE_HANDLE, "bad-handle", "source_handle"),
        (IssueCode.UNKNOWN_SOURCE_HANDLE, "bad-handle-2", "source_handle"),
    ]
    assert "sales, support, error" in issues[0].message


def test_edge_into_trigger() -> None:
    raw = minimal(chat("ask"), edges=[edge("start", "ask"), edge("ask", "start", edge_id="back")])
    assert found(raw) == [(IssueCode.EDGE_INTO_TRIGGER, None, "back", "target")]


def test_self_loop() -> None:
    raw = minimal(chat("ask"), edges=[edge("start", "ask"), edge("ask", "ask", edge_id="me")])
    assert found(raw) == [(IssueCode.SELF_LOOP, None, "me", "target")]


def test_duplicate_edge() -> None:
    raw = minimal(chat("ask"), edges=[edge("start", "ask", edge_id="e1"), edge("start", "ask", edge_id="e2")])
    assert found(raw) == [(IssueCode.DUPLICATE_EDGE, None, "e2", None)]


def test_unreachable_node() -> None:
    raw = minimal(
        chat("ask"), chat("island"), chat("island_two"), edges=[edge("start", "ask"), edge("island", "island_two")]
    )
    assert found(raw) == [
        (IssueCode.UNREACHABLE_NODE, "island", None, None),
        (IssueCode.UNREACHABLE_NODE, "island_two", None, None),
    ]


# --- cycles and loops ----------------------------------------------------------------------------


def loop_graph(*body: dict[str, Any], extra_edges: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """start → each (loop over trigger.data.rows) ─loop_body→ body… → back into each; each ─done→ after."""
    nodes = [
        node("start", "trigger.manual"),
        node("each", "logic.loop", {"items": "{{trigger.data.rows}}"}),
        *body,
        chat("after"),
    ]
    edges = [edge("start", "each"), edge("each", "after", "done")]
    if body:
        edges.append(edge("each", body[0]["id"], "loop_body"))
        edges += [edge(a["id"], b["id"]) for a, b in itertools.pairwise(body)]
        edges.append(edge(body[-1]["id"], "each", edge_id="close"))
    return definition(nodes, edges + (extra_edges or []))


def test_loop_body_returning_to_its_loop_is_allowed() -> None:
    raw = loop_graph(
        chat("step_one", "{{loop.item.name}} #{{loop.index}}"), chat("step_two", "{{step_one.output.text}}")
    )
    assert found(raw) == []


def test_nested_loops_are_allowed() -> None:
    raw = definition(
        [
            node("start", "trigger.manual"),
            node("outer", "logic.loop", {"items": "{{trigger.data.rows}}"}),
            node("inner", "logic.loop", {"items": "{{loop.item.cells}}"}),
            chat("cell", "{{loop.item}}"),
            chat("row_done", "{{inner.output}}"),
            chat("after", "{{outer.output}}"),
        ],
        [
            edge("start", "outer"),
            edge("outer", "inner", "loop_body"),
            edge("inner", "cell", "loop_body"),
            edge("cell", "inner"),
            edge("inner", "row_done", "done"),
            edge("row_done", "outer"),
            edge("outer", "after", "done"),
        ],
    )
    assert found(raw) == []


def test_cycle_without_a_loop() -> None:
    raw = minimal(
        chat("a"), chat("b"), chat("c"), edges=[edge("start", "a"), edge("a", "b"), edge("b", "c"), edge("c", "a")]
    )
    issues = issues_of(raw)
    assert [(i.code, i.node_id) for i in issues] == [(IssueCode.CYCLE, "a")]
    assert "a, b, c" in issues[0].message


def test_cycle_back_into_a_loop_from_outside_its_body() -> None:
    raw = loop_graph(chat("step"), extra_edges=[edge("after", "each", edge_id="after-back")])
    assert [(i.code, i.node_id) for i in issues_of(raw)] == [(IssueCode.CYCLE, "each")]


def test_cycle_inside_a_loop_body_is_still_a_cycle() -> None:
    raw = loop_graph(chat("one"), chat("two"), extra_edges=[edge("two", "one", edge_id="inner-back")])
    assert [(i.code, i.node_id) for i in issues_of(raw)] == [(IssueCode.CYCLE, "one")]


# --- references ----------------------------------------------------------------------------------


def test_template_syntax() -> None:
    raw = minimal(chat("ask", "Hello {{ trigger.data.name "))
    issues = issues_of(raw)
    assert [(i.code, i.node_id, i.path) for i in issues] == [(IssueCode.TEMPLATE_SYNTAX, "ask", "config.prompt")]
    assert "character 28" in issues[0].message


def test_template_syntax_deep_in_config() -> None:
    raw = minimal(
        node("call", "action.tool", {"tool": "http.request", "params": {"headers": {"x-id": "{{ a | nope }}"}}})
    )
    assert found(raw) == [(IssueCode.TEMPLATE_SYNTAX, "call", None, 'config.params.headers["x-id"]')]


@pytest.mark.parametrize(
    "reference",
    ["{{nobody.output.text}}", "{{execution.secret}}", "{{Trigger.data}}"],
)
def test_unknown_reference(reference: str) -> None:
    assert found(minimal(chat("ask", reference))) == [(IssueCode.UNKNOWN_REFERENCE, "ask", None, "config.prompt")]


def test_unknown_loop_field() -> None:
    raw = loop_graph(chat("step", "{{loop.current}}"))
    assert found(raw) == [(IssueCode.UNKNOWN_REFERENCE, "step", None, "config.prompt")]


def test_known_execution_and_trigger_references() -> None:
    raw = minimal(chat("ask", "{{execution.id}} {{execution}} {{trigger}} {{trigger.anything[0]}} {{vars}}"))
    assert found(raw) == []


@pytest.mark.parametrize("reference", ["{{ask_first}}", "{{ask_first.text}}", "{{ask_first[0]}}", "{{vars[0]}}"])
def test_invalid_reference(reference: str) -> None:
    raw = minimal(chat("ask_first"), chat("ask", reference))
    assert found(raw) == [(IssueCode.INVALID_REFERENCE, "ask", None, "config.prompt")]


def test_reference_not_upstream() -> None:
    raw = minimal(
        chat("first", "{{second.output.text}}"),  # downstream
        chat("second", "{{second.output.text}}"),  # itself
        chat("side", "{{second.output.text}}"),  # a sibling branch
        edges=[edge("start", "first"), edge("first", "second"), edge("start", "side")],
    )
    assert found(raw) == [
        (IssueCode.REFERENCE_NOT_UPSTREAM, "first", None, "config.prompt"),
        (IssueCode.REFERENCE_NOT_UPSTREAM, "second", None, "config.prompt"),
        (IssueCode.REFERENCE_NOT_UPSTREAM, "side", None, "config.prompt"),
    ]


def test_reference_to_a_later_body_node_is_not_upstream() -> None:
    # Only through the loop-closing edge would step_two precede step_one (the previous iteration).
    raw = loop_graph(chat("step_one", "{{step_two.output.text}}"), chat("step_two"))
    assert found(raw) == [(IssueCode.REFERENCE_NOT_UPSTREAM, "step_one", None, "config.prompt")]


def test_reference_through_merge_is_upstream() -> None:
    raw = minimal(
        node(
            "check",
            "logic.if_else",
            {"conditions": {"conditions": [{"left": "{{trigger.data.x}}", "operator": "is_true"}]}},
        ),
        chat("yes"),
        chat("no"),
        node("join", "logic.merge", {"mode": "any"}),
        chat("final", "{{yes.output.text | default('')}}{{no.output.text}}{{check.output}}"),
        edges=[
            edge("start", "check"),
            edge("check", "yes", "true"),
            edge("check", "no", "false"),
            edge("yes", "join"),
            edge("no", "join"),
            edge("join", "final"),
        ],
    )
    assert found(raw) == []


def test_loop_reference_outside_loop() -> None:
    raw = loop_graph(chat("step"))
    raw["nodes"][-1]["config"]["prompt"] = "{{loop.item}}"  # "after", on the done branch
    raw["nodes"][1]["config"]["max_iterations"] = 5
    assert found(raw) == [(IssueCode.LOOP_REFERENCE_OUTSIDE_LOOP, "after", None, "config.prompt")]
    raw_top = minimal(chat("ask", "{{loop.index}}"))
    assert found(raw_top) == [(IssueCode.LOOP_REFERENCE_OUTSIDE_LOOP, "ask", None, "config.prompt")]


def test_loop_items_referencing_its_own_loop_is_outside() -> None:
    raw = loop_graph(chat("step"))
    raw["nodes"][1]["config"]["items"] = "{{loop.item}}"
    assert found(raw) == [(IssueCode.LOOP_REFERENCE_OUTSIDE_LOOP, "each", None, "config.items")]


def test_unknown_variable() -> None:
    raw = minimal(
        node("store", "transform.set_variables", {"variables": {"channel": "#ops"}}),
        chat("ask", "{{vars.channel}} {{vars.chanel}}"),
        node("late", "transform.set_variables", {"variables": {"later": 1}}),
        chat("too_early", "{{vars.later}}"),
        edges=[edge("start", "store"), edge("store", "ask"), edge("ask", "late"), edge("store", "too_early")],
    )
    issues = issues_of(raw)
    assert [(i.code, i.node_id, i.path) for i in issues] == [
        (IssueCode.UNKNOWN_VARIABLE, "ask", "config.prompt"),
        (IssueCode.UNKNOWN_VARIABLE, "too_early", "config.prompt"),
    ]
    assert "'chanel'" in issues[0].message and "{{vars.chanel}}" in issues[0].message


def test_variables_readable_in_conditions_and_params() -> None:
    raw = minimal(
        node("store", "transform.set_variables", {"variables": {"limit": 10, "url": "https://x"}}),
        node(
            "check",
            "logic.if_else",
            {
                "conditions": {
                    "conditions": [
                        {"left": "{{trigger.data.n}}", "operator": "greater_than", "right": "{{vars.limit}}"}
                    ]
                }
            },
        ),
        node("call", "action.tool", {"tool": "http.request", "params": {"url": "{{vars.url}}"}}),
        node("look", "knowledge.retrieval", {"knowledge_base_id": KB_ID, "query": "{{call.output.body}}"}),
        edges=[edge("start", "store"), edge("store", "check"), edge("check", "call", "true"), edge("call", "look")],
    )
    assert found(raw) == []


# --- bounds and faults ---------------------------------------------------------------------------


def test_too_many_issues_are_capped() -> None:
    raw = definition([node("start", "trigger.manual")] + [chat(f"n{i}", "{{ bad") for i in range(MAX_NODES - 1)], [])
    issues = issues_of(raw)
    assert len(issues) == MAX_ISSUES + 1
    assert issues[-1].code == IssueCode.TOO_MANY_ISSUES


def test_internal_error_is_an_issue_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(validation._GraphCheck, "check_cycles", explode)
    parsed, issues = validate_definition(realistic())
    assert parsed is None
    assert [issue.code for issue in issues] == [IssueCode.INTERNAL_ERROR]


def test_issue_codes_are_plain_strings() -> None:
    issue = issues_of(definition([], []))[0]
    assert type(issue.code) is str and issue.code == "NO_TRIGGER"
