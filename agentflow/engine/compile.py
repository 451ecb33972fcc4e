"""Compile an agent definition to a LangGraph `StateGraph`.

Shape: one LangGraph node per definition node, plus one scheduler node (`__dispatch__`). The
scheduler's state (`sched`) says which nodes are ready; they run *in parallel in the same
superstep* (each records its step, output and the handle it chose). With the Postgres
checkpointer each superstep is a checkpoint, so a re-run of the same thread after a crash resumes
there: nodes that completed are not run again. The input already holds the first `sched` (the
trigger nodes are ready).

Why a scheduler instead of wiring LangGraph edges straight from node to node: merge nodes ("all"
mode), loops and branches that are not taken need one consistent view of the whole run (what is
still in flight, which branch can still reach a merge). Parallel nodes only see the state as of
the start of their superstep, so none of them can decide that; after such a superstep they all
return to `__dispatch__`, which runs alone and can — deterministically, from the checkpointed
state. A node that runs alone in its superstep (every step of a linear flow) has that view
itself: it runs the same scheduler on its own completion and routes straight to the next ready
nodes. The result is identical, and it saves a superstep (a checkpoint write) per node.

Scheduling rules:
- A node's outgoing edges on the handle it chose are followed (if_else true/false, switch cases,
  classify categories, approval approved/rejected/timed_out, `error` after a failure when the node
  has an error edge; a failure without an error edge fails the run). Several edges on one handle
  start parallel branches.
- A non-merge node runs once per arrival (a branch reaching it); arrivals in the same superstep
  collapse into one run.
- `logic.merge` collects arrivals; mode any fires on the first, mode all fires once no node still
  in flight (and no unfinished loop or pending merge) can reach it — so branches that were not
  taken do not block it.
- `logic.loop` runs its `loop_body` path once per item, one iteration after another, each in its own
  frame (`{{loop.item}}`, `{{loop.index}}`); an iteration ends when nothing in its frame is in
  flight; its result is the output of the last node that completed in it. Then `done` is followed
  and the loop's output is {"items", "count", "truncated", "results"}.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import operator
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypedDict, get_type_hints

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.errors import GraphBubbleUp
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, Overwrite
from pydantic import BaseModel, ValidationError

from agentflow.engine.journal import StepFinish, StepStart
from agentflow.engine.nodes import get_node_type
from agentflow.engine.nodes.base import ERROR_OUTPUT, NodeType
from agentflow.engine.nodes.context import NodeError, NodeResult, NodeRun
from agentflow.engine.nodes.logic_loop import DONE_OUTPUT, LOOP_BODY_OUTPUT
from agentflow.engine.retry import is_retryable
from agentflow.engine.spec import AgentDefinition, Node
from agentflow.engine.variables import render as render_lenient

if TYPE_CHECKING:
    from agentflow.engine.runtime import EngineRun

DISPATCH = "__dispatch__"
LOOP_KEY = "logic.loop"
MERGE_KEY = "logic.merge"
APPROVAL_KEY = "human.approval"
GRAPH_CACHE_SIZE = 128

Frame = list[list[Any]]
"""The loop iterations a node runs in, outermost first: [[loop_node_id, index], …]; [] at the top."""


class ExecutionCancelled(Exception):
    """Raised at a step boundary (by `ExecutionStore.step_started`) when the execution was cancelled."""


def _merge_dicts(current: dict[str, Any] | None, update: dict[str, Any] | None) -> dict[str, Any]:
    return {**(current or {}), **(update or {})}


def _last(current: Any, update: Any) -> Any:
    return update


class GraphState(TypedDict, total=False):
    """The channels every graph has. `state_schema` adds one channel per node for its output
    (`output_channel`): a checkpoint stores only the channels its superstep changed, so each node's
    output is stored once. In one shared channel every checkpoint stored every output so far
    again: quadratic in the run's length (a 40-node run of 10 KB outputs wrote 8 MB)."""

    vars: Annotated[dict[str, Any], _merge_dicts]
    completions: Annotated[list[dict[str, Any]], operator.add]
    sched: dict[str, Any]
    response: Annotated[dict[str, Any] | None, _last]
    outputs: Annotated[dict[str, Any], _merge_dicts]
    """Read only: the one channel of all outputs that runs checkpointed before per-node channels
    hold, so such a run still sees them when it resumes."""


