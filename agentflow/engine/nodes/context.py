"""What a node handler receives and returns, and the errors it may raise.

A handler is `async def run(config: <its config model>, run: NodeRun) -> NodeResult`, set as its
`NodeType.handler`. The config arrives parsed and typed but *not* rendered: templates stay as
written, and the handler renders exactly the fields it uses with `run.render(...)`, which fails
with a `TemplateReferenceError` naming the reference when a path does not resolve (a `default(…)`
filter makes a missing value acceptable).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from agentflow.engine.variables import (
    MAX_RENDERED_LENGTH,
    MISSING,
    Expression,
    TemplateRenderError,
    evaluate,
    parse_template,
)

if TYPE_CHECKING:
    from agentflow.engine.providers import ProviderRouter
    from agentflow.engine.tools import CredentialResolver, ToolRegistry


class NodeError(Exception):
    """A node failed in a way the flow can route (its `error` handle) or that fails the run."""

    retryable = False

    def __init__(self, message: str, *, code: str = "NODE_ERROR") -> None:
        super().__init__(message)
        self.code = code


class RetryableNodeError(NodeError):
    """A transient failure (timeout, rate limit, 5xx, connection reset): the retry policy applies."""

    retryable = True


class TemplateReferenceError(NodeError):
    def __init__(self, reference: str, path: str) -> None:
        where = f" in {path}" if path else ""
        super().__init__(f"{{{{{reference}}}}}{where} does not resolve to a value", code="MISSING_REFERENCE")
        self.reference = reference
        self.path = path


@dataclass
class NodeResult:
    output: Any = None
    handle: str = "out"
    """Which output handle the run continues on (if_else: true/false, classify: a category, …)."""
    tokens: int = 0
    cost: Decimal = Decimal(0)
    variables: dict[str, Any] = field(default_factory=dict)
    """Values stored under `{{vars.name}}` (set_variables)."""
    response: dict[str, Any] | None = None
    """The run's response (flow.respond): {"body", "status_code", "content_type"}."""


@dataclass
class NodeRun:
    """One attempt of one node: the data it may read and the services it may use."""

    node_id: str
    node_key: str
    execution_id: uuid.UUID
    org_id: uuid.UUID
    step_id: uuid.UUID
    attempt: int
    variables: Mapping[str, Any]
    """The template context: trigger, vars, loop, execution, and `<node_id>: {"output": …}`."""
    trigger: dict[str, Any]
    router: ProviderRouter | None
    tools: ToolRegistry
    egress_allowed_hosts: tuple[str, ...]
    emit: Callable[[str, dict[str, Any]], Awaitable[None]]
    log: Callable[[str, str, dict[str, Any] | None], Awaitable[None]]
    """log(level, message, data)."""
    sleep: Callable[[float], Awaitable[None]]
    now: Callable[[], float]
    """Wall clock (epoch seconds)."""
    in_process_delay_limit: float
    stream_tokens: bool = True
    inputs: dict[str, Any] = field(default_factory=dict)
    """For a merge: the outputs of the nodes whose branches arrived, by node id."""
    credentials: CredentialResolver | None = None
    """Opens the secrets of the org's connected integrations (action nodes' `credential_id`)."""

    def render(self, value: Any, path: str = "") -> Any:
        return render_checked(value, self.variables, path)

    def render_text(self, value: Any, path: str = "") -> str:
        rendered = self.render(value, path)
        if rendered is None:
            return ""
        if isinstance(rendered, str):
            return rendered
        import json

        return json.dumps(rendered, ensure_ascii=False, default=str)

    def provider_router(self) -> ProviderRouter:
        if self.router is None:
            raise NodeError("no language model provider is configured for this execution", code="NO_PROVIDER")
        return self.router


NodeHandler = Callable[[Any, NodeRun], Awaitable[NodeResult]]


async def run_trigger(config: Any, run: NodeRun) -> NodeResult:
    """Every trigger type: the run's input, as {{trigger.data}} and {{<trigger_id>.output.data}}."""
    return NodeResult(output={"data": run.trigger})


def render_checked(value: Any, context: Mapping[str, Any], path: str = "") -> Any:
    """Like `variables.render`, but a reference whose path does not resolve (and has no default)
    raises TemplateReferenceError naming it and where it sits."""
    if isinstance(value, str):
        return _render_text(value, context, path)
    if isinstance(value, Mapping):
        return {
            key: render_checked(item, context, f"{path}.{key}" if path else str(key)) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [render_checked(item, context, f"{path}[{index}]") for index, item in enumerate(value)]
    return value


def _render_text(text: str, context: Mapping[str, Any], path: str) -> Any:
    if "{{" not in text:
        return text
    template = parse_template(text)
    if template.single_expression is not None:
        return _evaluate(template.single_expression, context, path)
    pieces: list[str] = []
    total = 0
    for part in template.parts:
        if isinstance(part, str):
            piece = part
        else:
            value = _evaluate(part, context, path)
            if value is None:
                piece = ""
            elif isinstance(value, str):
                piece = value
            else:
                piece = json.dumps(value, ensure_ascii=False, default=str)
        # Each expression is bounded on its own; the joined text must be too, or 200 of them
        # could still add up to 200 times the limit.
        total += len(piece)
        if total > MAX_RENDERED_LENGTH:
            raise TemplateRenderError(f"{path}: the rendered text is longer than {MAX_RENDERED_LENGTH} characters")
        pieces.append(piece)
    return "".join(pieces)


def _evaluate(expression: Expression, context: Mapping[str, Any], path: str) -> Any:
    value = evaluate(expression, context)
    if value is MISSING:
        raise TemplateReferenceError(expression.source, path)
    return value
