"""Checks for config fields that hold a JSON Schema (ai.extract's output, triggers' input)."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, SchemaError
from pydantic import Field, field_validator

from agentflow.engine.nodes.base import NodeConfig, widget_hint


def check_object_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Raise ValueError unless `schema` is a valid JSON Schema (2020-12) describing an object.

    An object at the top is what LLM structured output and run-input forms both need, and it makes
    the result addressable as `{{node.output.field}}`.
    """
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        location = "/".join(str(part) for part in error.absolute_path)
        raise ValueError(
            f"not a valid JSON Schema: {error.message}" + (f" (at /{location})" if location else "")
        ) from None
    except Exception as error:  # a hostile schema can break the metaschema walk itself (e.g. recursion)
        raise ValueError(f"not a valid JSON Schema: {type(error).__name__}") from None
    if schema.get("type") != "object":
        raise ValueError('the schema must describe an object: {"type": "object", "properties": {…}}')
    return schema


class RunInputConfig(NodeConfig):
    """Triggers whose input a person or client supplies may describe it with a JSON Schema."""

    input_schema: dict[str, Any] | None = Field(
        default=None,
        description="JSON Schema of the run input (the app renders it as a form). Input is {{trigger.data}}.",
        json_schema_extra=widget_hint("json-schema"),
    )

    @field_validator("input_schema")
    @classmethod
    def _input_schema_is_valid(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if schema is None else check_object_schema(schema)