State = Mapping[str, Any]
"""A graph's state as its nodes see it: GraphState's channels and the output channels."""
OUTPUT_CHANNEL_PREFIX = "out:"


def output_channel(node_id: str) -> str:
    return OUTPUT_CHANNEL_PREFIX + node_id


def node_outputs(state: State) -> dict[str, Any]:
    """Every output in `state`, by node id."""
    outputs = dict(state.get("outputs") or {})
    for channel, value in state.items():
        if channel.startswith(OUTPUT_CHANNEL_PREFIX):
            outputs[channel[len(OUTPUT_CHANNEL_PREFIX) :]] = value
    return outputs


def node_output(state: State, node_id: str) -> Any:
    channel = output_channel(node_id)
    return state[channel] if channel in state else (state.get("outputs") or {}).get(node_id)


def state_schema(node_ids: list[str]) -> type[Any]:
    """GraphState plus an output channel for each of `node_ids`."""
    fields: dict[str, Any] = get_type_hints(GraphState, include_extras=True)
    fields.update({output_channel(node_id): Annotated[Any, _last] for node_id in node_ids})
    schema: type[Any] = TypedDict("AgentGraphState", fields, total=False)  # type: ignore[misc]  # built per graph
    return schema


# -- the compiled definition ---------------------------------------------------------------------


@dataclass
class CompiledDefinition:
    definition: AgentDefinition
    digest: str
    nodes: dict[str, Node]
    types: dict[str, NodeType]
    configs: dict[str, BaseModel | ValidationError]
    out_edges: dict[str, dict[str, list[str]]]
    """node → handle → targets (without loop-closing edges)."""
    closing: dict[str, dict[str, set[str]]]
    """node → handle → loops that edge closes (edge back into an enclosing loop)."""
    error_edges: set[str] = field(default_factory=set)
    _reach: dict[str, frozenset[str]] = field(default_factory=dict)
    _graphs: dict[int, CompiledStateGraph[Any, Any, Any, Any]] = field(default_factory=dict)
    builder: StateGraph[Any, Any, Any, Any] | None = None

    def reachable(self, start: str) -> frozenset[str]:
        """Nodes reachable from `start` (not counting itself), over every handle, without loop-closing edges."""
        cached = self._reach.get(start)
        if cached is None:
            seen: set[str] = set()
            pending = [target for targets in self.out_edges.get(start, {}).values() for target in targets]
            while pending:
                current = pending.pop()
                if current in seen:
                    continue
                seen.add(current)
                pending.extend(t for targets in self.out_edges.get(current, {}).values() for t in targets)
            cached = self._reach[start] = frozenset(seen)
        return cached

    def initial_state(self) -> dict[str, Any]:
        """The graph input of a new run: nothing done yet, the trigger nodes ready."""
        triggers = [node.id for node in self.definition.trigger_nodes()]
        sched: dict[str, Any] = {
            "ready": {node_id: {"frame": [], "inputs": []} for node_id in triggers},
            "queued": [],
            "merges": {},
            "fired": [],
            "loops": {},
            "failure": None,
            "last_node": None,
        }
        return {"vars": {}, "completions": [], "response": None, "sched": sched}

    def graph(self, checkpointer: BaseCheckpointSaver[Any] | None) -> CompiledStateGraph[Any, Any, Any, Any]:
        key = id(checkpointer)
        graph = self._graphs.get(key)
        if graph is None:
            assert self.builder is not None
            graph = self._graphs[key] = self.builder.compile(checkpointer=checkpointer)
        return graph


_CACHE: OrderedDict[str, CompiledDefinition] = OrderedDict()


def definition_digest(definition: AgentDefinition) -> str:
    return hashlib.sha256(definition.model_dump_json().encode()).hexdigest()


