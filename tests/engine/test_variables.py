"""The template parser and renderer: grammar, filters, rendering rules, limits, no code execution."""

from __future__ import annotations

from typing import Any

import pytest

from agentflow.engine.variables import (
    MAX_EXPRESSION_LENGTH,
    MAX_EXPRESSIONS_PER_TEMPLATE,
    MAX_FILTERS,
    MAX_PATH_SEGMENTS,
    Expression,
    Filter,
    TemplateSyntaxError,
    find_references,
    parse_template,
    render,
    scan_references,
)

CONTEXT: dict[str, Any] = {
    "trigger": {
        "data": {
            "email": "Ada@Example.com",
            "name": "  Ada  ",
            "count": 3,
            "ratio": 0.5,
            "active": True,
            "nothing": None,
            "tags": ["a", "b", "c"],
            "rows": [{"first name": "Zed", "age": 40}],
            "profile": {"city": "Paris"},
        }
    },
    "classify": {"output": {"category": "sales", "scores": [0.9, 0.1]}},
    "vars": {"channel": "#sales"},
}


@pytest.mark.parametrize(
    ("text", "root", "segments", "filters"),
    [
        ("{{trigger.data.email}}", "trigger", ("data", "email"), ()),
        ("{{ trigger.data.email }}", "trigger", ("data", "email"), ()),
        ("{{classify.output.scores[0]}}", "classify", ("output", "scores", 0), ()),
        ("{{x.output.items[-1]}}", "x", ("output", "items", -1), ()),
        ('{{x.output["first name"]}}', "x", ("output", "first name"), ()),
        ("{{x.output['it''s']}}", "x", ("output", "it"), None),
        (r"{{x.output['it\'s']}}", "x", ("output", "it's"), ()),
        ('{{x.output["a\\"b"]}}', "x", ("output", 'a"b'), ()),
        ("{{_private}}", "_private", (), ()),
        ("{{a|upper}}", "a", (), (Filter("upper"),)),
        ("{{ a | trim | lower }}", "a", (), (Filter("trim"), Filter("lower"))),
        ('{{a | default("x")}}', "a", (), (Filter("default", "x"),)),
        ("{{a | default('x')}}", "a", (), (Filter("default", "x"),)),
        ("{{a | default(0)}}", "a", (), (Filter("default", 0),)),
        ("{{a | default( null )}}", "a", (), (Filter("default", None),)),
        ('{{a | default({"k": [1, "}}"]})}}', "a", (), (Filter("default", {"k": [1, "}}"]}),)),
        ("{{a | json}}", "a", (), (Filter("json"),)),
        ("{{a | length}}", "a", (), (Filter("length"),)),
    ],
)
def test_parse_expressions(text: str, root: str, segments: tuple[Any, ...], filters: tuple[Filter, ...] | None) -> None:
    if filters is None:  # the quote closes early: 's' follows the segment
        with pytest.raises(TemplateSyntaxError):
            parse_template(text)
        return
    template = parse_template(text)
    assert template.is_single_expression
    expression = template.expressions[0]
    assert (expression.root, expression.segments, expression.filters) == (root, segments, filters)
    assert (expression.start, expression.end) == (0, len(text))


def test_parse_mixed_text_keeps_order_and_offsets() -> None:
    text = "Hi {{ trigger.data.name }}, you are {{classify.output.category}}!"
    template = parse_template(text)
    assert not template.is_single_expression
    assert [part if isinstance(part, str) else part.source for part in template.parts] == [
        "Hi ",
        "trigger.data.name",
        ", you are ",
        "classify.output.category",
        "!",
    ]
    first = template.expressions[0]
    assert isinstance(first, Expression)
    assert text[first.start : first.end] == "{{ trigger.data.name }}"


