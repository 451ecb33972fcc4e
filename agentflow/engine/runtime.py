"""Running an execution: the protocols the domain implements, and `run_execution`.

The engine never touches the database tables, Redis or Celery itself. The domain hands it:
- an `ExecutionStore` (execution_steps / execution_logs rows, and "was this execution cancelled?");
  each step change comes with the event announcing it, which the store emits through the run's
  `EventSink` (a store on a database writes the step row and the event row in one transaction),
- an `EventSink` (publishes to `execution:{id}` with a per-execution sequence number),
- `EngineServices` (provider router, tool registry, egress allowlist, injectable clock and sleep),
- a LangGraph checkpointer (`AsyncPostgresSaver` in production; `thread_id` = execution id).

`run_execution` is idempotent and re-entrant for one execution id: call it to start, call it again
after a crash (it resumes from the last checkpoint; completed nodes are not run again), call it
with `resume={"decision": …}` to continue after an approval, call it at `resume_at` to continue a
parked delay. Calling it for a finished execution returns the recorded outcome without running.

Statuses returned: completed, failed, cancelled, waiting_approval (an approval node interrupted:
`RunOutcome.interrupt` has the message, approvers, step id and `expires_at` — the domain notifies
approvers and schedules the timeout resume `{"decision": "timeout"}`), parked (a long delay:
`RunOutcome.resume_at` says when to call again).

Steps: each attempt of a node is one start (attempt N) … `step_finished` pair. A step that
interrupts is finished with status waiting_approval (approval) or waiting (parked delay) and is
finished again, under the same step id, when the run resumes. A node that runs alone in its
superstep (every node of a linear flow) records its finish together with the start of the next
node's step (`then_start`): one write per node. Such a step whose node never ran (the run was
cancelled or timed out in between) is finished as cancelled.

Cancellation: a step of a cancelled execution is not started (`step_started` raises
`ExecutionCancelled`, `then_start` is refused; checked in the statement that writes the step), so a
cancel stops the run at the next step boundary; a watcher polling `is_cancelled` stops an
in-flight node.

Timeouts: `RunSettings.timeout_seconds` bounds each `run_execution` call's running time (time spent
parked or waiting for approval does not count); `node_timeout_seconds` bounds each node attempt
(an action.tool node's own `timeout_seconds` wins).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command, Durability, GraphOutput
from pydantic import BaseModel

from agentflow.engine.compile import ExecutionCancelled, compile_definition, node_output
from agentflow.engine.journal import Event, StepFinish, StepStart
from agentflow.engine.nodes.context import NodeRun
from agentflow.engine.providers import ProviderRouter
from agentflow.engine.retry import NodeRetryPolicy
from agentflow.engine.spec import AgentDefinition
from agentflow.engine.tools import CredentialResolver, ToolRegistry, default_tools

log = logging.getLogger("agentflow.engine")

RunStatus = Literal["completed", "failed", "waiting_approval", "cancelled", "parked"]
StepStatus = Literal["running", "completed", "failed", "skipped", "waiting_approval", "waiting"]

EVENT_TYPES = frozenset(
    {
        "execution.started",
        "execution.completed",
        "execution.failed",
        "execution.cancelled",
        "execution.waiting_approval",
        "execution.parked",
        "step.started",
        "step.completed",
        "step.failed",
        "step.retrying",
        "step.waiting_approval",
        "step.token",
    }
)
RECURSION_LIMIT = 1_000_000
"""Supersteps per call; a guard only — the execution timeout is the real bound."""


class ExecutionStore(Protocol):
    """Step rows and logs of one execution. A step change and the event announcing it are
    recorded together: the store emits the event through the run's `EventSink` once the change is
    stored (and not at all if it was not)."""

    async def step_started(self, start: StepStart) -> None:
        """Raises `ExecutionCancelled` (and records nothing) if the execution was cancelled."""
        ...

    async def step_finished(
        self, finish: StepFinish, *, then_start: StepStart | None = None, checkpoint_follows: bool = False
    ) -> bool:
        """Records the finish and, with it (one transaction on a database), `then_start`: a node
        alone in its superstep starts the step of the node that runs next, so a linear flow costs
        one write per node rather than two. True if `then_start` was recorded (as `step_started`,
        it is not while the execution is cancelled; the finish is recorded regardless).

        `checkpoint_follows`: the node returned alone in its superstep, so the superstep's
        checkpoint is saved next; a store may commit the finish with that checkpoint (then a
        refused `then_start` raises `ExecutionCancelled` from the checkpointer instead)."""
        ...

    async def log(self, *, step_id: uuid.UUID | None, level: str, message: str, data: Any = None) -> None: ...

    async def is_cancelled(self) -> bool: ...


class EventSink(Protocol):
    async def emit(self, type: str, payload: dict[str, Any], *, checkpoint_follows: bool = False) -> None:
        """`checkpoint_follows`: a checkpoint is saved next, and the event may be committed with it."""
        ...


@dataclass(frozen=True)
class RunSettings:
    """The workflow's settings (agent settings in the domain)."""

    max_retries: int = 0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    jitter: bool = True
    node_retries: Mapping[str, NodeRetryPolicy] = field(default_factory=dict)
    """Per-node overrides of the retry policy, by node id."""
    node_timeout_seconds: float = 300.0
    timeout_seconds: float = 3600.0
    durability: Durability = "sync"
    """sync: each superstep's checkpoint is written before the next starts (crash-safe)."""

    def retry_for(self, node_id: str) -> NodeRetryPolicy:
        override = self.node_retries.get(node_id)
        if override is not None:
            return override
        return NodeRetryPolicy(self.max_retries, self.backoff_base, self.backoff_max, self.jitter)

    def node_timeout(self, node_id: str, config: object) -> float:
        own = getattr(config, "timeout_seconds", None) if isinstance(config, BaseModel) else None
        return float(own) if isinstance(own, int | float) and own > 0 else self.node_timeout_seconds