def compile_definition(definition: AgentDefinition, *, cache_key: str | None = None) -> CompiledDefinition:
    """The compiled graph for a definition, cached per `cache_key` (a version id) or content hash."""
    key = cache_key or definition_digest(definition)
    compiled = _CACHE.get(key)
    if compiled is not None:
        _CACHE.move_to_end(key)
        return compiled
    compiled = _compile(definition, key)
    _CACHE[key] = compiled
    while len(_CACHE) > GRAPH_CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled


def _compile(definition: AgentDefinition, digest: str) -> CompiledDefinition:
    nodes = {node.id: node for node in definition.nodes}
    types: dict[str, NodeType] = {}
    configs: dict[str, BaseModel | ValidationError] = {}
    for node in definition.nodes:
        node_type = get_node_type(node.type, node.subtype)
        if node_type is None:
            raise ValueError(f"node {node.id}: unknown node type {node.key}")
        types[node.id] = node_type
        try:
            configs[node.id] = node_type.parse_config(node.config)
        except ValidationError as error:
            configs[node.id] = error  # fails that node's step, not the compile
    all_edges: dict[str, dict[str, list[str]]] = {}
    for edge in definition.edges:
        all_edges.setdefault(edge.source, {}).setdefault(edge.source_handle, []).append(edge.target)
    # An edge into a loop from a node reachable from that loop's body closes the loop (as in validation).
    body_of: dict[str, set[str]] = {}
    for node_id, node_type in types.items():
        if node_type.key == LOOP_KEY:
            body_of[node_id] = _reach_over(all_edges, all_edges.get(node_id, {}).get(LOOP_BODY_OUTPUT.id, []))
    out_edges: dict[str, dict[str, list[str]]] = {}
    closing: dict[str, dict[str, set[str]]] = {}
    for edge in definition.edges:
        target_is_loop = edge.target in body_of
        if target_is_loop and edge.source in body_of[edge.target]:
            closing.setdefault(edge.source, {}).setdefault(edge.source_handle, set()).add(edge.target)
            continue
        out_edges.setdefault(edge.source, {}).setdefault(edge.source_handle, []).append(edge.target)
    compiled = CompiledDefinition(
        definition=definition,
        digest=digest,
        nodes=nodes,
        types=types,
        configs=configs,
        out_edges=out_edges,
        closing=closing,
        error_edges={source for source, handles in all_edges.items() if ERROR_OUTPUT.id in handles},
    )
    from agentflow.engine.runtime import EngineRun

    # Nodes and the scheduler route themselves (`Command(goto=…)`, see `_goto`); only the input
    # needs an edge to the trigger nodes.
    builder: StateGraph[Any, Any, Any, Any] = StateGraph(state_schema(list(nodes)), context_schema=EngineRun)
    builder.add_node(DISPATCH, _dispatcher(compiled))
    builder.add_conditional_edges(START, _ready, [*nodes, END])
    for node_id in nodes:
        builder.add_node(node_id, _worker(compiled, node_id))
    compiled.builder = builder
    return compiled


def _reach_over(edges: Mapping[str, Mapping[str, list[str]]], starts: list[str]) -> set[str]:
    seen: set[str] = set()
    pending = list(starts)
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        pending.extend(t for targets in edges.get(current, {}).values() for t in targets)
    return seen


def _ready(state: State) -> list[str]:
    """The nodes the schedule says run next (none: the run is over)."""
    return list((state.get("sched") or {}).get("ready", {}))


def _goto(update: dict[str, Any]) -> Command[Any]:
    """`update`, and on to the nodes its schedule made ready. A `Command` rather than a conditional
    edge: LangGraph evaluates an edge on a copy of every channel, one per node of the graph."""
    return Command(update=update, goto=_ready(update))


# -- the scheduler -------------------------------------------------------------------------------


def frame_key(frame: Frame) -> str:
    return "/".join(f"{node}:{index}" for node, index in frame)


def _loop_key(parent: Frame, loop_id: str) -> str:
    return f"{frame_key(parent)}|{loop_id}"


def _extends(frame: Frame, prefix: Frame) -> bool:
    return len(frame) >= len(prefix) and frame[: len(prefix)] == prefix