def test_text_without_expressions_and_escapes() -> None:
    assert parse_template("plain } { text").parts == ("plain } { text",)
    assert parse_template("").parts == ()
    escaped = parse_template(r"literal \{{ not.a.ref }} and {{a}}")
    assert escaped.parts[0] == "literal {{ not.a.ref }} and "
    assert [e.root for e in escaped.expressions] == ["a"]


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("{{ __import__('os') }}", 13, "unexpected '('"),
        ("{{ trigger.__class__.__mro__ }}", None, None),  # parses: only dict lookups, see the render test
        ("{{ 1 + 1 }}", 3, "expected a variable"),
        ("{{ a.b", 6, "'}}' missing"),
        ("x {{ a.", 7, "field name"),
        ("{{}}", 2, "expected a variable"),
        ("{{ a | nope }}", 7, "unknown filter 'nope'"),
        ("{{ a | default }}", 15, "needs a value"),
        ("{{ a | default(NaN) }}", 15, "NaN is not allowed"),
        ("{{ a | default(1, 2) }}", 16, "expected ')'"),
        ("{{ a | upper() }}", 12, "takes no argument"),
        ("{{ a[x] }}", 5, "an index"),
        ("{{ a[0 }}", 6, "expected ']'"),
        ('{{ a["x }}', 5, "Unterminated string"),
        ("{{ a['x }}", 5, "unterminated string"),
        ("{{ a[1234567890] }}", 5, "index too large"),
        ("{{ a . b }}", 5, "expected '.', '[', '|' or '}}'"),
        ("ok {{ a }} then {{ b | }}", 23, "expected a filter"),
        ("{{ a }", 5, "unexpected '}'"),
        ("{{ {{ a }} }}", 3, "expected a variable"),
        ("{{ a; import os }}", 4, "unexpected ';'"),
        ("{{ a.b() }}", 6, "unexpected '('"),
        ("{{ lambda: 1 }}", 9, "unexpected ':'"),
    ],
)
def test_syntax_errors_carry_positions(text: str, position: int | None, message: str | None) -> None:
    if position is None:
        parse_template(text)
        return
    with pytest.raises(TemplateSyntaxError) as raised:
        parse_template(text)
    assert raised.value.position == position
    assert message is not None and message in raised.value.message
    assert f"at offset {position}" in str(raised.value)


def test_limits_bound_the_work() -> None:
    for too_long in (
        "{{ a" + " " * MAX_EXPRESSION_LENGTH + "}}",
        '{{ a | default("' + "x" * MAX_EXPRESSION_LENGTH + '") }}',
        "{{ a | default('" + "x" * MAX_EXPRESSION_LENGTH + "') }}",
    ):
        with pytest.raises(TemplateSyntaxError, match="longer than") as raised:
            parse_template("text " + too_long)
        assert raised.value.position == 5
    many = "{{a}}" * (MAX_EXPRESSIONS_PER_TEMPLATE + 1)
    with pytest.raises(TemplateSyntaxError, match=f"more than {MAX_EXPRESSIONS_PER_TEMPLATE} expressions"):
        parse_template(many)
    assert len(parse_template("{{a}}" * MAX_EXPRESSIONS_PER_TEMPLATE).expressions) == MAX_EXPRESSIONS_PER_TEMPLATE
    with pytest.raises(TemplateSyntaxError, match="segments"):
        parse_template("{{a" + ".b" * (MAX_PATH_SEGMENTS + 1) + "}}")
    with pytest.raises(TemplateSyntaxError, match="filters"):
        parse_template("{{a" + " | trim" * (MAX_FILTERS + 1) + "}}")
    deep_default = "{{ a | default(" + "[" * 400 + "]" * 400 + ") }}"
    assert parse_template(deep_default).expressions[0].filters[0].name == "default"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # exactly one expression: the raw value
        ("{{trigger.data.tags}}", ["a", "b", "c"]),
        ("{{trigger.data.count}}", 3),
        ("{{trigger.data.active}}", True),
        ("{{trigger.data.profile}}", {"city": "Paris"}),
        ("{{trigger.data.nothing}}", None),
        ("{{trigger.data.missing}}", None),
        ("{{trigger.data.tags[-1]}}", "c"),
        ("{{trigger.data.tags[3]}}", None),
        ('{{trigger.data.rows[0]["first name"]}}', "Zed"),
        ("{{trigger.data.tags.first}}", None),
        ("{{trigger.data.profile[0]}}", None),
        ("{{trigger.data.email[0]}}", None),
        ("{{unknown_root.output}}", None),
        # text interpolation
        ("Hi {{trigger.data.email}}!", "Hi Ada@Example.com!"),
        ("n={{trigger.data.count}} r={{trigger.data.ratio}} b={{trigger.data.active}}", "n=3 r=0.5 b=true"),
        ("[{{trigger.data.nothing}}][{{trigger.data.missing}}]", "[][]"),
        ("tags: {{trigger.data.tags}}", 'tags: ["a", "b", "c"]'),
        ("p: {{trigger.data.profile}}", 'p: {"city": "Paris"}'),
        (" {{trigger.data.count}}", " 3"),
        # filters
        ("{{trigger.data.email | lower}}", "ada@example.com"),
        ("{{trigger.data.email | upper}}", "ADA@EXAMPLE.COM"),
        ("[{{trigger.data.name | trim}}]", "[Ada]"),
        ("{{trigger.data.count | upper}}", "3"),
        ("{{trigger.data.missing | upper}}", None),
        ("{{trigger.data.missing | upper | default('n/a')}}", "n/a"),
        ('{{trigger.data.missing | default("anon")}}', "anon"),
        ('{{trigger.data.nothing | default("anon")}}', "anon"),
        ('{{trigger.data.email | default("anon")}}', "Ada@Example.com"),
        ("{{trigger.data.missing | default([1, 2])}}", [1, 2]),
        ("{{trigger.data.tags | length}}", 3),
        ("{{trigger.data.profile | length}}", 1),
        ("{{trigger.data.email | length}}", 15),
        ("{{trigger.data.missing | length}}", 0),
        ("{{trigger.data.count | length}}", 1),
        ("{{trigger.data.profile | json}}", '{"city": "Paris"}'),
        ("{{trigger.data.email | json}}", '"Ada@Example.com"'),
        ("{{trigger.data.missing | json}}", "null"),
        ("{{ classify.output.category | upper }} via {{vars.channel}}", "SALES via #sales"),
        # dunder paths are just keys: nothing but dict lookups happen
        ("{{trigger.__class__}}", None),
        ("{{trigger.data.email.__len__}}", None),
        (r"\{{trigger.data.email}}", "{{trigger.data.email}}"),
        ("no templates", "no templates"),
    ],
)
def test_render(template: str, expected: Any) -> None:
    assert render(template, CONTEXT) == expected


