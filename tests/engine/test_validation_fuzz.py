"""Fuzzing: no input makes validate_definition raise (or fall back to INTERNAL_ERROR), and the
template parser fails only with TemplateSyntaxError."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentflow.engine.nodes import CATALOG
from agentflow.engine.spec import RESERVED_ROOTS
from agentflow.engine.validation import IssueCode, validate_definition
from agentflow.engine.variables import TemplateSyntaxError, parse_template, render
from tests.engine.graphs import REALISTIC

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NODE_IDS = [node["id"] for node in REALISTIC["nodes"]]
HANDLES = ["out", "error", "true", "false", "loop_body", "done", "sales", "default", "approved", "nope"]

TEMPLATE_TOKENS = [*"{}|.[]()'\"\\ -_:,0123456789abcxyz", "{{", "}}", "default(", "trigger", "vars", "loop", "output"]
TEMPLATE_TEXT = st.lists(st.sampled_from(TEMPLATE_TOKENS), max_size=16).map("".join)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    TEMPLATE_TEXT,
    st.sampled_from([*NODE_IDS, *HANDLES, *CATALOG, "trigger", "ai", "chat", "logic", "loop"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.text(max_size=8) | st.sampled_from(["id", "type", "config", "nodes", "edges"]), children, max_size=4
        ),
    ),
    max_leaves=20,
)


def assert_validates_quietly(raw: Any) -> None:
    parsed, issues = validate_definition(raw)
    assert IssueCode.INTERNAL_ERROR not in [issue.code for issue in issues]
    if parsed is not None and not issues:
        # A clean definition stays clean after a round trip through JSON.
        again, again_issues = validate_definition(parsed.model_dump(mode="json"))
        assert again is not None and again_issues == []


@FUZZ
@given(json_values)
def test_random_json_never_raises(raw: Any) -> None:
    assert_validates_quietly(raw)


def random_node(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from(sorted(CATALOG)))
    node_type, subtype = key.split(".")
    node_id = draw(st.sampled_from([*NODE_IDS, *sorted(RESERVED_ROOTS), "x", "y"]))
    config = draw(
        st.dictionaries(
            st.sampled_from(["prompt", "items", "categories", "conditions", "variables", "x"]), json_values, max_size=3
        )
    )
    return {"id": node_id, "type": node_type, "subtype": subtype, "config": config}


@st.composite
def mutated_definitions(draw: st.DrawFn) -> Any:
    raw: Any = copy.deepcopy(REALISTIC)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        raw = draw(st.sampled_from(MUTATIONS))(draw, raw)
    return raw


def set_somewhere(draw: st.DrawFn, raw: Any, *, in_config: bool = False) -> Any:
    paths = [path for path in all_paths(raw) if not in_config or is_config_path(path)]
    if not paths:
        return draw(json_values)
    path = draw(st.sampled_from(paths))
    value = draw(json_values)
    if not path:
        return value
    container = raw
    for key in path[:-1]:
        container = container[key]
    container[path[-1]] = value
    return raw


def delete_somewhere(draw: st.DrawFn, raw: Any, *, in_config: bool = False) -> Any:
    paths = [path for path in all_paths(raw) if path and (not in_config or is_config_path(path))]
    if not paths:
        return raw
    path = draw(st.sampled_from(paths))
    container = raw
    for key in path[:-1]:
        container = container[key]
    del container[path[-1]]
    return raw


def add_node(draw: st.DrawFn, raw: Any) -> Any:
    if isinstance(raw, dict) and isinstance(raw.get("nodes"), list):
        raw["nodes"].append(random_node(draw))
    return raw


def add_edge(draw: st.DrawFn, raw: Any) -> Any:
    if isinstance(raw, dict) and isinstance(raw.get("edges"), list):
        raw["edges"].append(
            {
                "id": draw(st.sampled_from(["e-new", "e-other", "inbound-out-settings"])),
                "source": draw(st.sampled_from([*NODE_IDS, "ghost"])),
                "source_handle": draw(st.sampled_from(HANDLES)),
                "target": draw(st.sampled_from([*NODE_IDS, "ghost"])),
            }
        )
    return raw


def rewrite_template(draw: st.DrawFn, raw: Any) -> Any:
    string_paths = [path for path in all_paths(raw) if is_config_path(path) and isinstance(get(raw, path), str)]
    if not string_paths:
        return raw
    path = draw(st.sampled_from(string_paths))
    root = draw(st.sampled_from([*NODE_IDS, "trigger", "vars", "loop", "execution", "nobody"]))
    tail = draw(
        st.sampled_from(
            ["", ".output", ".output.text", ".data[0]", ".item", "[0]", ".team_channel", " | upper", ".x | default(1)"]
        )
    )
    text = draw(st.sampled_from(["{{%s%s}}", "x {{ %s%s }} y", "{{%s%s", "%s%s}}"])) % (root, tail)
    parent = get(raw, path[:-1])
    parent[path[-1]] = text
    return raw


def is_config_path(path: tuple[Any, ...]) -> bool:
    return len(path) > 3 and path[0] == "nodes" and path[2] == "config"


def set_in_config(draw: st.DrawFn, raw: Any) -> Any:
    return set_somewhere(draw, raw, in_config=True)


def delete_in_config(draw: st.DrawFn, raw: Any) -> Any:
    return delete_somewhere(draw, raw, in_config=True)


# Weighted towards mutations that keep the structure valid, so the graph and reference checks get fuzzed too.
MUTATIONS = [
    set_somewhere,
    delete_somewhere,
    set_in_config,
    set_in_config,
    delete_in_config,
    add_node,
    add_edge,
    add_edge,
    rewrite_template,
    rewrite_template,
    rewrite_template,
]


def get(raw: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        raw = raw[key]
    return raw


def all_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            paths.extend(all_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths.extend(all_paths(item, (*prefix, index)))
    return paths


@FUZZ
@given(mutated_definitions())
def test_mutated_definitions_never_raise(raw: Any) -> None:
    assert_validates_quietly(raw)


@settings(max_examples=400, deadline=None)
@given(TEMPLATE_TEXT | st.text(max_size=60))
def test_template_parser_fails_only_with_syntax_errors(text: str) -> None:
    syntax_error: TemplateSyntaxError | None = None
    try:
        template = parse_template(text)
    except TemplateSyntaxError as error:
        syntax_error = error
    if syntax_error is not None:
        assert 0 <= syntax_error.position <= len(text)
        return
    context = {"trigger": {"data": {"a": [1, {"b": None}]}}, "vars": {}, "x": {"output": "text"}}
    render(text, context)  # a parsed template always renders
    for expression in template.expressions:
        assert expression.source in text[expression.start : expression.end]


def deeply_nested(depth: int) -> Any:
    value: Any = "leaf"
    for index in range(depth):
        value = [value] if index % 2 else {"k": value}
    return value


def test_hostile_inputs_never_raise() -> None:
    deep = deeply_nested(50_000)
    chat = {"id": "ask", "type": "ai", "subtype": "chat", "config": {"prompt": "x"}}
    start = {"id": "start", "type": "trigger", "subtype": "manual"}
    hostile: list[Any] = [
        deep,
        {"nodes": deep},
        {"nodes": [start, {**chat, "config": {"prompt": "x", "deep": deep}}], "edges": []},
        {"nodes": [start, {**chat, "config": {"prompt": "{{" * 100_000}}], "edges": []},
        {"nodes": [start, {**chat, "config": {"prompt": "{{ a | default(" + "[" * 5_000 + ") }}"}}], "edges": []},
        {"nodes": [start, {**chat, "label": "x" * 1_000_000}], "edges": []},
        {"nodes": [start, {**chat, "config": {"prompt": "{{ trigger.x }}" * 5_000}}], "edges": []},
        {"nodes": [start] * 500, "edges": [{"id": "e", "source": "start", "target": "start"}] * 2000},
    ]
    for raw in hostile:
        assert_validates_quietly(raw)
