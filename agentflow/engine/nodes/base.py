"""What a node type declares: identity, catalog text, config model and handles.

A node type's pydantic config model is the single source of truth for its settings: the catalog
exports it as JSON Schema (the builder renders forms from it), validation runs it, and the handler
receives the parsed, typed model.

Config models use two JSON Schema extensions for the builder:
- `x-template: true` — the field is a `{{ … }}` template; offer variable autocomplete.
- `x-widget` — how to render the field: textarea, code, json, cron, timezone, model, credential,
  knowledge-base, approvers, json-schema.

Every string in a node's config is rendered as a template at run time (see `variables`); the
`x-template` mark only tells the builder where templates are expected.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from agentflow.engine.nodes.context import NodeHandler

Category = Literal["Triggers", "AI", "Actions", "Logic", "Human", "Knowledge", "Transform"]
CATEGORIES: tuple[Category, ...] = ("Triggers", "AI", "Actions", "Logic", "Human", "Knowledge", "Transform")

JsonDict = dict[str, Any]

UNION_TAG_PREFIX = "#"
"""Tagged unions in config models use tags starting with this, so error locations can drop them."""


def template_hint(*, multiline: bool = True) -> JsonDict:
    return {"x-template": True, "x-widget": "textarea" if multiline else "text"}


def widget_hint(widget: str) -> JsonDict:
    return {"x-widget": widget}


class NodeConfig(BaseModel):
    """Base of every config model: unknown keys are errors, values are not coerced."""

    # strict: "0.7" for a temperature is a mistake worth reporting, not something to guess about.
    # UUID fields opt out (JSON has no UUID type, so they arrive as strings).
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


@dataclass(frozen=True)
class Handle:
    """A connection point. Outputs are named by edges' `source_handle`; every node has one input."""

    id: str
    label: str
    multiple: bool = False
    """For inputs: the node is built to receive several edges (merge joins branches; a loop gets its body back)."""

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "multiple": self.multiple}


INPUT = Handle("in", "Input")
OUTPUT = Handle("out", "Output")
ERROR_OUTPUT = Handle("error", "Error")
"""Nodes that can fail at run time offer this so a flow can route failures instead of stopping."""


@dataclass(frozen=True)
class DynamicOutputs:
    """Output handles derived from a list in the config: one per item, id = item[key_field].

    They come before the node type's static outputs (e.g. classify: one per category, then error).
    """

    from_field: str
    key_field: str

    def handles(self, config: BaseModel) -> list[Handle]:
        items = getattr(config, self.from_field)
        keys = [str(getattr(item, self.key_field)) for item in items]
        return [Handle(key, key) for key in keys]

    def describe(self) -> dict[str, str]:
        return {"from": self.from_field, "key": self.key_field}


@dataclass(frozen=True)
class NodeType:
    type: str
    subtype: str
    display_name: str
    description: str
    category: Category
    icon: str
    """A lucide icon name."""
    config_model: builtins.type[BaseModel]
    inputs: tuple[Handle, ...] = (INPUT,)
    static_outputs: tuple[Handle, ...] = (OUTPUT,)
    dynamic_outputs: DynamicOutputs | None = None
    has_side_effects: bool = False
    """Running it changes the outside world (sends, writes, notifies) — matters for retries and test runs."""
    handler: NodeHandler | None = None
    """`async run(config, run: NodeRun) -> NodeResult` (see `nodes.context`); None: the engine cannot run it."""

    @property
    def key(self) -> str:
        return f"{self.type}.{self.subtype}"

    def parse_config(self, raw: Mapping[str, Any]) -> BaseModel:
        """The typed config; raises pydantic.ValidationError."""
        return self.config_model.model_validate(raw)

    def outputs(self, config: BaseModel) -> list[Handle]:
        """Output handles for a parsed config: the dynamic ones (if any), then the static ones."""
        dynamic = self.dynamic_outputs.handles(config) if self.dynamic_outputs else []
        return [*dynamic, *self.static_outputs]