def test_render_walks_nested_values_and_leaves_other_types_alone() -> None:
    value = {"url": "https://x/{{trigger.data.count}}", "body": ["{{trigger.data.tags}}", 7, None, {"{{k}}": True}]}
    assert render(value, CONTEXT) == {"url": "https://x/3", "body": [["a", "b", "c"], 7, None, {"{{k}}": True}]}


def test_default_value_is_not_shared_between_renders() -> None:
    first = render("{{trigger.data.missing | default([])}}", CONTEXT)
    first.append("mutated")
    assert render("{{trigger.data.missing | default([])}}", CONTEXT) == []


def test_render_raises_on_bad_syntax() -> None:
    with pytest.raises(TemplateSyntaxError):
        render({"a": ["{{ oops("]}, CONTEXT)


def test_find_references_reports_json_paths() -> None:
    config = {
        "prompt": "Hi {{trigger.data.name}} — {{classify.output.category | upper}}",
        "params": {"x-api-key": "{{vars.key}}", "list": ["plain", "{{loop.item}}"]},
        "conditions": {"conditions": [{"left": "{{fetch.output.items[0].name}}"}]},
        "number": 5,
    }
    references = find_references(config, "config")
    assert [(r.path, r.root, r.segments, r.expression, r.position) for r in references] == [
        ("config.prompt", "trigger", ("data", "name"), "trigger.data.name", 3),
        ("config.prompt", "classify", ("output", "category"), "classify.output.category | upper", 27),
        ('config.params["x-api-key"]', "vars", ("key",), "vars.key", 0),
        ("config.params.list[1]", "loop", ("item",), "loop.item", 0),
        (
            "config.conditions.conditions[0].left",
            "fetch",
            ("output", "items", 0, "name"),
            "fetch.output.items[0].name",
            0,
        ),
    ]
    assert [r.path for r in find_references(["{{a}}", {"b": "{{c}}"}])] == ["[0]", "[1].b"]
    assert [r.path for r in find_references("{{a}}")] == [""]


def test_find_references_raises_with_path_and_scan_collects_all() -> None:
    config = {"a": "{{ ok }}", "b": ["{{ bad( }}"], "c": "{{ also bad"}
    with pytest.raises(TemplateSyntaxError) as raised:
        find_references(config, "config")
    assert raised.value.path == "config.b[0]"
    references, errors = scan_references(config, "config")
    assert [r.root for r in references] == ["ok"]
    assert [(e.path, e.position) for e in errors] == [("config.b[0]", 6), ("config.c", 8)]
