"""If / else: test structured conditions and continue on `true` or `false`.

Conditions are data, not code: a group combines conditions (and nested groups, up to 5 deep) with
and/or; a condition compares a template value with an operator. Nothing is evaluated as an
expression language, so a condition can't run code.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from agentflow.engine.nodes.base import UNION_TAG_PREFIX, Handle, NodeConfig, NodeType, template_hint
from agentflow.engine.nodes.context import NodeResult, NodeRun

Operator = Literal[
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "greater_than",
    "greater_or_equal",
    "less_than",
    "less_or_equal",
    "is_empty",
    "is_not_empty",
    "is_true",
    "is_false",
    "matches",
]
UNARY_OPERATORS = frozenset({"is_empty", "is_not_empty", "is_true", "is_false"})
TEXT_OPERATORS = frozenset({"starts_with", "ends_with", "matches"})

MAX_GROUP_DEPTH = 5
MAX_CONDITIONS_PER_GROUP = 50
MAX_REGEX_LENGTH = 500
"""Bounds the pattern; the run-time matcher also bounds the text it is matched against."""

CONDITION_TAG = f"{UNION_TAG_PREFIX}condition"
GROUP_TAG = f"{UNION_TAG_PREFIX}group"


class Condition(NodeConfig):
    left: str = Field(
        min_length=1,
        max_length=10_000,
        description="The value to test, e.g. {{classify.output.confidence}}.",
        json_schema_extra=template_hint(multiline=False),
    )
    operator: Operator = Field(description="How to compare left with right.")
    right: Any = Field(
        default=None,
        description="What to compare with (any JSON value; strings may be templates). Unused by is_* operators.",
        json_schema_extra=template_hint(multiline=False),
    )

    @model_validator(mode="after")
    def _right_fits_operator(self) -> Self:
        if self.operator in UNARY_OPERATORS:
            if self.right is not None:
                raise ValueError(f"operator {self.operator} takes no right-hand value")
            return self
        if self.right is None:
            raise ValueError(f"operator {self.operator} needs a right-hand value")
        if self.operator in TEXT_OPERATORS and not isinstance(self.right, str):
            raise ValueError(f"operator {self.operator} needs a text right-hand value")
        if self.operator == "matches":
            _check_regex(self.right)
        return self


def _check_regex(pattern: str) -> None:
    if len(pattern) > MAX_REGEX_LENGTH:
        raise ValueError(f"the regular expression is longer than {MAX_REGEX_LENGTH} characters")
    if "{{" in pattern:
        return  # built at run time from data; checked when rendered
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"invalid regular expression: {error}") from None
    except Exception as error:  # e.g. RecursionError on absurd nesting; report, don't crash
        raise ValueError(f"invalid regular expression ({type(error).__name__})") from None


def _condition_kind(value: Any) -> str:
    if isinstance(value, ConditionGroup) or (isinstance(value, dict) and "conditions" in value):
        return GROUP_TAG
    return CONDITION_TAG


class ConditionGroup(NodeConfig):
    combinator: Literal["and", "or"] = Field(default="and", description="and: all must hold; or: any.")
    conditions: list[
        Annotated[
            Annotated[Condition, Tag(CONDITION_TAG)] | Annotated[ConditionGroup, Tag(GROUP_TAG)],
            Discriminator(_condition_kind),
        ]
    ] = Field(min_length=1, max_length=MAX_CONDITIONS_PER_GROUP, description="Conditions and nested groups.")


class IfElseConfig(NodeConfig):
    conditions: ConditionGroup = Field(description="The test; true if the group holds.")

    @field_validator("conditions")
    @classmethod
    def _groups_are_shallow(cls, root: ConditionGroup) -> ConditionGroup:
        pending: list[tuple[ConditionGroup, int]] = [(root, 1)]
        while pending:
            group, depth = pending.pop()
            if depth > MAX_GROUP_DEPTH:
                raise ValueError(f"groups nest more than {MAX_GROUP_DEPTH} deep")
            pending.extend((item, depth + 1) for item in group.conditions if isinstance(item, ConditionGroup))
        return root


MAX_MATCH_TEXT = 10_000
"""`matches` looks at no more than this many characters of the value."""


async def run(config: IfElseConfig, run: NodeRun) -> NodeResult:
    result = _group_holds(config.conditions, run, "config.conditions")
    return NodeResult(output={"result": result}, handle="true" if result else "false")


def _group_holds(group: ConditionGroup, run: NodeRun, path: str) -> bool:
    outcomes = (
        _group_holds(item, run, f"{path}.conditions[{index}]")
        if isinstance(item, ConditionGroup)
        else _condition_holds(item, run, f"{path}.conditions[{index}]")
        for index, item in enumerate(group.conditions)
    )
    return all(outcomes) if group.combinator == "and" else any(outcomes)


def _condition_holds(condition: Condition, run: NodeRun, path: str) -> bool:
    left = run.render(condition.left, f"{path}.left")
    right = run.render(condition.right, f"{path}.right")
    return compare(left, condition.operator, right)


def compare(left: Any, operator: str, right: Any) -> bool:
    """Structured comparison — the whole of what a condition can do (no expressions, no eval)."""
    if operator == "is_empty":
        return left is None or left in ("", [], {})
    if operator == "is_not_empty":
        return not (left is None or left in ("", [], {}))
    if operator == "is_true":
        return left is True or (isinstance(left, str) and left.strip().lower() in ("true", "yes", "1"))
    if operator == "is_false":
        return left is False or (isinstance(left, str) and left.strip().lower() in ("false", "no", "0"))
    if operator == "equals":
        return values_equal(left, right)
    if operator == "not_equals":
        return not values_equal(left, right)
    if operator in ("contains", "not_contains"):
        found = _contains(left, right)
        return found if operator == "contains" else not found
    if operator == "starts_with":
        return _text(left).startswith(_text(right))
    if operator == "ends_with":
        return _text(left).endswith(_text(right))
    if operator == "matches":
        try:
            return re.search(_text(right), _text(left)[:MAX_MATCH_TEXT]) is not None
        except re.error:
            return False
    ordered = _ordered(left, right)
    if ordered is None:
        return False
    a, b = ordered
    if operator == "greater_than":
        return bool(a > b)
    if operator == "greater_or_equal":
        return bool(a >= b)
    if operator == "less_than":
        return bool(a < b)
    return bool(a <= b)  # less_or_equal


def values_equal(left: Any, right: Any) -> bool:
    """Equal as JSON values; numbers and numeric text compare as numbers ("5" equals 5)."""
    left_number, right_number = _number(left), _number(right)
    if left_number is not None and right_number is not None:
        return left_number == right_number
    return bool(left == right)


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return _text(item) in container
    if isinstance(container, list):
        return any(values_equal(element, item) for element in container)
    if isinstance(container, dict):
        return isinstance(item, str) and item in container
    return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _ordered(left: Any, right: Any) -> tuple[Any, Any] | None:
    left_number, right_number = _number(left), _number(right)
    if left_number is not None and right_number is not None:
        return left_number, right_number
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


NODE_TYPE = NodeType(
    type="logic",
    subtype="if_else",
    display_name="If / else",
    description="Branch on conditions: continue on true or false.",
    category="Logic",
    icon="git-branch",
    config_model=IfElseConfig,
    handler=run,
    static_outputs=(Handle("true", "True"), Handle("false", "False")),
)