class _Scheduler:
    def __init__(self, compiled: CompiledDefinition, sched: dict[str, Any]) -> None:
        self.c = compiled
        self.s = sched
        self.ready: dict[str, dict[str, Any]] = {}
        self.queued: list[dict[str, Any]] = []
        self.outputs: dict[str, Any] = {}
        """Output channel updates (of loops that finished)."""

    def activate(self, node_id: str, frame: Frame, sources: list[str]) -> None:
        current = self.ready.get(node_id)
        if current is None:
            self.ready[node_id] = {"frame": frame, "inputs": list(sources)}
        elif current["frame"] == frame:
            current["inputs"].extend(s for s in sources if s not in current["inputs"])
        else:
            self.queued.append({"node": node_id, "frame": frame, "inputs": list(sources)})

    def record_last(self, frame: Frame, output: Any) -> None:
        if frame:
            loop = self.s["loops"].get(_loop_key(frame[:-1], frame[-1][0]))
            if loop is not None:
                loop["last"] = output

    def follow(self, source: str, handle: str, frame: Frame) -> None:
        for target in self.c.out_edges.get(source, {}).get(handle, []):
            if self.c.types[target].key == MERGE_KEY:
                key = f"{frame_key(frame)}|{target}"
                if key in self.s["fired"]:
                    continue
                merge = self.s["merges"].setdefault(key, {"node": target, "frame": frame, "arrived": []})
                if source not in merge["arrived"]:
                    merge["arrived"].append(source)
            else:
                self.activate(target, frame, [source])

    def complete(self, completion: dict[str, Any]) -> None:
        node_id, frame, handle = completion["node"], completion["frame"], completion["handle"]
        if completion.get("failed"):
            if self.s["failure"] is None:
                self.s["failure"] = {"node_id": node_id, **completion["error"]}
            return
        self.s["last_node"] = node_id
        self.record_last(frame, completion["output"])
        if self.c.types[node_id].key == LOOP_KEY and handle in (LOOP_BODY_OUTPUT.id, DONE_OUTPUT.id):
            self.start_loop(node_id, frame, completion["output"])
            return
        self.follow(node_id, handle, frame)

    def start_loop(self, loop_id: str, frame: Frame, output: dict[str, Any]) -> None:
        items = list(output.get("items") or [])
        self.s["loops"][_loop_key(frame, loop_id)] = {
            "node": loop_id,
            "frame": frame,
            "items": items,
            "index": 0,
            "results": [],
            "last": None,
            "truncated": bool(output.get("truncated")),
        }
        if items:
            self.follow(loop_id, LOOP_BODY_OUTPUT.id, [*frame, [loop_id, 0]])
        else:
            self.finish_loop(_loop_key(frame, loop_id))

    def finish_loop(self, key: str) -> None:
        loop = self.s["loops"].pop(key)
        output = {
            "items": loop["items"],
            "count": len(loop["items"]),
            "truncated": loop["truncated"],
            "results": loop["results"],
        }
        self.outputs[output_channel(loop["node"])] = output
        self.s["last_node"] = loop["node"]
        self.record_last(loop["frame"], output)
        self.follow(loop["node"], DONE_OUTPUT.id, loop["frame"])

    def in_flight(self) -> list[tuple[str, Frame]]:
        pending = [(node_id, item["frame"]) for node_id, item in self.ready.items()]
        pending += [(item["node"], item["frame"]) for item in self.queued]
        pending += [(loop["node"], loop["frame"]) for loop in self.s["loops"].values()]
        return pending

    def can_reach(self, node_id: str, frame: Frame, target: str, target_frame: Frame) -> bool:
        if frame == target_frame:
            return target in self.c.reachable(node_id)
        if _extends(frame, target_frame):
            # Inside a loop iteration below the target's frame: it reaches the target through that loop.
            loop_id = frame[len(target_frame)][0]
            return target == loop_id or target in self.c.reachable(loop_id)
        return False

    def merge_blocked(self, key: str, merge: dict[str, Any]) -> bool:
        target, frame = merge["node"], merge["frame"]
        for node_id, node_frame in self.in_flight():
            if self.can_reach(node_id, node_frame, target, frame):
                return True
        for other_key, other in self.s["merges"].items():
            if other_key != key and self.can_reach(other["node"], other["frame"], target, frame):
                return True
        return False

    def fire_merges(self) -> bool:
        for key, merge in list(self.s["merges"].items()):
            config = self.c.configs[merge["node"]]
            mode = getattr(config, "mode", "all")
            if mode == "any" or not self.merge_blocked(key, merge):
                del self.s["merges"][key]
                self.s["fired"].append(key)
                self.activate(merge["node"], merge["frame"], merge["arrived"])
                return True
        return False

    def advance_loops(self) -> bool:
        pending = [(frame, node) for node, frame in self.in_flight()]
        merges = [merge["frame"] for merge in self.s["merges"].values()]
        for key, loop in sorted(self.s["loops"].items(), key=lambda item: -len(item[1]["frame"])):
            iteration = [*loop["frame"], [loop["node"], loop["index"]]]
            busy = any(_extends(frame, iteration) for frame, _ in pending) or any(
                _extends(frame, iteration) for frame in merges
            )
            if busy:
                continue
            loop["results"].append(loop["last"])
            loop["last"] = None
            prefix = frame_key(iteration)
            self.s["fired"] = [k for k in self.s["fired"] if not k.startswith(prefix)]
            loop["index"] += 1
            if loop["index"] < len(loop["items"]):
                self.follow(loop["node"], LOOP_BODY_OUTPUT.id, [*loop["frame"], [loop["node"], loop["index"]]])
            else:
                self.finish_loop(key)
            return True
        return False

    def run(self, completions: list[dict[str, Any]]) -> None:
        for item in self.s.pop("queued", []):
            self.activate(item["node"], item["frame"], item["inputs"])
        for completion in completions:
            self.complete(completion)
        if self.s["failure"] is not None:
            self.ready, self.queued = {}, []
        while self.s["failure"] is None and (self.fire_merges() or self.advance_loops()):
            pass
        self.s["queued"] = self.queued
        self.s["ready"] = self.ready


