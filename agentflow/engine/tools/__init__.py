"""Tools: what an `action.tool` node calls. One file per integration; this module holds the interface.

A tool has a name (`http.request`, `slack.send_message`), a pydantic params model (the UI form and
the LLM tool-calling schema) and `async run(params, ctx) -> dict`. Raise `ToolError` for a failure
the flow should see (non-retryable) and `RetryableToolError` for a transient one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from agentflow.engine.nodes.context import NodeError, RetryableNodeError


class ToolError(NodeError):
    pass


class RetryableToolError(RetryableNodeError):
    pass


class CredentialResolver(Protocol):
    """Opens a connected integration's secret for the running org (the domain implements it on
    the vault); None when the id names nothing this org has connected for `provider`."""

    async def resolve(self, credential_id: uuid.UUID, *, provider: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class ToolContext:
    org_id: uuid.UUID
    execution_id: uuid.UUID
    node_id: str
    credential_id: uuid.UUID | None
    timeout_seconds: float
    egress_allowed_hosts: tuple[str, ...] = ()
    credential: Mapping[str, Any] | None = field(default=None, repr=False)
    """The opened secret of `credential_id` (never in a step's input, output or logs)."""


def tool_provider(tool_name: str) -> str:
    """The integration a tool belongs to: `slack.send_message` → `slack`."""
    return tool_name.split(".", 1)[0]


class Tool(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def params_model(self) -> type[BaseModel]: ...

    async def run(self, params: Any, ctx: ToolContext) -> dict[str, Any]: ...


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"tool {tool.name} is registered twice")
        self._tools[tool.name] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._tools)

    def describe(self) -> Mapping[str, dict[str, Any]]:
        return {name: tool.params_model.model_json_schema() for name, tool in sorted(self._tools.items())}


def default_tools() -> ToolRegistry:
    """The tools shipped with the engine."""
    from agentflow.engine.tools.http_request import HttpRequestTool

    return ToolRegistry([HttpRequestTool()])


__all__ = [
    "CredentialResolver",
    "RetryableToolError",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "default_tools",
    "tool_provider",
]
