"""If / else: test structured conditions and continue on `true` or `false`.

Conditions are data, not code: a group combines conditions (and nested groups, up to 5 deep) with
and/or; a condition compares a template value with an operator. Nothing is evaluated as an
expression language, so a condition can't run code.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from agentflow.engine.nodes.base import UNION_TAG_PREFIX, Handle, NodeConfig, NodeType, template_hint

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


NODE_TYPE = NodeType(
    type="logic",
    subtype="if_else",
    display_name="If / else",
    description="Branch on conditions: continue on true or false.",
    category="Logic",
    icon="git-branch",
    config_model=IfElseConfig,
    static_outputs=(Handle("true", "True"), Handle("false", "False")),
)
