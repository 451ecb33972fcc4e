"""Fuzzing the template renderer with hostile input (test_variables.py has the worked examples).

Whatever the text and the variables, `render` either returns plain data taken only from the
variables passed in (or from the template's own literals) or raises the module's own errors
(TemplateSyntaxError, TemplateRenderError). It never reaches Python internals (attributes, methods,
`__class__`/`__globals__` chains), never the process environment (a canary sits in os.environ), never
evaluates a `{{ … }}` that arrives inside the data, and its time and output stay bounded.

The strongest check is a model: an independent evaluator written from the module's documented
rules. Generated expressions come with the syntax tree they were built from, so the parse is checked
too, and a path with no filters must yield the very object stored in the variables (`is`), not a
look-alike made up elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from agentflow.engine.variables import (
    FILTERS_WITHOUT_ARGUMENT,
    MAX_EXPRESSION_LENGTH,
    MAX_EXPRESSIONS_PER_TEMPLATE,
    MAX_FILTERS,
    MAX_PATH_SEGMENTS,
    MAX_RENDERED_LENGTH,
    Expression,
    Filter,
    TemplateRenderError,
    TemplateSyntaxError,
    parse_template,
    render,
    scan_references,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CANARY_NAME = "AGENTFLOW_TEMPLATE_FUZZ_CANARY"
CANARY = f"env-canary-{uuid.uuid4().hex}"
"""Put into os.environ for this module; no rendering may ever return it."""

DECOY = "decoy-from-the-variables"

# What a leak of Python internals would look like in text (repr of types, functions, modules, the
# environment, a docstring). Data we generate never contains these, so seeing one means a leak.
INTERNAL_MARKERS = (
    "<class ",
    "<built-in",
    "<function",
    "<bound method",
    "<method-wrapper",
    "<slot wrapper",
    "<module",
    " object at 0x",
    "mappingproxy(",
    "environ({",
    "str(object=",
    "Built-in mutable sequence",
    "dict() -> new empty dictionary",
)

HOSTILE_NAMES = [
    "__class__",
    "__globals__",
    "__init__",
    "__mro__",
    "mro",
    "__subclasses__",
    "__bases__",
    "__base__",
    "__dict__",
    "__builtins__",
    "__import__",
    "__getitem__",
    "__getattribute__",
    "__len__",
    "__doc__",
    "__module__",
    "__self__",
    "__func__",
    "__code__",
    "__closure__",
    "func_globals",
    "f_globals",
    "gi_frame",
    "cr_frame",
    "tb_frame",
    "os",
    "sys",
    "modules",
    "environ",
    "getenv",
    "popen",
    "system",
    "eval",
    "exec",
    "open",
    "self",
    "config",
    "request",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
    "get",
    "keys",
    "items",
    "values",
    "pop",
    "clear",
    "update",
    "copy",
    "append",
    "upper",
    "format",
    "real",
    "imag",
    "numerator",
    "MISSING",
    "CANARY",
    CANARY_NAME,
]
ROOTS = ["trigger", "vars", "loop", "execution", "classify", "fetch"]

# Server-side template injection payloads (Jinja, Python format strings, other engines) and
# attribute/index chains written in this grammar and outside it.
HOSTILE_SNIPPETS = [
    "{{ ''.__class__ }}",
    "{{''.__class__.__mro__[1].__subclasses__()}}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{{ config.__class__.__init__.__globals__['os'].environ }}",
    "{{ self.__init__.__globals__.__builtins__.__import__('os').environ }}",
    "{{ lipsum.__globals__.os.popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.environ['" + CANARY_NAME + "'] }}",
    "{{ request.application.__globals__.__builtins__ }}",
    "{{ __import__('os').environ }}",
    "{{ os.environ }}",
    "{{ os.environ." + CANARY_NAME + " }}",
    "{{ os.environ['" + CANARY_NAME + "'] }}",
    '{{ os.environ["' + CANARY_NAME + '"] }}',
    "{{ sys.modules.os.environ }}",
    "{{ trigger.__class__.__mro__[1].__subclasses__ }}",
    "{{ trigger.__class__.__init__.__globals__ }}",
    "{{ trigger['__class__']['__init__']['__globals__'] }}",
    "{{ trigger.data.__dict__ }}",
    "{{ trigger.data.email.__doc__ }}",
    "{{ trigger.data.tags.__len__ }}",
    "{{ trigger.keys }}",
    "{{ trigger.get }}",
    "{{ vars.items }}",
    "{{ trigger.data.count.real }}",
    "{{ getattr(trigger, '__class__') }}",
    "{{ trigger | attr('__class__') }}",
    "{{ trigger | default(__import__) }}",
    "{{ trigger | default(os.environ) }}",
    "{{ trigger.data.tags[0:2] }}",
    "{{ trigger.data.tags[::-1] }}",
    "{{ trigger.data.tags[-999999999] }}",
    "{{ trigger.data.tags[999999999] }}",
    "{{ trigger.data.tags[9999999999999999999999] }}",
    "{{ trigger.data.tags[1e9] }}",
    "{{ trigger.data.tags[0x10] }}",
    "{{ trigger.data.tags[True] }}",
    "{{ trigger.data.tags[None] }}",
    "{{ trigger.data.tags[-0] }}",
    "{{ 7*7 }}",
    "{{ 7*'7' }}",
    "{{ trigger.data.count + 1 }}",
    "{{ trigger if True else vars }}",
    "{{ [x for x in ()] }}",
    "{{ lambda: 0 }}",
    "{{ f'{os.environ}' }}",
    "{0.__class__}",
    "%(os)s",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    "{% for c in [].__class__.__base__.__subclasses__() %}{% endfor %}",
    "{%- print(os.environ) -%}",
    "{{ trigger.\x00 }}",
    "{{ trigger['\x00'] }}",
    "{{\x00}}",
    "{{ trigger.dátá }}",
    "{{ trigger.data\u2028 }}",
    "{{ trigger.data\u00a0}}",
    "{{ trigger.\uff44\uff41\uff54\uff41 }}",  # fullwidth "data"
    "{{ trigger | default('\\u0000') }}",
    '{{ trigger | default("\\ud800") }}',
    "\\{{ os.environ }}",
    "\\\\{{ trigger }}",
    "{{{{ trigger }}}}",
    "}}{{",
    "{{ trigger | json | json | upper | length }}",
]

# ---------------------------------------------------------------------------------------------------
# The model: the documented rendering rules, written independently of the module.


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


def model_evaluate(expression: Expression, context: dict[str, Any]) -> Any:
    value: Any = context.get(expression.root, ABSENT)
    for segment in expression.segments:
        if isinstance(segment, str):
            value = value[segment] if type(value) is dict and segment in value else ABSENT
        elif type(value) is list and -len(value) <= segment < len(value):
            value = value[segment]
        else:
            value = ABSENT
    for applied in expression.filters:
        value = model_filter(applied, value)
    return value


def model_filter(applied: Filter, value: Any) -> Any:
    if applied.name == "default":
        return json.loads(json.dumps(applied.argument)) if value is ABSENT or value is None else value
    if applied.name == "json":
        return "null" if value is ABSENT else json.dumps(value, ensure_ascii=False)
    if applied.name == "length":
        if value is ABSENT or value is None:
            return 0
        return len(value) if isinstance(value, str | list | dict) else len(model_text(value))
    if value is ABSENT or value is None:
        return None
    text = model_text(value)
    return {"upper": text.upper, "lower": text.lower, "trim": text.strip}[applied.name]()


def model_text(value: Any) -> str:
    if value is ABSENT or value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def model_render(text: str, context: dict[str, Any]) -> Any:
    if "{{" not in text:
        return text
    template = parse_template(text)
    if template.single_expression is not None:
        value = model_evaluate(template.single_expression, context)
        return None if value is ABSENT else value
    return "".join(
        part if isinstance(part, str) else model_text(model_evaluate(part, context)) for part in template.parts
    )


# ---------------------------------------------------------------------------------------------------
# Checks every successful rendering must pass.


def canonical(value: Any) -> str:
    """JSON that tells true from 1 from 1.0, and keeps key order."""
    return json.dumps(value, ensure_ascii=False)


def plain_values(value: Any) -> Iterator[Any]:
    """Every value nested in `value` (iteratively: deep data must not blow the test's stack)."""
    pending = [value]
    while pending:
        current = pending.pop()
        yield current
        if type(current) is dict:
            pending.extend(current.values())
        elif type(current) is list:
            pending.extend(current)


def assert_plain_data(value: Any) -> None:
    for item in plain_values(value):
        assert type(item) in (dict, list, str, int, float, bool, type(None)), f"not plain data: {type(item)!r}"
        if type(item) is dict:
            assert all(type(key) is str for key in item), "a dict key that is not a string"


def assert_no_leak(result: Any, *inputs: Any) -> None:
    text = result if isinstance(result, str) else canonical(result)
    assert CANARY not in text, "the process environment leaked into a rendering"
    given_text = "".join(item if isinstance(item, str) else canonical(item) for item in inputs)
    for marker in INTERNAL_MARKERS:
        assert marker not in text or marker in given_text, f"Python internals leaked: {marker!r} in {text[:300]!r}"


def sub_objects(context: dict[str, Any]) -> set[int]:
    return {id(item) for item in plain_values(context)}


def max_text_size(context: dict[str, Any], template: str) -> int:
    """The longest text any one expression can produce from these variables and this template: a
    value as JSON (≤ 6 characters per character, \\u0000), grown by up to MAX_FILTERS filters (json
    at most doubles and adds 2; upper at most triples, "ﬃ" → "FFI")."""
    longest = max(len(canonical(context)), len(template), 4)
    return 6 * longest * 3**MAX_FILTERS


def check_rendering(text: str, context: dict[str, Any]) -> Any:
    """Render, and check everything a rendering must satisfy; returns the result (or the error)."""
    failure: TemplateSyntaxError | TemplateRenderError | None = None
    try:
        result = render(text, context)
    except (TemplateSyntaxError, TemplateRenderError) as error:
        failure = error
    # Anything else (AttributeError, RecursionError, KeyError, ...) propagates and fails the test.
    if failure is not None:
        assert CANARY not in str(failure)
        if isinstance(failure, TemplateSyntaxError):
            assert 0 <= failure.position <= len(text)
            with pytest.raises(TemplateSyntaxError):
                parse_template(text)
        return failure
    assert_plain_data(result)
    assert_no_leak(result, text, context)
    expected = model_render(text, context)
    assert canonical(result) == canonical(expected), (text, result, expected)
    assert type(result) is type(expected)
    if "{{" not in text:
        assert result is text
        return result
    template = parse_template(text)
    single = template.single_expression
    if single is not None and not single.filters and result is not None:
        # A bare path hands back the very object in the variables: nothing else could be reached.
        assert id(result) in sub_objects(context)
    if single is None:
        assert isinstance(result, str)
        assert len(result) <= len(text) + len(template.expressions) * max_text_size(context, text)
    _, errors = scan_references(text)
    assert errors == []
    return result


# ---------------------------------------------------------------------------------------------------
# Strategies.

names = st.sampled_from(HOSTILE_NAMES + ROOTS + ["data", "output", "email", "tags", "x"]) | st.from_regex(
    r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True
)
keys = names | st.text(max_size=8) | st.sampled_from(["", "\x00", "0", "-1", "a.b", "é", '"', "'", "\\", "}}", "{{"])
texts = st.text(max_size=12) | st.sampled_from(
    ["{{ trigger }}", "{{os.environ}}", "{{ vars.secret | upper }}", "\\{{x}}", DECOY, "\x00", "ﬃ", "  pad  "]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=24,
)


@st.composite
def contexts(draw: st.DrawFn) -> dict[str, Any]:
    context: dict[str, Any] = {
        "trigger": {"data": draw(json_values)},
        "vars": draw(st.dictionaries(keys, json_values, max_size=3)),
        "classify": {"output": draw(json_values)},
    }
    # Sometimes roots and keys named like Python internals: they are plain keys with plain values.
    for root in draw(st.lists(st.sampled_from(HOSTILE_NAMES), max_size=3)):
        context[root] = draw(json_values)
    if draw(st.booleans()):
        context["os"] = {"environ": {CANARY_NAME: DECOY}}
    return context


@dataclass(frozen=True)
class Generated:
    text: str
    root: str
    segments: tuple[str | int, ...]
    filters: tuple[Filter, ...]


def single_quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")


def segment_text(draw: st.DrawFn, segment: str | int) -> str:
    if isinstance(segment, int):
        return f"[{segment}]"
    style = draw(st.sampled_from(["name", "json", "quoted"] if IDENTIFIER.match(segment) else ["json", "quoted"]))
    if style == "name":
        return "." + segment
    if style == "json":
        return "[" + json.dumps(segment, ensure_ascii=draw(st.booleans())) + "]"
    return "[" + single_quoted(segment) + "]"


def random_segment(draw: st.DrawFn) -> str | int:
    kind = draw(st.sampled_from(["name", "index", "key"]))
    if kind == "index":
        return draw(
            st.integers(min_value=-3, max_value=3)
            | st.sampled_from([999_999_999, -999_999_999])
            | st.integers(min_value=-999_999_999, max_value=999_999_999)
        )
    return draw(names if kind == "name" else keys)


def existing_path(draw: st.DrawFn, context: dict[str, Any]) -> tuple[str, list[str | int]]:
    """A root and segments that resolve in `context` (any index form, negative ones too)."""
    root = draw(st.sampled_from(sorted(context)))
    value = context[root]
    segments: list[str | int] = []
    while len(segments) < MAX_PATH_SEGMENTS and draw(st.integers(min_value=0, max_value=4)):
        if type(value) is dict and value:
            segment: str | int = draw(st.sampled_from(list(value)))
        elif type(value) is list and value:
            segment = draw(st.integers(min_value=-len(value), max_value=len(value) - 1))
        else:
            break
        segments.append(segment)
        value = value[segment]
    return root, segments


@st.composite
def expressions(draw: st.DrawFn, context: dict[str, Any] | None = None) -> Generated:
    """A well-formed `{{ … }}` and the syntax tree it must parse to; given the variables, the path
    mostly resolves in them (and sometimes goes one hostile step further)."""
    space = st.sampled_from(["", "", " ", "  ", "\t", "\n", "\r\n"])
    segments: list[str | int]
    if context is not None and draw(st.integers(min_value=0, max_value=3)):
        root, segments = existing_path(draw, context)
        if draw(st.booleans()):
            segments.append(random_segment(draw))
    else:
        root = draw(st.sampled_from(ROOTS) | names)
        limit = draw(st.sampled_from([4, 8, MAX_PATH_SEGMENTS]))
        segments = [random_segment(draw) for _ in range(draw(st.integers(min_value=0, max_value=limit)))]
    segments = segments[:MAX_PATH_SEGMENTS]
    pieces = [root] + [segment_text(draw, segment) for segment in segments]
    filters: list[Filter] = []
    for _ in range(draw(st.integers(min_value=0, max_value=draw(st.sampled_from([2, MAX_FILTERS]))))):
        name = draw(st.sampled_from([*sorted(FILTERS_WITHOUT_ARGUMENT), "default", "default"]))
        if name == "default":
            argument = draw(json_values)
            if isinstance(argument, str) and draw(st.booleans()):
                literal = single_quoted(argument)
            else:
                literal = json.dumps(argument, ensure_ascii=draw(st.booleans()))
            filters.append(Filter(name, argument))
            pieces.append(f"{draw(space)}|{draw(space)}default({draw(space)}{literal}{draw(space)})")
        else:
            filters.append(Filter(name))
            pieces.append(f"{draw(space)}|{draw(space)}{name}")
    text = "{{" + draw(space) + "".join(pieces) + draw(space) + "}}"
    return Generated(text, root, tuple(segments), tuple(filters))


TOKENS = [*"{}|.[]()'\"\\ -_:,0123456789", "{{", "}}", "default(", "json", "upper", "trim", *HOSTILE_NAMES, *ROOTS]
literal_text = st.text(max_size=20).map(lambda text: text.replace("{", "(").replace("\\", "/"))


@st.composite
def well_formed_templates(draw: st.DrawFn) -> tuple[str, list[Generated], dict[str, Any]]:
    context = draw(contexts())
    parts = draw(st.lists(literal_text | expressions(context), min_size=1, max_size=6))
    text = "".join(part.text if isinstance(part, Generated) else part for part in parts)
    return text, [part for part in parts if isinstance(part, Generated)], context


@st.composite
def arbitrary_templates(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    context = draw(contexts())
    pieces = st.text(max_size=30) | st.sampled_from(TOKENS) | st.sampled_from(HOSTILE_SNIPPETS)
    parts = draw(st.lists(pieces | expressions(context).map(lambda generated: generated.text), max_size=12))
    return "".join(parts), context


# ---------------------------------------------------------------------------------------------------
# Tests.


@pytest.fixture(scope="module", autouse=True)
def canary_in_environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CANARY_NAME, CANARY)
        assert os.environ[CANARY_NAME] == CANARY  # the thing a leak would find is really there
        yield


@FUZZ
@given(well_formed_templates())
def test_well_formed_templates_parse_to_their_tree_and_render_like_the_model(
    generated: tuple[str, list[Generated], dict[str, Any]],
) -> None:
    text, parts, context = generated
    assume(all(len(part.text) <= MAX_EXPRESSION_LENGTH for part in parts))
    template = parse_template(text)
    assert [(e.root, e.segments, e.filters) for e in template.expressions] == [
        (part.root, part.segments, part.filters) for part in parts
    ]
    result = check_rendering(text, context)
    assert not isinstance(result, TemplateSyntaxError)


@FUZZ
@given(arbitrary_templates())
@example(("{{ os.environ." + CANARY_NAME + " }}", {"trigger": {}}))
@example(("{{ trigger.__class__.__init__.__globals__ }}", {"trigger": {"__class__": {"__init__": {"__globals__": 1}}}}))
def test_any_text_renders_plain_context_data_or_raises_our_errors(generated: tuple[str, dict[str, Any]]) -> None:
    text, context = generated
    check_rendering(text, context)


@pytest.mark.parametrize("snippet", HOSTILE_SNIPPETS)
def test_injection_payloads_never_reach_python(snippet: str) -> None:
    context: dict[str, Any] = {
        "trigger": {"data": {"email": "ada@example.com", "tags": ["a", "b"], "count": 3}},
        "vars": {},
        "os": {"environ": {CANARY_NAME: DECOY}},
    }
    for text in (snippet, f"before {snippet} after"):
        result = check_rendering(text, context)
        if isinstance(result, TemplateSyntaxError | TemplateRenderError):
            continue
        rendered = result if isinstance(result, str) else canonical(result)
        assert CANARY not in rendered


def test_names_of_internals_are_just_keys() -> None:
    """The same dunder/method names resolve to the data stored under them, and to nothing else."""
    context: dict[str, Any] = {
        "trigger": {"__class__": {"__init__": {"__globals__": "data, not globals"}}, "get": "a key called get"},
        "os": {"environ": {CANARY_NAME: DECOY}},
        "vars": {"items": [10, 20]},
    }
    assert render("{{ trigger.__class__.__init__.__globals__ }}", context) == "data, not globals"
    assert render("{{ trigger['__class__']['__init__'] }}", context) == {"__globals__": "data, not globals"}
    assert render("{{ trigger.get }}", context) == "a key called get"
    assert render("{{ vars.items[-1] }}", context) == 20
    assert render(f"{{{{ os.environ.{CANARY_NAME} }}}}", context) == DECOY
    assert render(f"{{{{ os.environ.{CANARY_NAME} }}}}", {}) is None  # no such variable: not the real one
    for text in ("{{ vars.keys }}", "{{ vars.items.__len__ }}", "{{ trigger.get.__self__ }}", "{{ vars.__dict__ }}"):
        assert render(text, context) is None
    assert render("{{ vars.items | length }}", context) == 2  # filters are the only operations


def test_templates_inside_the_data_are_not_evaluated_again() -> None:
    context: dict[str, Any] = {
        "trigger": {"data": {"note": "{{ vars.secret }}", "deep": ["\\{{x}}", "{{os.environ}}"]}},
        "vars": {"secret": "s3cret"},
    }
    assert render("{{ trigger.data.note }}", context) == "{{ vars.secret }}"
    assert render("note: {{ trigger.data.note | upper }}", context) == "note: {{ VARS.SECRET }}"
    assert render("{{ trigger.data.deep }}", context) == ["\\{{x}}", "{{os.environ}}"]
    assert "s3cret" not in render("{{ trigger.data | json }}", context)


def call_at_depth(depth: int, function: Callable[[], Any]) -> Any:
    """Run `function` with `depth` more frames on the stack, as a worker's LangGraph/asyncio stack has."""
    if depth == 0:
        return function()
    return call_at_depth(depth - 1, function)


def test_deep_default_literal_renders_from_a_deep_stack() -> None:
    """Regression: default() copied its argument with copy.deepcopy, two frames per level, so a literal
    nested as deep as the expression limit allows passed validation and then raised RecursionError."""
    depth = (MAX_EXPRESSION_LENGTH - len("{{a|default()}}")) // 2
    text = "{{a|default(" + "[" * depth + "]" * depth + ")}}"
    assert len(text) <= MAX_EXPRESSION_LENGTH
    stack = 400 if sys.getrecursionlimit() <= 1000 else sys.getrecursionlimit() // 2
    first = call_at_depth(stack, lambda: render(text, {}))
    second = call_at_depth(stack, lambda: render(text, {}))
    assert first == second and first is not second  # a fresh copy each time, still equal
    levels, current = 0, first
    while current:
        current, levels = current[0], levels + 1
    assert levels == depth - 1
    as_text = call_at_depth(stack, lambda: render("x" + text, {}))
    assert as_text == "x" + "[" * depth + "]" * depth


def test_json_filter_chains_cannot_blow_up_the_output() -> None:
    """Each json filter can double a string of quotes and backslashes: 8 filters, 200 expressions."""
    context = {"t": {"x": '"\\' * 50_000}}
    chain = "{{ t.x" + " | json" * MAX_FILTERS + " }}"
    started = time.perf_counter()
    with pytest.raises(TemplateRenderError, match="longer than"):
        render(chain, context)
    with pytest.raises(TemplateRenderError, match="longer than"):
        render(" ".join(["{{ t.x | json | json | json | json }}"] * MAX_EXPRESSIONS_PER_TEMPLATE), context)
    assert time.perf_counter() - started < 10
    # Under the limit the same chain works and matches the model.
    small = {"t": {"x": '"\\' * 10}}
    assert render(chain, small) == model_render(chain, small)
    assert len(render("{{ t.x | json | json | json }}", context)) <= MAX_RENDERED_LENGTH


def deeply_nested(depth: int) -> Any:
    value: Any = "leaf"
    for index in range(depth):
        value = [value] if index % 2 else {"k": value}
    return value


def test_values_too_deep_for_json_text_raise_a_render_error() -> None:
    context = {"trigger": {"data": deeply_nested(20_000)}}
    assert render("{{ trigger.data }}", context) is context["trigger"]["data"]  # handed over, not written
    assert render("{{ trigger.data | length }}", context) == 1
    for text in ("x {{ trigger.data }}", "{{ trigger.data | json }}", "{{ trigger.data | upper }}"):
        with pytest.raises(TemplateRenderError, match="JSON text"):
            render(text, context)
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(TemplateRenderError):
        render("{{ trigger | json }}", {"trigger": cycle})


@pytest.mark.parametrize(
    ("name", "make_text", "error"),
    [
        ("200 expressions at the end of 5 MB of text", lambda: "x" * 5_000_000 + "{{a}}" * 200, None),
        ("a million openings", lambda: "{{" * 1_000_000, TemplateSyntaxError),
        ("a million escaped openings", lambda: "\\{{" * 1_000_000, None),
        ("an expression that never closes", lambda: "{{ a" + " " * 5_000_000, TemplateSyntaxError),
        ("an unterminated string key", lambda: "{{ a['" + "x" * 5_000_000, TemplateSyntaxError),
        ("an unterminated default", lambda: '{{ a | default("' + "x" * 5_000_000, TemplateSyntaxError),
        ("a default nested past the limit", lambda: "{{ a | default(" + "[" * 1_000_000, TemplateSyntaxError),
        ("a huge index", lambda: "{{ a[" + "9" * 1_000_000 + "] }}", TemplateSyntaxError),
        ("a huge name", lambda: "{{ a." + "b" * 1_000_000 + " }}", TemplateSyntaxError),
        ("too many segments", lambda: "{{ a" + "[0]" * 100_000 + " }}", TemplateSyntaxError),
        ("too many filters", lambda: "{{ a" + "|trim" * 100_000 + " }}", TemplateSyntaxError),
        ("201 expressions", lambda: "{{a}}" * 201 + "x" * 1_000_000, TemplateSyntaxError),
        ("NUL bytes everywhere", lambda: "\x00{{\x00a\x00}}\x00" * 100_000, TemplateSyntaxError),
        ("unicode around expressions", lambda: "é✓😀{{ a }}" * 200 + "\U0010ffff" * 1_000_000, None),
    ],
)
def test_long_hostile_inputs_stay_bounded(
    name: str, make_text: Callable[[], str], error: type[Exception] | None
) -> None:
    text = make_text()
    context = {"a": "b" * 1_000}
    started = time.perf_counter()
    if error is None:
        result = render(text, context)
        assert isinstance(result, str) and CANARY not in result
        assert len(result) <= len(text) + MAX_EXPRESSIONS_PER_TEMPLATE * 1_000
        assert result == model_render(text, context)
    else:
        with pytest.raises(error) as raised:
            render(text, context)
        assert len(str(raised.value)) < 1_000, "an error message must not echo the input"
    # Linear work on a few MB takes milliseconds; a quadratic or exponential path would take minutes.
    assert time.perf_counter() - started < 10, name