def _schedule(compiled: CompiledDefinition, state: State, completions: list[dict[str, Any]]) -> dict[str, Any]:
    """The state update that applies a superstep's completions: the next `sched` (and the outputs
    of loops that finished)."""
    sched = json.loads(json.dumps(state.get("sched")))  # never mutate the checkpointed value in place
    scheduler = _Scheduler(compiled, sched)
    scheduler.run(completions)
    return {"sched": sched, **scheduler.outputs}


def _dispatcher(compiled: CompiledDefinition) -> Callable[..., Any]:
    async def dispatch(state: State) -> Command[Any]:
        update = _schedule(compiled, state, state.get("completions") or [])
        update["completions"] = Overwrite([])
        return _goto(update)

    return dispatch


# -- running one node ----------------------------------------------------------------------------


def template_context(state: State, run: EngineRun, frame: Frame) -> dict[str, Any]:
    context: dict[str, Any] = {node_id: {"output": output} for node_id, output in node_outputs(state).items()}
    context["trigger"] = {"data": run.ctx.trigger}
    context["vars"] = dict(state.get("vars") or {})
    context["execution"] = run.ctx.template_fields()
    if frame:
        loop_id, index = frame[-1]
        loop = (state.get("sched") or {}).get("loops", {}).get(_loop_key(frame[:-1], loop_id))
        if loop is not None:
            context["loop"] = {"item": loop["items"][index], "index": index}
    return context


def _error_payload(error: BaseException) -> dict[str, Any]:
    if isinstance(error, NodeError):
        return {"message": str(error), "code": error.code, "type": type(error).__name__}
    message = str(error) or type(error).__name__
    return {"message": message, "code": getattr(error, "code", None) or "NODE_ERROR", "type": type(error).__name__}