@dataclass(frozen=True)
class RunContext:
    execution_id: uuid.UUID
    org_id: uuid.UUID
    agent_id: uuid.UUID
    agent_version: int
    trigger: dict[str, Any]
    started_at: datetime
    settings: RunSettings = field(default_factory=RunSettings)
    cache_key: str | None = None
    """Identifies the definition for the compiled-graph cache (the version id); default: its hash."""
    pinned_outputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Test runs: node id → {"output", "handle"} used instead of running the node (no side effect)."""

    def template_fields(self) -> dict[str, Any]:
        return {
            "id": str(self.execution_id),
            "agent_id": str(self.agent_id),
            "agent_version": self.agent_version,
            "started_at": self.started_at.isoformat(),
        }


RouterFactory = Callable[[RunContext], ProviderRouter]
CredentialsFactory = Callable[[RunContext], CredentialResolver]


@dataclass
class EngineServices:
    router: ProviderRouter | RouterFactory | None = None
    """A router, or a factory building one per execution (the org's credentials)."""
    tools: ToolRegistry = field(default_factory=default_tools)
    credentials: CredentialsFactory | None = None
    """Builds the org's resolver of integration secrets for each execution."""
    egress_allowed_hosts: tuple[str, ...] = ()
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.time
    random: Callable[[], float] = random.random
    in_process_delay_limit: float = 30.0
    """Delays up to this many seconds wait in process; longer ones park the execution."""
    stream_tokens: bool = True
    cancel_poll_seconds: float = 1.0
    """How often a running execution checks whether it was cancelled (to stop in-flight calls)."""


@dataclass
class RunOutcome:
    status: RunStatus
    output: Any = None
    error: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    """What a flow.respond node answered (body, status_code, content_type), if one ran."""
    interrupt: dict[str, Any] | None = None
    """For waiting_approval / parked: the interrupt's payload (message, approvers, step_id, …)."""
    resume_at: float | None = None


@dataclass
class EngineRun:
    """Everything a node needs for one `run_execution` call; LangGraph's run context (not checkpointed)."""

    ctx: RunContext
    store: ExecutionStore
    events: EventSink
    services: EngineServices
    router: ProviderRouter | None
    credentials: CredentialResolver | None = None
    prestarted: dict[str, uuid.UUID] = field(default_factory=dict)
    """Steps already started for a node that runs next, by node id: by the previous node
    (`then_start`), or the interrupted step a resumed node continues. Its next attempt 1 runs
    under that step."""

    async def emit(self, type: str, payload: dict[str, Any], *, checkpoint_follows: bool = False) -> None:
        await self.events.emit(*self.event(type, payload), checkpoint_follows=checkpoint_follows)

    def event(self, type: str, payload: dict[str, Any]) -> Event:
        return Event(type, {"execution_id": str(self.ctx.execution_id), **payload})

    def node_run(
        self,
        node_id: str,
        node_key: str,
        step_id: uuid.UUID,
        attempt: int,
        variables: Mapping[str, Any],
        inputs: dict[str, Any],
    ) -> NodeRun:
        async def log(level: str, message: str, data: dict[str, Any] | None) -> None:
            await self.store.log(step_id=step_id, level=level, message=message, data=data)

        return NodeRun(
            node_id=node_id,
            node_key=node_key,
            execution_id=self.ctx.execution_id,
            org_id=self.ctx.org_id,
            step_id=step_id,
            attempt=attempt,
            variables=variables,
            trigger=self.ctx.trigger,
            router=self.router,
            tools=self.services.tools,
            egress_allowed_hosts=self.services.egress_allowed_hosts,
            emit=self.emit,
            log=log,
            sleep=self.services.sleep,
            now=self.services.clock,
            in_process_delay_limit=self.services.in_process_delay_limit,
            stream_tokens=self.services.stream_tokens,
            inputs=inputs,
            credentials=self.credentials,
        )


async def run_execution(
    definition: AgentDefinition,
    ctx: RunContext,
    *,
    store: ExecutionStore,
    events: EventSink,
    services: EngineServices,
    checkpointer: BaseCheckpointSaver[Any] | None,
    resume: dict[str, Any] | None = None,
    first_call: bool = False,
) -> RunOutcome:
    """Start, continue or resume one execution (see the module doc). Never raises for a node's
    failure (that is a `failed` outcome); raises only for infrastructure errors (checkpointer,
    store, event sink) — the caller retries those by calling again. `first_call`: the caller
    knows no earlier call ran this execution, so there is no checkpoint to look for."""
    compiled = compile_definition(definition, cache_key=ctx.cache_key)
    graph = compiled.graph(checkpointer)
    router = services.router(ctx) if callable(services.router) else services.router
    credentials = services.credentials(ctx) if services.credentials is not None else None
    run = EngineRun(ctx=ctx, store=store, events=events, services=services, router=router, credentials=credentials)
    configurable: dict[str, Any] = {"thread_id": str(ctx.execution_id)}
    config: RunnableConfig = {"configurable": configurable, "recursion_limit": RECURSION_LIMIT}

    snapshot = None if first_call else await graph.aget_state(config)
    graph_input: Any
    if snapshot is None or not snapshot.values:
        graph_input = compiled.initial_state()
        # Committed with the input checkpoint, which the graph saves first (or with the first
        # step, if that is written sooner: LangGraph does not wait for the input checkpoint).
        started = {"agent_id": str(ctx.agent_id), "agent_version": ctx.agent_version}
        await run.emit("execution.started", started, checkpoint_follows=True)
    elif snapshot.interrupts:
        pending = snapshot.interrupts[0]
        value = pending.value if isinstance(pending.value, dict) else {}
        if await store.is_cancelled():
            return await _cancelled(run)
        if value.get("kind") == "delay":
            resume_at = float(value.get("resume_at", 0))
            if services.clock() < resume_at:
                return RunOutcome(status="parked", interrupt=value, resume_at=resume_at)
            decision: Any = {"resumed_at": services.clock()}
        else:
            if resume is None:
                return RunOutcome(status="waiting_approval", interrupt=value)
            target = resume.get("node_id")
            for candidate in snapshot.interrupts:
                if isinstance(candidate.value, dict) and candidate.value.get("node_id") == target:
                    pending, value = candidate, candidate.value
            decision = resume
        if value.get("node_id") and value.get("step_id"):
            run.prestarted[value["node_id"]] = uuid.UUID(value["step_id"])  # the step continues
        graph_input = Command(resume={pending.id: decision})
    elif snapshot.next:
        graph_input = None  # crashed mid-run: continue from the last checkpoint
    else:
        return _outcome(snapshot.values)  # already finished

    # v2: the final state and its interrupts come back together, so no checkpoint is read after.
    invocation = asyncio.create_task(
        graph.ainvoke(graph_input, config, context=run, durability=ctx.settings.durability, version="v2")
    )
    watcher = asyncio.create_task(_watch_for_cancel(store, services.cancel_poll_seconds, invocation))
    try:
        async with asyncio.timeout(ctx.settings.timeout_seconds):
            result: GraphOutput[Any] = await invocation
    except ExecutionCancelled:
        return await _cancelled(run)
    except asyncio.CancelledError:
        if not (watcher.done() and not watcher.cancelled() and watcher.result()):
            raise  # we are being cancelled ourselves (worker shutdown), not the execution
        return await _cancelled(run)
    except TimeoutError:
        await _stop_prestarted(run)
        error = {
            "message": f"the execution ran longer than {ctx.settings.timeout_seconds:g}s",
            "code": "EXECUTION_TIMEOUT",
        }
        await run.emit("execution.failed", {"error": error})
        return RunOutcome(status="failed", error=error)

    finally:
        watcher.cancel()

    if result.interrupts:
        value = result.interrupts[0].value if isinstance(result.interrupts[0].value, dict) else {}
        if value.get("kind") == "delay":
            await run.emit("execution.parked", {"resume_at": value.get("resume_at"), "node_id": value.get("node_id")})
            return RunOutcome(status="parked", interrupt=value, resume_at=float(value.get("resume_at", 0)))
        await run.emit("execution.waiting_approval", {"interrupt": value})
        return RunOutcome(status="waiting_approval", interrupt=value)
    outcome = _outcome(result.value or {})
    if outcome.status == "failed":
        await run.emit("execution.failed", {"error": outcome.error})
    else:
        await run.emit("execution.completed", {"output": outcome.output})
    return outcome


async def _watch_for_cancel(store: ExecutionStore, interval: float, invocation: asyncio.Task[Any]) -> bool:
    """Cancel the running graph as soon as the execution is cancelled, so an in-flight HTTP or LLM
    call stops now rather than at the next step boundary. True when it did."""
    while not invocation.done():
        await asyncio.sleep(interval)
        try:
            cancelled = await store.is_cancelled()
        except Exception:
            # The step boundary check still runs; try again at the next poll.
            log.warning("could not check for cancellation", exc_info=True)
            continue
        if cancelled and not invocation.done():
            invocation.cancel()
            return True
    return False


def _outcome(values: Mapping[str, Any]) -> RunOutcome:
    sched = values.get("sched") or {}
    response = values.get("response")
    failure = sched.get("failure")
    if failure is not None:
        return RunOutcome(status="failed", error=failure, response=response)
    if response:
        output = response["body"]
    elif "last_node" in sched:
        # The node that completed last: its output channel holds what it produced (the schedule
        # names it rather than carrying a copy into every checkpoint).
        output = node_output(values, sched["last_node"]) if sched["last_node"] is not None else None
    else:
        output = sched.get("last_output")  # a run checkpointed before `last_node` kept the output itself
    return RunOutcome(status="completed", output=output, response=response)


async def _stop_prestarted(run: EngineRun) -> None:
    """A step started for the next node that never ran (the run stopped in between) says so,
    rather than staying `running`."""
    for step_id in run.prestarted.values():
        error = {"message": "stopped before it ran: the execution was cancelled or timed out", "code": "STOPPED"}
        stopped = StepFinish(step_id, "cancelled", None, error, tokens=0, cost=Decimal(0), duration_ms=0, event=None)
        await run.store.step_finished(stopped)
    run.prestarted.clear()


async def _cancelled(run: EngineRun) -> RunOutcome:
    await _stop_prestarted(run)
    await run.emit("execution.cancelled", {})
    return RunOutcome(status="cancelled", error={"message": "the execution was cancelled", "code": "CANCELLED"})


# -- in-memory implementations (tests and local development only) -------------------------------


@dataclass
class StepRecord:
    id: uuid.UUID
    node_id: str
    node_type: str
    attempt: int
    input: Any
    status: str = "running"
    output: Any = None
    error: dict[str, Any] | None = None
    tokens: int = 0
    cost: Decimal = Decimal(0)
    duration_ms: int = 0


@dataclass
class LogRecord:
    step_id: uuid.UUID | None
    level: str
    message: str
    data: Any


class MemoryExecutionStore:
    """An `ExecutionStore` in a Python object: for tests and local development, not production.
    `events`: the run's sink, where the step events go."""

    def __init__(self, events: EventSink) -> None:
        self.events = events
        self.steps: dict[uuid.UUID, StepRecord] = {}
        self.logs: list[LogRecord] = []
        self.cancelled = False

    async def step_started(self, start: StepStart) -> None:
        if not await self._start(start):
            raise ExecutionCancelled

    async def step_finished(
        self, finish: StepFinish, *, then_start: StepStart | None = None, checkpoint_follows: bool = False
    ) -> bool:
        step = self.steps[finish.step_id]
        step.status, step.output, step.error = finish.status, finish.output, finish.error
        step.tokens, step.cost, step.duration_ms = finish.tokens, finish.cost, finish.duration_ms
        if finish.event is not None:
            await self.events.emit(*finish.event)
        return then_start is not None and await self._start(then_start)

    async def _start(self, start: StepStart) -> bool:
        if self.cancelled:
            return False
        step = StepRecord(start.step_id, start.node_id, start.node_type, start.attempt, start.input)
        self.steps[start.step_id] = step
        await self.events.emit(*start.event)
        return True

    async def log(self, *, step_id: uuid.UUID | None, level: str, message: str, data: Any = None) -> None:
        self.logs.append(LogRecord(step_id, level, message, data))

    async def is_cancelled(self) -> bool:
        return self.cancelled

    def cancel(self) -> None:
        self.cancelled = True

    def steps_for(self, node_id: str) -> list[StepRecord]:
        return [step for step in self.steps.values() if step.node_id == node_id]


class MemoryEventSink:
    """An `EventSink` that keeps events in a list with a sequence number: for tests and development."""

    def __init__(self) -> None:
        self.events: list[tuple[int, str, dict[str, Any]]] = []

    async def emit(self, type: str, payload: dict[str, Any], *, checkpoint_follows: bool = False) -> None:
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type}")
        self.events.append((len(self.events) + 1, type, payload))

    def types(self) -> list[str]:
        return [type for _, type, _ in self.events]


def utc_now() -> datetime:
    return datetime.now(UTC)


__all__ = [
    "EVENT_TYPES",
    "EngineRun",
    "EngineServices",
    "Event",
    "EventSink",
    "ExecutionCancelled",
    "ExecutionStore",
    "MemoryEventSink",
    "MemoryExecutionStore",
    "RunContext",
    "RunOutcome",
    "RunSettings",
    "RunStatus",
    "StepFinish",
    "StepStart",
    "StepStatus",
    "run_execution",
]
