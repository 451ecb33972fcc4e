"""Template variables: `{{ … }}` references in config strings, parsed by our own small parser.

No eval, no Jinja: an expression is a data path plus filters, and rendering only looks keys up in
dicts and indexes lists — user text is never executed (template engines were n8n's and Langflow's
remote-code-execution holes).

Grammar (whitespace is allowed around `|`, filters and inside `{{ }}`, not inside a path):

    template   := ( text | "{{" expression "}}" )*
    expression := path ( "|" filter )*
    path       := root ( "." name | "[" integer "]" | "[" string "]" )*
    root, name := [A-Za-z_][A-Za-z0-9_]*
    integer    := -?[0-9]{1,9}                 (negative counts from the end, like Python)
    string     := a JSON string "…" or a single-quoted '…' (backslash escapes the next character)
    filter     := "default" "(" literal ")" | "json" | "upper" | "lower" | "trim" | "length"
    literal    := a JSON value (null, true, 12.5, "text", [...], {...}) or a single-quoted string

A backslash right before `{{` makes it literal text: `\\{{` renders as `{{`.

Roots: `trigger` (the trigger's data), `vars` (set-variables values), `loop` (item and index inside a
loop body), `execution` (facts about the run), or a node id whose `output` holds its result:
`{{trigger.data.email}}`, `{{classify.output.category}}`, `{{fetch.output.items[0]["first name"]}}`.

Rendering rules (`render`):
- A string that is exactly one expression (nothing around the braces) yields the value itself, so a
  list stays a list and a number a number; a missing value yields None.
- Otherwise expressions are interpolated as text: strings as they are, missing/None as "",
  everything else as JSON (`true`, `12.5`, `{"a": 1}`).
- A path that does not resolve (missing key, index out of range, wrong container) is *missing*;
  `default(x)` replaces missing and None with x.
- `upper`, `lower`, `trim` work on text (other values are first turned into text as above; missing
  and None stay None); `length` counts characters, items or keys (missing/None → 0); `json` encodes
  the value as JSON text (missing → "null").

Limits bound the work a hostile string can cause: expressions of at most MAX_EXPRESSION_LENGTH
characters, at most MAX_EXPRESSIONS_PER_TEMPLATE per string, MAX_PATH_SEGMENTS segments, MAX_FILTERS
filters. Rendering produces at most MAX_RENDERED_LENGTH characters of text per filter result and per
interpolated string, and raises TemplateRenderError beyond that (or for a value nested too deeply to
write as JSON text): each `json` filter can double a string's length (quotes and backslashes get
escaped), so eight of them in a row, times two hundred expressions, would otherwise turn a 100 kB
field into gigabytes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from agentflow.engine.paths import child_path

MAX_EXPRESSION_LENGTH = 1_000
MAX_EXPRESSIONS_PER_TEMPLATE = 200
MAX_PATH_SEGMENTS = 32
MAX_FILTERS = 8
MAX_NAME_LENGTH = 128
MAX_RENDERED_LENGTH = 10_000_000
"""Characters of text one filter or one interpolated string may produce (a 5 MB HTTP body still fits)."""

FILTERS_WITH_ARGUMENT = frozenset({"default"})
FILTERS_WITHOUT_ARGUMENT = frozenset({"json", "upper", "lower", "trim", "length"})
FILTERS = FILTERS_WITH_ARGUMENT | FILTERS_WITHOUT_ARGUMENT
_TEXT_FILTERS = frozenset({"json", "upper", "lower", "trim"})

Segment = str | int


class TemplateSyntaxError(ValueError):
    """A template that does not parse. `position` is the 0-based offset in the string; `path` (set by
    `find_references`) is where the string sits in the value that was searched."""

    def __init__(self, message: str, position: int, path: str | None = None) -> None:
        super().__init__(f"{message} (at offset {position})")
        self.message = message
        self.position = position
        self.path = path


class TemplateRenderError(ValueError):
    """A template that parses but whose result cannot be produced within the limits: text longer than
    MAX_RENDERED_LENGTH, or a value nested too deeply to turn into JSON text. `code` is what a failed
    step reports."""

    code = "TEMPLATE_TOO_LARGE"


@dataclass(frozen=True)
class Filter:
    name: str
    argument: Any = None
    """Only default() takes one: a JSON value."""


@dataclass(frozen=True)
class Expression:
    source: str
    """The text between the braces, trimmed: `trigger.data.email | default("")`."""
    root: str
    segments: tuple[Segment, ...]
    filters: tuple[Filter, ...]
    start: int
    """Offset of `{{` in the template."""
    end: int
    """Offset just after `}}`."""


@dataclass(frozen=True)
class Template:
    source: str
    parts: tuple[str | Expression, ...]

    @property
    def expressions(self) -> tuple[Expression, ...]:
        return tuple(part for part in self.parts if isinstance(part, Expression))

    @property
    def single_expression(self) -> Expression | None:
        """The expression, if the whole string is one `{{ … }}`: it renders to the raw value, not to text."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Expression):
            return self.parts[0]
        return None

    @property
    def is_single_expression(self) -> bool:
        return self.single_expression is not None


