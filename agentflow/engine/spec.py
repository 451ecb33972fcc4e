"""The agent definition: a versioned graph of nodes and edges.

The engine owns this model; the API stores it (draft and immutable versions) and imports it from
here. A node's `config` stays a plain JSON object in the definition — each node type's config model
(see `agentflow.engine.nodes`) validates it and hands it typed to the handler — so a definition
round-trips byte for byte through storage, export and import.

Structural limits (node and edge counts, config nesting and size) bound the work any later step
(validation, diffing, compiling) can be made to do by a hostile definition.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from agentflow.engine.paths import child_path

SCHEMA_VERSION: Final = 1

RESERVED_ROOTS = frozenset({"trigger", "vars", "loop", "execution"})
"""Template roots that are not node ids (`{{trigger.data.x}}`, `{{vars.name}}`, …); node ids may not use them."""

LOOP_FIELDS = frozenset({"item", "index"})
"""What `{{loop.…}}` offers inside a loop body: the current item and its 0-based index."""

EXECUTION_FIELDS = frozenset({"id", "agent_id", "agent_version", "started_at"})
"""What `{{execution.…}}` offers: facts about the running execution."""

NODE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
EDGE_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,100}$"
HANDLE_PATTERN = r"^[a-z0-9_][a-z0-9_-]{0,63}$"
NODE_KIND_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"

MAX_NODES = 500
MAX_EDGES = 2000
MAX_LABEL_LENGTH = 255
MAX_EDGE_LABEL_LENGTH = 100
MAX_CONFIG_DEPTH = 32
MAX_CONFIG_ELEMENTS = 10_000
MIN_JSON_INT = -(2**63)
MAX_JSON_INT = 2**63 - 1

NodeId = Annotated[str, StringConstraints(pattern=NODE_ID_PATTERN)]
EdgeId = Annotated[str, StringConstraints(pattern=EDGE_ID_PATTERN)]
HandleId = Annotated[str, StringConstraints(pattern=HANDLE_PATTERN)]
NodeKind = Annotated[str, StringConstraints(pattern=NODE_KIND_PATTERN)]


def check_json_value(value: Any, *, max_depth: int = MAX_CONFIG_DEPTH, max_elements: int = MAX_CONFIG_ELEMENTS) -> None:
    """Raise ValueError unless `value` is plain, finite, bounded JSON (integers within 64 bits).

    Iterative, so neither a deeply nested nor a self-referencing Python value can exhaust the stack;
    a value that nests too deep (a self-reference does) fails on the depth limit.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    elements = 0
    while stack:
        current, path, depth = stack.pop()
        elements += 1
        if elements > max_elements:
            raise ValueError(f"more than {max_elements} values")
        if depth > max_depth:
            raise ValueError(f"nested deeper than {max_depth} levels at {path or 'the top'}")
        if current is None or isinstance(current, bool | str):
            continue
        if isinstance(current, int):
            # Beyond 64 bits a number cannot be written back out (JSON export, orjson).
            if not MIN_JSON_INT <= current <= MAX_JSON_INT:
                raise ValueError(f"{path or 'value'}: integers must fit in 64 bits")
            continue
        if isinstance(current, float):
            if not math.isfinite(current):
                raise ValueError(f"{path or 'value'}: numbers must be finite (no NaN or Infinity)")
            continue
        if isinstance(current, dict):
            for key, item in current.items():
                if not isinstance(key, str):
                    raise ValueError(f"{path or 'value'}: object keys must be strings")
                stack.append((item, child_path(path, key), depth + 1))
            continue
        if isinstance(current, list):
            for index, item in enumerate(current):
                stack.append((item, child_path(path, index), depth + 1))
            continue
        raise ValueError(f"{path or 'value'}: {type(current).__name__} is not a JSON value")


class _DefinitionModel(BaseModel):
    # strict: a definition is machine-written JSON; coercing "1" to 1 would make export differ from input.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Position(_DefinitionModel):
    """Where the builder draws the node; meaningless to the engine."""

    x: float = 0
    y: float = 0


class Node(_DefinitionModel):
    id: NodeId = Field(description="Stable, human-readable id, used in templates: {{classify_lead.output.label}}.")
    type: NodeKind = Field(description="Node family: trigger, ai, action, logic, human, knowledge, transform, flow.")
    subtype: NodeKind = Field(description="The node type within its family, e.g. chat, if_else, webhook.")
    label: str | None = Field(default=None, max_length=MAX_LABEL_LENGTH)
    config: dict[str, Any] = Field(default_factory=dict, description="Validated by the node type's config model.")
    position: Position = Field(default_factory=Position)

    @property
    def key(self) -> str:
        return f"{self.type}.{self.subtype}"

    @field_validator("config")
    @classmethod
    def _config_is_bounded_json(cls, config: dict[str, Any]) -> dict[str, Any]:
        check_json_value(config)
        return config


class Edge(_DefinitionModel):
    id: EdgeId
    source: NodeId
    source_handle: HandleId = Field(default="out", description="Which output of the source node: out, true, error, …")
    target: NodeId
    label: str | None = Field(default=None, max_length=MAX_EDGE_LABEL_LENGTH)

    @field_validator("source_handle", mode="before")
    @classmethod
    def _yaml_booleans_are_if_else_handles(cls, value: Any) -> Any:
        # In hand-written YAML, `source_handle: true` parses as a boolean; it can only mean the
        # if/else handle named "true" (or "false"), so read it that way instead of refusing it.
        if isinstance(value, bool):
            return "true" if value else "false"
        return value


class AgentDefinition(_DefinitionModel):
    schema_version: Literal[1] = SCHEMA_VERSION
    nodes: list[Node] = Field(default_factory=list, max_length=MAX_NODES)
    edges: list[Edge] = Field(default_factory=list, max_length=MAX_EDGES)

    @field_validator("schema_version", mode="before")
    @classmethod
    def _schema_version_is_not_a_bool(cls, value: Any) -> Any:
        # Literal[1] accepts True (True == 1); a definition saying `true` is not version 1.
        if isinstance(value, bool):
            raise ValueError(f"schema_version must be {SCHEMA_VERSION}")
        return value

    def node(self, node_id: str) -> Node | None:
        return next((node for node in self.nodes if node.id == node_id), None)

    def trigger_nodes(self) -> list[Node]:
        return [node for node in self.nodes if node.type == "trigger"]