def _worker(compiled: CompiledDefinition, node_id: str) -> Callable[..., Any]:
    node = compiled.nodes[node_id]
    node_type = compiled.types[node_id]
    has_error_edge = node_id in compiled.error_edges

    async def run_node(state: State, runtime: Runtime[EngineRun]) -> Command[Any]:
        run = runtime.context
        update, completion, finish = await attempts(state, run)
        if _ready(state) != [node_id]:
            # Beside others: `__dispatch__` schedules once all of them are done.
            await run.store.step_finished(finish)
            return Command(update={**update, "completions": [completion]}, goto=DISPATCH)
        # Alone in this superstep: schedule the next nodes here, exactly as `__dispatch__` would,
        # and when exactly one node runs next, start its step in the same write as this finish.
        scheduled = _schedule(compiled, state, [completion])
        update = {**update, **scheduled}
        ready = _ready(update)
        start = _next_step_start(compiled, run, state, update, ready[0]) if len(ready) == 1 else None
        if start is not None:
            # Noted before the write: if the run stops meanwhile, the step is still closed.
            run.prestarted[start.node_id] = start.step_id
        if not await run.store.step_finished(finish, then_start=start, checkpoint_follows=True) and start is not None:
            del run.prestarted[start.node_id]  # refused (cancelled): the node's own start raises
        return _goto(update)

    async def attempts(state: State, run: EngineRun) -> tuple[dict[str, Any], dict[str, Any], StepFinish]:
        """Run the node (with its retries): its state update, its completion for the scheduler,
        and the finish of its last step (not recorded yet: see `run_node`)."""
        activation = (state.get("sched") or {}).get("ready", {}).get(node_id, {"frame": [], "inputs": []})
        frame: Frame = activation["frame"]
        variables = template_context(state, run, frame)
        inputs = {source: node_output(state, source) for source in activation["inputs"]}
        prestarted = run.prestarted.pop(node_id, None)
        parsed = compiled.configs[node_id]
        policy = run.ctx.settings.retry_for(node_id)
        timeout = run.ctx.settings.node_timeout(node_id, parsed)
        attempt = 1
        while True:
            if prestarted is not None and attempt == 1:
                step_id = prestarted
            else:
                step_id = uuid.uuid4()
                await run.store.step_started(_step_start(run, node, node_type, step_id, attempt, variables))
            started = time.perf_counter()
            pinned = run.ctx.pinned_outputs.get(node_id)
            if pinned is not None:
                await run.store.log(
                    step_id=step_id, level="info", message="pinned output used: the node did not run", data=None
                )
                pinned_result = NodeResult(output=pinned.get("output"), handle=str(pinned.get("handle") or "out"))
                return _succeeded(run, node_id, step_id, frame, pinned_result, started)
            error: BaseException
            try:
                if isinstance(parsed, ValidationError):
                    raise NodeError(f"invalid config: {parsed.errors()[0]['msg']}", code="INVALID_CONFIG")
                if node_type.handler is None:
                    raise NodeError(f"{node_type.key} cannot run yet", code="NOT_AVAILABLE")
                node_run = run.node_run(node_id, node_type.key, step_id, attempt, variables, inputs)
                async with asyncio.timeout(timeout):
                    result = await node_type.handler(parsed, node_run)
            except GraphBubbleUp:
                # An interrupt (approval, parked delay): the step waits; the run reports why.
                waiting_approval = node_type.key == APPROVAL_KEY
                await run.store.step_finished(
                    StepFinish(
                        step_id,
                        status="waiting_approval" if waiting_approval else "waiting",
                        output=None,
                        error=None,
                        tokens=0,
                        cost=Decimal(0),
                        duration_ms=_ms(started),
                        event=run.event("step.waiting_approval", {"node_id": node_id, "step_id": str(step_id)})
                        if waiting_approval
                        else None,
                    )
                )
                raise
            except asyncio.CancelledError:
                # The execution was cancelled or ran out of time mid-node: the in-flight call is
                # abandoned, and the step says so rather than staying `running` forever.
                stopped = {"message": "stopped: the execution was cancelled or timed out", "code": "STOPPED"}
                await asyncio.shield(
                    run.store.step_finished(
                        StepFinish(step_id, "cancelled", None, stopped, 0, Decimal(0), _ms(started), event=None)
                    )
                )
                raise
            except TimeoutError:
                error = NodeError(f"{node_id} timed out after {timeout:g}s", code="NODE_TIMEOUT")
                error.retryable = True
            except Exception as caught:
                error = caught
            else:
                return _succeeded(run, node_id, step_id, frame, result, started)
            payload = _error_payload(error)
            failed = StepFinish(
                step_id,
                status="failed",
                output=None,
                error=payload,
                tokens=0,
                cost=Decimal(0),
                duration_ms=_ms(started),
                event=run.event("step.failed", {"node_id": node_id, "step_id": str(step_id), "error": payload}),
            )
            if is_retryable(error) and attempt <= policy.max_retries:
                delay = policy.delay(attempt, run.services.random())
                retrying = run.event(
                    "step.retrying",
                    {"node_id": node_id, "step_id": str(step_id), "attempt": attempt, "delay": delay, "error": payload},
                )
                await run.store.step_finished(dataclasses.replace(failed, event=retrying))
                await run.services.sleep(delay)
                attempt += 1
                continue
            await run.store.log(step_id=step_id, level="error", message=payload["message"], data=payload)
            if has_error_edge:
                completion = {"node": node_id, "frame": frame, "handle": ERROR_OUTPUT.id, "output": {"error": payload}}
                return {output_channel(node_id): {"error": payload}}, completion, failed
            return {}, {"node": node_id, "frame": frame, "handle": None, "failed": True, "error": payload}, failed

    return run_node