@dataclass(frozen=True)
class Reference:
    path: str
    """Where the string sits in the searched value, e.g. `config.prompt`."""
    expression: str
    root: str
    segments: tuple[Segment, ...]
    position: int
    """Offset of the expression's `{{` in that string."""


class _Missing:
    """A path that did not resolve (distinct from a present None)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_WHITESPACE = frozenset(" \t\r\n")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


_JSON = json.JSONDecoder(parse_constant=_reject_constant)


class _ExpressionParser:
    """Parses one `{{ … }}` starting at `start`; reads no further than the expression length limit."""

    def __init__(self, text: str, start: int) -> None:
        self.limit = min(len(text), start + MAX_EXPRESSION_LENGTH)
        self.text = text[: self.limit]
        self.truncated = self.limit < len(text)
        self.start = start
        self.position = start + 2

    def error(self, message: str, position: int | None = None) -> TemplateSyntaxError:
        return TemplateSyntaxError(message, self.position if position is None else position)

    def peek(self, length: int = 1) -> str:
        return self.text[self.position : self.position + length]

    def at_end(self) -> bool:
        return self.position >= self.limit

    def unexpected(self, expected: str) -> TemplateSyntaxError:
        if self.at_end():
            if self.truncated:
                return self.unexpected_end()
            return self.error(f"unexpected end of text; expected {expected} (is '}}}}' missing?)")
        return self.error(f"unexpected {self.peek()!r}; expected {expected}")

    def unexpected_end(self) -> TemplateSyntaxError:
        return TemplateSyntaxError(
            f"expression longer than {MAX_EXPRESSION_LENGTH} characters or missing '}}}}'", self.start
        )

    def skip_whitespace(self) -> None:
        while not self.at_end() and self.text[self.position] in _WHITESPACE:
            self.position += 1

    def parse(self) -> Expression:
        self.skip_whitespace()
        source_start = self.position
        root = self.name("a variable like trigger.data.x or node_id.output.x")
        segments = self.segments()
        filters: list[Filter] = []
        self.skip_whitespace()
        while self.peek() == "|":
            if len(filters) == MAX_FILTERS:
                raise self.error(f"more than {MAX_FILTERS} filters")
            self.position += 1
            self.skip_whitespace()
            filters.append(self.filter())
            self.skip_whitespace()
        source_end = self.position
        if self.peek(2) != "}}":
            raise self.unexpected("'.', '[', '|' or '}}'" if not filters else "'|' or '}}'")
        self.position += 2
        return Expression(
            source=self.text[source_start:source_end].rstrip(),
            root=root,
            segments=tuple(segments),
            filters=tuple(filters),
            start=self.start,
            end=self.position,
        )

    def name(self, expected: str) -> str:
        begin = self.position
        if self.at_end() or self.text[self.position] not in _NAME_START:
            raise self.unexpected(expected)
        while not self.at_end() and self.text[self.position] in _NAME_CHARS:
            self.position += 1
        if self.position - begin > MAX_NAME_LENGTH:
            raise self.error(f"name longer than {MAX_NAME_LENGTH} characters", begin)
        return self.text[begin : self.position]

    def segments(self) -> list[Segment]:
        segments: list[Segment] = []
        while True:
            char = self.peek()
            if char not in (".", "["):
                return segments
            if len(segments) == MAX_PATH_SEGMENTS:
                raise self.error(f"path longer than {MAX_PATH_SEGMENTS} segments")
            self.position += 1
            if char == ".":
                segments.append(self.name("a field name after '.'"))
                continue
            if self.peek() in ('"', "'"):
                segments.append(self.string())
            else:
                segments.append(self.integer())
            if self.peek() != "]":
                raise self.unexpected("']'")
            self.position += 1

    def integer(self) -> int:
        begin = self.position
        if self.peek() == "-":
            self.position += 1
        digits_start = self.position
        while not self.at_end() and self.text[self.position] in _DIGITS:
            self.position += 1
        digits = self.position - digits_start
        if digits == 0:
            self.position = begin
            raise self.unexpected('an index like [0] or a quoted key like ["name"]')
        if digits > 9:
            raise self.error("index too large", begin)
        return int(self.text[begin : self.position])

    def string(self) -> str:
        if self.peek() == '"':
            value = self.json_value()
            if not isinstance(value, str):
                raise self.error("expected a string")
            return value
        return self.single_quoted()

    def single_quoted(self) -> str:
        begin = self.position
        self.position += 1
        characters: list[str] = []
        while not self.at_end():
            char = self.text[self.position]
            if char == "'":
                self.position += 1
                return "".join(characters)
            if char == "\\" and self.position + 1 < self.limit:
                self.position += 1
                char = self.text[self.position]
            characters.append(char)
            self.position += 1
        if self.truncated:
            raise self.unexpected_end()
        raise self.error("unterminated string", begin)

    def json_value(self) -> Any:
        begin = self.position
        try:
            value, end = _JSON.raw_decode(self.text, begin)
        except json.JSONDecodeError as error:
            if self.truncated and (error.msg.startswith("Unterminated") or error.pos >= self.limit - 1):
                raise self.unexpected_end() from None
            raise self.error(f"invalid JSON value: {error.msg}", error.pos) from None
        except (ValueError, RecursionError) as error:
            raise self.error(f"invalid JSON value: {error}", begin) from None
        self.position = end
        return value

    def filter(self) -> Filter:
        begin = self.position
        name = self.name("a filter: " + ", ".join(sorted(FILTERS)))
        if name not in FILTERS:
            raise self.error(f"unknown filter {name!r}; filters are " + ", ".join(sorted(FILTERS)), begin)
        self.skip_whitespace()
        if name in FILTERS_WITHOUT_ARGUMENT:
            if self.peek() == "(":
                raise self.error(f"filter {name!r} takes no argument")
            return Filter(name)
        if self.peek() != "(":
            raise self.unexpected(f"'(' — {name} needs a value, e.g. {name}(\"\")")
        self.position += 1
        self.skip_whitespace()
        if self.at_end():
            raise self.unexpected("a JSON value")
        argument = self.single_quoted() if self.peek() == "'" else self.json_value()
        self.skip_whitespace()
        if self.peek() != ")":
            raise self.unexpected("')'")
        self.position += 1
        return Filter(name, argument)


CACHED_TEMPLATE_LENGTH = 4096
"""Shorter texts (most config strings) are parsed once per process; long ones aren't kept in memory."""


