"""Validation of an agent definition: structure, node configs, graph shape and template references.

`validate_definition(raw)` never raises: any input — malformed JSON values, hostile nesting, unknown
types — comes back as a list of issues. An agent can be published only when the list is empty.

Issue paths — one convention, so the builder can map an issue to a form field:
- the issue names a node (`node_id` set): `path` is relative to that node — `config.prompt`,
  `config.categories[1].key`, `label`, `type`;
- the issue names an edge (`edge_id` set): `path` is relative to that edge — `source`, `source_handle`;
- otherwise `path` is absolute in the definition — `schema_version`, `nodes`, `nodes[3].id` (a
  node without a usable id) — or None when the issue is about the graph as a whole (NO_TRIGGER).
Keys that are not identifiers are bracketed: `config.params["x-api-key"]`.

Cycles: an edge into a `logic.loop` node from a node reachable from that loop's `loop_body` handle
closes the loop and is allowed. After removing those loop-closing edges the graph must be acyclic;
every remaining cycle is reported as CYCLE. "Upstream" (for references) means: there is a path from
the referenced node to the using node without loop-closing edges — so a body node cannot read a
later body node's output from the previous iteration.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from agentflow.engine.nodes import CATALOG, get_node_type
from agentflow.engine.nodes.base import UNION_TAG_PREFIX, NodeType
from agentflow.engine.nodes.logic_loop import LOOP_BODY_OUTPUT
from agentflow.engine.paths import join_path
from agentflow.engine.spec import (
    EXECUTION_FIELDS,
    LOOP_FIELDS,
    MAX_EDGES,
    MAX_NODES,
    RESERVED_ROOTS,
    SCHEMA_VERSION,
    AgentDefinition,
    Edge,
    Node,
)
from agentflow.engine.variables import Reference, scan_references

logger = logging.getLogger(__name__)

MAX_ISSUES = 500
"""Past this many, one TOO_MANY_ISSUES issue stands for the rest: the list stays readable and bounded."""

LOOP_KEY = "logic.loop"
SET_VARIABLES_KEY = "transform.set_variables"


class IssueCode(StrEnum):
    # structure
    INVALID_STRUCTURE = "INVALID_STRUCTURE"
    UNSUPPORTED_SCHEMA_VERSION = "UNSUPPORTED_SCHEMA_VERSION"
    TOO_MANY_NODES = "TOO_MANY_NODES"
    TOO_MANY_EDGES = "TOO_MANY_EDGES"
    # nodes
    DUPLICATE_NODE_ID = "DUPLICATE_NODE_ID"
    RESERVED_NODE_ID = "RESERVED_NODE_ID"
    UNKNOWN_NODE_TYPE = "UNKNOWN_NODE_TYPE"
    INVALID_CONFIG = "INVALID_CONFIG"
    NO_TRIGGER = "NO_TRIGGER"
    MULTIPLE_TRIGGERS = "MULTIPLE_TRIGGERS"
    # edges and graph
    DUPLICATE_EDGE_ID = "DUPLICATE_EDGE_ID"
    EDGE_SOURCE_MISSING = "EDGE_SOURCE_MISSING"
    EDGE_TARGET_MISSING = "EDGE_TARGET_MISSING"
    UNKNOWN_SOURCE_HANDLE = "UNKNOWN_SOURCE_HANDLE"
    EDGE_INTO_TRIGGER = "EDGE_INTO_TRIGGER"
    SELF_LOOP = "SELF_LOOP"
    DUPLICATE_EDGE = "DUPLICATE_EDGE"
    UNREACHABLE_NODE = "UNREACHABLE_NODE"
    CYCLE = "CYCLE"
    # templates
    TEMPLATE_SYNTAX = "TEMPLATE_SYNTAX"
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"
    INVALID_REFERENCE = "INVALID_REFERENCE"
    REFERENCE_NOT_UPSTREAM = "REFERENCE_NOT_UPSTREAM"
    LOOP_REFERENCE_OUTSIDE_LOOP = "LOOP_REFERENCE_OUTSIDE_LOOP"
    UNKNOWN_VARIABLE = "UNKNOWN_VARIABLE"
    # bounds and faults
    TOO_MANY_ISSUES = "TOO_MANY_ISSUES"
    INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass(frozen=True)
class ValidationIssue:
    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    path: str | None = None


class _Issues:
    def __init__(self) -> None:
        self.items: list[ValidationIssue] = []
        self.truncated = False

    def add(
        self,
        code: IssueCode,
        message: str,
        *,
        node_id: str | None = None,
        edge_id: str | None = None,
        path: str | None = None,
    ) -> None:
        if len(self.items) >= MAX_ISSUES:
            if not self.truncated:
                self.truncated = True
                message = f"more than {MAX_ISSUES} issues; fix these first"
                self.items.append(ValidationIssue(IssueCode.TOO_MANY_ISSUES.value, message))
            return
        self.items.append(ValidationIssue(code.value, message, node_id=node_id, edge_id=edge_id, path=path))


def validate_definition(raw: Any) -> tuple[AgentDefinition | None, list[ValidationIssue]]:
    """Check a definition. Returns the parsed definition (None when its structure is invalid, in which
    case only structural issues are reported) and every issue found. Never raises."""
    try:
        return _validate(raw)
    except Exception:  # the contract is "never raises"; a bug here must not become a 500
        logger.exception("definition validation failed unexpectedly")
        return None, [ValidationIssue(IssueCode.INTERNAL_ERROR.value, "the definition could not be validated")]


def _validate(raw: Any) -> tuple[AgentDefinition | None, list[ValidationIssue]]:
    issues = _Issues()
    definition = _parse_structure(raw, issues)
    if definition is None:
        return None, issues.items
    _GraphCheck(definition, issues).run()
    return definition, issues.items


# --- structure ---------------------------------------------------------------------------------


def _parse_structure(raw: Any, issues: _Issues) -> AgentDefinition | None:
    if isinstance(raw, dict):
        # Count before parsing so an oversized definition costs nothing to reject.
        for field, limit, code in (
            ("nodes", MAX_NODES, IssueCode.TOO_MANY_NODES),
            ("edges", MAX_EDGES, IssueCode.TOO_MANY_EDGES),
        ):
            items = raw.get(field)
            if isinstance(items, list) and len(items) > limit:
                issues.add(code, f"{len(items)} {field}; an agent has at most {limit}", path=field)
        if issues.items:
            return None
    try:
        return AgentDefinition.model_validate(raw)
    except ValidationError as error:
        for detail in error.errors(include_url=False, include_input=False, include_context=False):
            _add_structure_issue(raw, tuple(detail["loc"]), detail["type"], _message(detail["msg"]), issues)
        return None


def _add_structure_issue(raw: Any, loc: tuple[str | int, ...], error_type: str, message: str, issues: _Issues) -> None:
    if loc[:1] == ("schema_version",):
        issues.add(
            IssueCode.UNSUPPORTED_SCHEMA_VERSION, f"schema_version must be {SCHEMA_VERSION}", path="schema_version"
        )
        return
    if len(loc) >= 2 and loc[0] in ("nodes", "edges") and isinstance(loc[1], int):
        item_id = _raw_item_id(raw, loc[0], loc[1])
        if item_id is not None:
            relative = join_path("", list(loc[2:])) or None
            if loc[0] == "nodes":
                issues.add(IssueCode.INVALID_STRUCTURE, message, node_id=item_id, path=relative)
            else:
                issues.add(IssueCode.INVALID_STRUCTURE, message, edge_id=item_id, path=relative)
            return
    if loc == ("nodes",) and error_type == "too_long":
        issues.add(IssueCode.TOO_MANY_NODES, f"an agent has at most {MAX_NODES} nodes", path="nodes")
        return
    if loc == ("edges",) and error_type == "too_long":
        issues.add(IssueCode.TOO_MANY_EDGES, f"an agent has at most {MAX_EDGES} edges", path="edges")
        return
    if not loc:
        message = "the definition must be a JSON object with nodes and edges" if error_type == "model_type" else message
    issues.add(IssueCode.INVALID_STRUCTURE, message, path=join_path("", list(loc)) or None)


def _raw_item_id(raw: Any, field: str | int, index: int) -> str | None:
    """The `id` the client gave a node/edge, even if the rest of it is invalid, so the issue can name it."""
    items = raw.get(field) if isinstance(raw, dict) else None
    item = items[index] if isinstance(items, list) and 0 <= index < len(items) else None
    item_id = item.get("id") if isinstance(item, dict) else None
    return item_id if isinstance(item_id, str) and 0 < len(item_id) <= 100 else None


def _message(pydantic_message: str) -> str:
    return pydantic_message.removeprefix("Value error, ")


def _config_path(loc: Iterable[str | int]) -> str:
    # Tagged-union tags and pydantic's "[key]" marker are not part of the data's shape.
    keys = [key for key in loc if not (isinstance(key, str) and (key.startswith(UNION_TAG_PREFIX) or key == "[key]"))]
    return join_path("config", keys)


# --- graph -------------------------------------------------------------------------------------


class _GraphCheck:
    def __init__(self, definition: AgentDefinition, issues: _Issues) -> None:
        self.definition = definition
        self.issues = issues
        self.nodes: dict[str, Node] = {}
        self.node_types: dict[str, NodeType] = {}
        self.configs: dict[str, BaseModel] = {}
        self.edges: list[Edge] = []
        """Edges that connect two existing, distinct nodes (the graph the later checks walk)."""
        self.edges_from: dict[str, list[Edge]] = {}
        self.loop_closing_edges: set[str] = set()
        self.loop_bodies: dict[str, set[str]] = {}
        self.predecessors: dict[str, list[str]] = {}
        """Reverse edges, without loop-closing ones (filled by find_loops)."""
        self._ancestors: dict[str, frozenset[str]] = {}
        self._variables_upstream: dict[str, frozenset[str]] = {}

    def run(self) -> None:
        self.check_nodes()
        self.check_triggers()
        self.check_edges()
        self.check_reachability()
        self.find_loops()
        self.check_cycles()
        self.check_references()

    # nodes

    def check_nodes(self) -> None:
        for node in self.definition.nodes:
            if node.id in self.nodes:
                self.issues.add(
                    IssueCode.DUPLICATE_NODE_ID,
                    f"node id {node.id!r} is used more than once",
                    node_id=node.id,
                    path="id",
                )
                continue
            self.nodes[node.id] = node
            if node.id in RESERVED_ROOTS:
                self.issues.add(
                    IssueCode.RESERVED_NODE_ID,
                    f"{node.id!r} is reserved for templates ({', '.join(sorted(RESERVED_ROOTS))}); choose another id",
                    node_id=node.id,
                    path="id",
                )
            node_type = get_node_type(node.type, node.subtype)
            if node_type is None:
                self.issues.add(IssueCode.UNKNOWN_NODE_TYPE, _unknown_type_message(node), node_id=node.id, path="type")
                continue
            self.node_types[node.id] = node_type
            try:
                self.configs[node.id] = node_type.parse_config(node.config)
            except ValidationError as error:
                for detail in error.errors(include_url=False, include_input=False, include_context=False):
                    self.issues.add(
                        IssueCode.INVALID_CONFIG,
                        _message(detail["msg"]),
                        node_id=node.id,
                        path=_config_path(detail["loc"]),
                    )

    def check_triggers(self) -> None:
        triggers = [node for node in self.nodes.values() if node.type == "trigger"]
        if not triggers:
            self.issues.add(IssueCode.NO_TRIGGER, "add a trigger: an agent starts from exactly one trigger node")
        elif len(triggers) > 1:
            names = ", ".join(node.id for node in triggers)
            for node in triggers:
                self.issues.add(
                    IssueCode.MULTIPLE_TRIGGERS,
                    f"an agent has exactly one trigger; found {len(triggers)} ({names})",
                    node_id=node.id,
                )

    # edges

    def check_edges(self) -> None:
        edge_ids: set[str] = set()
        connections: set[tuple[str, str, str]] = set()
        for edge in self.definition.edges:
            if edge.id in edge_ids:
                self.issues.add(
                    IssueCode.DUPLICATE_EDGE_ID,
                    f"edge id {edge.id!r} is used more than once",
                    edge_id=edge.id,
                    path="id",
                )
                continue
            edge_ids.add(edge.id)
            if not self._edge_ends_exist(edge):
                continue
            if edge.source == edge.target:
                self.issues.add(
                    IssueCode.SELF_LOOP, f"edge connects {edge.source!r} to itself", edge_id=edge.id, path="target"
                )
                continue
            if self.nodes[edge.target].type == "trigger":
                self.issues.add(
                    IssueCode.EDGE_INTO_TRIGGER,
                    f"{edge.target!r} is a trigger; nothing can lead into it",
                    edge_id=edge.id,
                    path="target",
                )
                continue
            self._check_source_handle(edge)
            connection = (edge.source, edge.source_handle, edge.target)
            if connection in connections:
                self.issues.add(
                    IssueCode.DUPLICATE_EDGE,
                    f"{edge.source!r} ({edge.source_handle}) is already connected to {edge.target!r}",
                    edge_id=edge.id,
                )
                continue
            connections.add(connection)
            self.edges.append(edge)
            self.edges_from.setdefault(edge.source, []).append(edge)

    def _edge_ends_exist(self, edge: Edge) -> bool:
        exists = True
        if edge.source not in self.nodes:
            self.issues.add(IssueCode.EDGE_SOURCE_MISSING, f"no node {edge.source!r}", edge_id=edge.id, path="source")
            exists = False
        if edge.target not in self.nodes:
            self.issues.add(IssueCode.EDGE_TARGET_MISSING, f"no node {edge.target!r}", edge_id=edge.id, path="target")
            exists = False
        return exists

    def _check_source_handle(self, edge: Edge) -> None:
        node_type = self.node_types.get(edge.source)
        config = self.configs.get(edge.source)
        if node_type is None or config is None:
            return  # unknown type or invalid config: already reported, and its handles are unknowable
        handles = [handle.id for handle in node_type.outputs(config)]
        if edge.source_handle not in handles:
            available = ", ".join(handles) if handles else "none"
            self.issues.add(
                IssueCode.UNKNOWN_SOURCE_HANDLE,
                f"{edge.source!r} ({node_type.key}) has no output {edge.source_handle!r}; its outputs: {available}",
                edge_id=edge.id,
                path="source_handle",
            )

    # graph shape

    def successors(self, node_id: str) -> list[str]:
        return [edge.target for edge in self.edges_from.get(node_id, ())]

    def successors_without_loop_closing(self, node_id: str) -> list[str]:
        return [edge.target for edge in self.edges_from.get(node_id, ()) if edge.id not in self.loop_closing_edges]

    def check_reachability(self) -> None:
        triggers = [node_id for node_id, node in self.nodes.items() if node.type == "trigger"]
        if not triggers:
            return  # NO_TRIGGER says it all
        reached = _reachable(triggers, self.successors)
        for node_id in self.nodes:
            if node_id not in reached:
                self.issues.add(
                    IssueCode.UNREACHABLE_NODE,
                    f"{node_id!r} can't be reached from the trigger; connect it or remove it",
                    node_id=node_id,
                )

    def find_loops(self) -> None:
        for loop_id, node in self.nodes.items():
            if node.key != LOOP_KEY:
                continue
            starts = [e.target for e in self.edges_from.get(loop_id, ()) if e.source_handle == LOOP_BODY_OUTPUT.id]

            def successors_inside_body(node_id: str, loop_id: str = loop_id) -> list[str]:
                return [target for target in self.successors(node_id) if target != loop_id]

            # The body: everything the loop_body branch leads to, not walking on through the loop itself.
            body = _reachable(starts, successors_inside_body)
            body.discard(loop_id)
            self.loop_bodies[loop_id] = body
            for edge in self.edges:
                if edge.target == loop_id and edge.source in body:
                    self.loop_closing_edges.add(edge.id)
        for edge in self.edges:
            if edge.id not in self.loop_closing_edges:
                self.predecessors.setdefault(edge.target, []).append(edge.source)

    def check_cycles(self) -> None:
        order = {node_id: index for index, node_id in enumerate(self.nodes)}
        for component in _strongly_connected_components(list(self.nodes), self.successors_without_loop_closing):
            if len(component) < 2:
                continue
            members = sorted(component, key=order.__getitem__)
            self.issues.add(
                IssueCode.CYCLE,
                f"{', '.join(members)} form a cycle; only a loop body may lead back, into its loop node",
                node_id=members[0],
            )

    def ancestors(self, node_id: str) -> frozenset[str]:
        """Nodes with a path to `node_id` that uses no loop-closing edge."""
        if node_id not in self._ancestors:
            found = _reachable(self.predecessors.get(node_id, []), lambda current: self.predecessors.get(current, []))
            self._ancestors[node_id] = frozenset(found)
        return self._ancestors[node_id]

    # references

    def check_references(self) -> None:
        for node_id, node in self.nodes.items():
            if self.issues.truncated:
                return  # the list is full; more work would only be thrown away
            references, errors = scan_references(node.config, "config")
            for error in errors:
                self.issues.add(
                    IssueCode.TEMPLATE_SYNTAX,
                    f"{error.message} (at character {error.position + 1})",
                    node_id=node_id,
                    path=error.path,
                )
            for reference in references:
                self._check_reference(node_id, reference)

    def _check_reference(self, node_id: str, reference: Reference) -> None:
        expression = f"{{{{{reference.expression}}}}}"
        first = reference.segments[0] if reference.segments else None

        def report(code: IssueCode, message: str) -> None:
            self.issues.add(code, f"{expression}: {message}", node_id=node_id, path=reference.path)

        root = reference.root
        if root == "trigger":
            return
        if root == "execution":
            if first is not None and first not in EXECUTION_FIELDS:
                report(IssueCode.UNKNOWN_REFERENCE, f"execution offers {', '.join(sorted(EXECUTION_FIELDS))}")
            return
        if root == "loop":
            if not any(node_id in body for body in self.loop_bodies.values()):
                report(IssueCode.LOOP_REFERENCE_OUTSIDE_LOOP, "loop values exist only inside a loop body")
            elif first is not None and first not in LOOP_FIELDS:
                report(IssueCode.UNKNOWN_REFERENCE, f"a loop offers {', '.join(sorted(LOOP_FIELDS))}")
            return
        if root == "vars":
            if first is None:
                return
            if not isinstance(first, str):
                report(IssueCode.INVALID_REFERENCE, "variables are read by name: {{vars.name}}")
            elif first not in self._variables_upstream_of(node_id):
                report(IssueCode.UNKNOWN_VARIABLE, f"no Set variables node upstream sets {first!r}")
            return
        if root not in self.nodes:
            report(
                IssueCode.UNKNOWN_REFERENCE, f"no node {root!r} (and not one of {', '.join(sorted(RESERVED_ROOTS))})"
            )
            return
        if first != "output":
            report(IssueCode.INVALID_REFERENCE, f"a node's result is read through its output: {{{{{root}.output…}}}}")
            return
        if root not in self.ancestors(node_id):
            report(IssueCode.REFERENCE_NOT_UPSTREAM, f"{root!r} is not upstream: no path leads from it to {node_id!r}")

    def _variables_upstream_of(self, node_id: str) -> frozenset[str]:
        if node_id not in self._variables_upstream:
            names: set[str] = set()
            for ancestor in self.ancestors(node_id):
                node = self.nodes[ancestor]
                variables = node.config.get("variables") if node.key == SET_VARIABLES_KEY else None
                if isinstance(variables, dict):
                    names.update(key for key in variables if isinstance(key, str))
            self._variables_upstream[node_id] = frozenset(names)
        return self._variables_upstream[node_id]


def _unknown_type_message(node: Node) -> str:
    same_family = sorted(key.split(".", 1)[1] for key in CATALOG if key.startswith(f"{node.type}."))
    if same_family:
        return f"unknown node type {node.key!r}; {node.type} nodes are: {', '.join(same_family)}"
    families = sorted({key.split(".", 1)[0] for key in CATALOG})
    return f"unknown node type {node.key!r}; node types are: {', '.join(families)}"


def _reachable(starts: Iterable[str], successors: Callable[[str], Iterable[str]]) -> set[str]:
    """Every node reachable from `starts` (included), breadth first."""
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for successor in successors(queue.popleft()):
            if successor not in seen:
                seen.add(successor)
                queue.append(successor)
    return seen


def _strongly_connected_components(nodes: list[str], successors: Callable[[str], Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so a long chain of nodes can't exhaust the stack."""
    index_of: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index_of:
            continue
        work: list[tuple[str, Iterator[str] | None]] = [(root, None)]
        while work:
            node_id, children = work[-1]
            if children is None:
                index_of[node_id] = lowlink[node_id] = counter
                counter += 1
                stack.append(node_id)
                on_stack.add(node_id)
                children = iter(list(successors(node_id)))
                work[-1] = (node_id, children)
            advanced = False
            for child in children:
                if child not in index_of:
                    work.append((child, None))
                    advanced = True
                    break
                if child in on_stack:
                    lowlink[node_id] = min(lowlink[node_id], index_of[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node_id])
            if lowlink[node_id] == index_of[node_id]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node_id:
                        break
                components.append(component)
    return components