def _succeeded(
    run: EngineRun, node_id: str, step_id: uuid.UUID, frame: Frame, result: NodeResult, started: float
) -> tuple[dict[str, Any], dict[str, Any], StepFinish]:
    update: dict[str, Any] = {output_channel(node_id): result.output}
    if result.variables:
        update["vars"] = result.variables
    if result.response is not None:
        update["response"] = result.response
    completion = {"node": node_id, "frame": frame, "handle": result.handle, "output": result.output}
    event = run.event(
        "step.completed",
        {
            "node_id": node_id,
            "step_id": str(step_id),
            "handle": result.handle,
            "output": result.output,
            "tokens": result.tokens,
            "cost": str(result.cost),
        },
    )
    finish = StepFinish(step_id, "completed", result.output, None, result.tokens, result.cost, _ms(started), event)
    return update, completion, finish


def _step_start(
    run: EngineRun, node: Node, node_type: NodeType, step_id: uuid.UUID, attempt: int, variables: Mapping[str, Any]
) -> StepStart:
    event = {"node_id": node.id, "node_type": node_type.key, "step_id": str(step_id), "attempt": attempt}
    return StepStart(
        step_id, node.id, node_type.key, attempt, _step_input(node, variables), run.event("step.started", event)
    )


def _next_step_start(
    compiled: CompiledDefinition, run: EngineRun, state: State, update: dict[str, Any], next_id: str
) -> StepStart:
    """The first step of `next_id`, which runs in the next superstep, as it will see the state
    then: this superstep's `update` applied (the same merges as the channels' reducers)."""
    after = {
        **state,
        **{channel: value for channel, value in update.items() if channel.startswith(OUTPUT_CHANNEL_PREFIX)},
        "vars": {**(state.get("vars") or {}), **update.get("vars", {})},
        "sched": update["sched"],
    }
    frame: Frame = update["sched"]["ready"][next_id]["frame"]
    node = compiled.nodes[next_id]
    return _step_start(run, node, compiled.types[next_id], uuid.uuid4(), 1, template_context(after, run, frame))


def _step_input(node: Node, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The node's config with references filled in (missing ones empty), as the step's input record."""
    try:
        rendered = render_lenient(node.config, variables)
    except ValueError:
        rendered = node.config
    return rendered if isinstance(rendered, dict) else {"config": rendered}


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


__all__ = [
    "DISPATCH",
    "CompiledDefinition",
    "ExecutionCancelled",
    "GraphState",
    "compile_definition",
    "definition_digest",
    "frame_key",
    "template_context",
]
_ = NodeRun  # re-exported type used by handlers