def parse_template(text: str) -> Template:
    """Split a string into literal text and expressions. Raises TemplateSyntaxError."""
    if len(text) <= CACHED_TEMPLATE_LENGTH:
        return _parse_template_cached(text)
    return _parse_template(text)


@functools.lru_cache(maxsize=4096)
def _parse_template_cached(text: str) -> Template:
    return _parse_template(text)


def _parse_template(text: str) -> Template:
    parts: list[str | Expression] = []
    literal: list[str] = []
    position = 0
    expressions = 0
    while True:
        opening = text.find("{{", position)
        if opening < 0:
            literal.append(text[position:])
            break
        if opening > 0 and text[opening - 1] == "\\":
            literal.append(text[position : opening - 1])
            literal.append("{{")
            position = opening + 2
            continue
        literal.append(text[position:opening])
        expressions += 1
        if expressions > MAX_EXPRESSIONS_PER_TEMPLATE:
            raise TemplateSyntaxError(f"more than {MAX_EXPRESSIONS_PER_TEMPLATE} expressions in one text", opening)
        expression = _ExpressionParser(text, opening).parse()
        if any(literal):
            parts.append("".join(literal))
        literal = []
        parts.append(expression)
        position = expression.end
    if any(literal):
        parts.append("".join(literal))
    return Template(source=text, parts=tuple(parts))


def scan_references(value: Any, path: str = "") -> tuple[list[Reference], list[TemplateSyntaxError]]:
    """Every reference in every string of a nested dict/list value, in document order, plus every
    string that failed to parse (each error's `path` says where). Dict keys are not templates."""
    references: list[Reference] = []
    errors: list[TemplateSyntaxError] = []
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        current, current_path = pending.pop()
        if isinstance(current, str):
            if "{{" not in current:
                continue
            try:
                template = parse_template(current)
            except TemplateSyntaxError as error:
                errors.append(TemplateSyntaxError(error.message, error.position, current_path))
                continue
            references.extend(
                Reference(current_path, expression.source, expression.root, expression.segments, expression.start)
                for expression in template.expressions
            )
        elif isinstance(current, Mapping):
            children = [(item, child_path(current_path, key)) for key, item in current.items() if isinstance(key, str)]
            pending.extend(reversed(children))
        elif isinstance(current, list | tuple):
            pending.extend(reversed([(item, child_path(current_path, index)) for index, item in enumerate(current)]))
    return references, errors


def find_references(value: Any, path: str = "") -> list[Reference]:
    """Every reference in a nested value, e.g. a node's config searched with path="config".

    Raises the first TemplateSyntaxError (with its `path`) if a string does not parse.
    """
    references, errors = scan_references(value, path)
    if errors:
        raise errors[0]
    return references


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string in a nested dict/list value against `context` (see the module doc).

    `context` maps roots to values: {"trigger": {...}, "vars": {...}, "<node_id>": {"output": ...}}.
    Raises TemplateSyntaxError for a string that does not parse (validation reports those first), and
    TemplateRenderError when a result would exceed the rendering limits.
    """
    if isinstance(value, str):
        return render_text(value, context)
    if isinstance(value, Mapping):
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render(item, context) for item in value]
    return value


def render_text(text: str, context: Mapping[str, Any]) -> Any:
    if "{{" not in text:
        return text
    template = parse_template(text)
    if template.single_expression is not None:
        value = evaluate(template.single_expression, context)
        return None if value is MISSING else value
    pieces: list[str] = []
    length = 0
    for part in template.parts:
        piece = part if isinstance(part, str) else _as_text(evaluate(part, context))
        length += len(piece)
        _check_length(length)
        pieces.append(piece)
    return "".join(pieces)


def evaluate(expression: Expression, context: Mapping[str, Any]) -> Any:
    """The expression's value in `context`; MISSING if its path does not resolve."""
    value: Any = context.get(expression.root, MISSING)
    for segment in expression.segments:
        value = _step(value, segment)
        if value is MISSING:
            break
    for applied in expression.filters:
        value = _apply_filter(applied, value)
        if applied.name in _TEXT_FILTERS and isinstance(value, str):
            # Checked after every filter that makes new text, so a chain of `json` filters stops at
            # the first oversized result instead of doubling it seven more times.
            _check_length(len(value))
    return value


def _check_length(length: int) -> None:
    if length > MAX_RENDERED_LENGTH:
        raise TemplateRenderError(f"the rendered text is longer than {MAX_RENDERED_LENGTH} characters")


def _step(value: Any, segment: Segment) -> Any:
    if isinstance(segment, str):
        return value.get(segment, MISSING) if isinstance(value, Mapping) else MISSING
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return value[segment] if -len(value) <= segment < len(value) else MISSING
    return MISSING


def _apply_filter(applied: Filter, value: Any) -> Any:
    name = applied.name
    if name == "default":
        # A copy: the parsed template is cached and shared, its argument must not leak out mutable.
        return _copy_json(applied.argument) if value is MISSING or value is None else value
    if name == "json":
        return "null" if value is MISSING else _to_json(value)
    if name == "length":
        if value is MISSING or value is None:
            return 0
        if isinstance(value, str | Sequence | Mapping):
            return len(value)
        return len(_as_text(value))
    if value is MISSING or value is None:
        return None
    text = _as_text(value)
    if name == "upper":
        return text.upper()
    if name == "lower":
        return text.lower()
    return text.strip()  # trim


def _copy_json(value: Any) -> Any:
    """A copy of a JSON value (a default() argument), made without recursion.

    copy.deepcopy recursed two Python frames per nesting level, so an argument nested ~490 deep (it
    fits in MAX_EXPRESSION_LENGTH, and the template passes validation) raised RecursionError when
    rendered from a worker's already deep stack.
    """
    if not isinstance(value, list | dict):
        return value
    root: Any = [] if isinstance(value, list) else {}
    pending: list[tuple[Any, Any]] = [(value, root)]
    while pending:
        source, target = pending.pop()
        items = enumerate(source) if isinstance(source, list) else source.items()
        for key, item in items:
            if isinstance(item, list | dict):
                child: Any = [] if isinstance(item, list) else {}
                pending.append((item, child))
                item = child
            if isinstance(target, list):
                target.append(item)
            else:
                target[key] = item
    return root


def _as_text(value: Any) -> str:
    if value is MISSING or value is None:
        return ""
    if isinstance(value, str):
        return value
    return _to_json(value)


def _to_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (RecursionError, ValueError) as error:  # nesting deeper than the stack allows; a cycle
        raise TemplateRenderError(f"the value cannot be written as JSON text: {error}") from None
