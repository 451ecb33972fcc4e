"""The engine core against the real Postgres checkpointer: branching, loops, merges, errors,
retries, approvals, crash-resume, egress, templates and cancellation. Offline (scripted provider)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from pydantic import BaseModel

from agentflow.engine.compile import node_outputs
from agentflow.engine.providers import ProviderRouter, StaticCredentials, build_providers, default_catalog
from agentflow.engine.retry import NodeRetryPolicy
from agentflow.engine.runtime import (
    EngineServices,
    MemoryEventSink,
    MemoryExecutionStore,
    RunContext,
    RunOutcome,
    RunSettings,
    StepFinish,
    StepStart,
    run_execution,
)
from agentflow.engine.spec import AgentDefinition
from agentflow.engine.tools import RetryableToolError, ToolContext, ToolRegistry, default_tools
from agentflow.engine.tools.http_request import HttpRequestTool
from tests.engine.graphs import definition, edge, node

pytestmark = pytest.mark.asyncio


class Harness:
    def __init__(self, checkpointer: AsyncPostgresSaver, **services: Any) -> None:
        self.checkpointer = checkpointer
        self.events = MemoryEventSink()
        self.store = MemoryExecutionStore(self.events)
        self.sleeps: list[float] = []

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        router = ProviderRouter(build_providers(), default_catalog(), StaticCredentials(), sleep=sleep)
        self.services = EngineServices(router=router, sleep=sleep, **services)
        self.execution_id = uuid.uuid4()

    def ctx(self, trigger: dict[str, Any], settings: RunSettings | None = None) -> RunContext:
        return RunContext(
            execution_id=self.execution_id,
            org_id=uuid.uuid4(),
            agent_id=uuid.uuid4(),
            agent_version=1,
            trigger=trigger,
            started_at=datetime.now(UTC),
            settings=settings or RunSettings(),
        )

    async def run(
        self,
        raw: dict[str, Any],
        trigger: dict[str, Any] | None = None,
        *,
        resume: dict[str, Any] | None = None,
        settings: RunSettings | None = None,
    ) -> RunOutcome:
        return await run_execution(
            AgentDefinition.model_validate(raw),
            self.ctx(trigger or {}, settings),
            store=self.store,
            events=self.events,
            services=self.services,
            checkpointer=self.checkpointer,
            resume=resume,
        )

    def ran(self) -> list[str]:
        return [step.node_id for step in self.store.steps.values()]

    def output(self, node_id: str) -> Any:
        return [step for step in self.store.steps_for(node_id) if step.status == "completed"][-1].output


def flow(*nodes: dict[str, Any], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return definition([node("start", "trigger.manual"), *nodes], edges)


def template(node_id: str, text: str) -> dict[str, Any]:
    return node(node_id, "transform.template", {"template": text})


async def test_linear_flow_renders_and_responds(checkpointer: AsyncPostgresSaver) -> None:
    h = Harness(checkpointer)
    raw = flow(
        node("settings", "transform.set_variables", {"variables": {"greeting": "Hello"}}),
        template("greet", "{{vars.greeting}}, {{trigger.data.name}}!"),
        node("chat", "ai.chat", {"model": "scripted-echo", "prompt": "{{greet.output.text}}"}),
        node("reply", "flow.respond", {"body": "{{chat.output}}"}),
        edges=[edge("start", "settings"), edge("settings", "greet"), edge("greet", "chat"), edge("chat", "reply")],
    )
    outcome = await h.run(raw, {"name": "Ada"})
    assert outcome.status == "completed", outcome.error
    assert outcome.output["text"] == "Hello, Ada!"
    assert outcome.output["provider"] == "scripted" and outcome.output["model"] == "scripted-echo"
    assert h.ran() == ["start", "settings", "greet", "chat", "reply"]
    assert h.store.steps_for("chat")[0].tokens > 0
    types = h.events.types()
    assert types[0] == "execution.started" and types[-1] == "execution.completed"
    assert "step.token" in types
    assert [seq for seq, _, _ in h.events.events] == list(range(1, len(types) + 1))
    # A finished execution is not run again.
    again = await h.run(raw, {"name": "Ada"})
    assert again.status == "completed" and len(h.store.steps) == 5


@pytest.mark.parametrize(("amount", "branch"), [(150, "big"), (5, "small")])
async def test_if_else_follows_the_chosen_handle(checkpointer: AsyncPostgresSaver, amount: int, branch: str) -> None:
    h = Harness(checkpointer)
    condition = {
        "combinator": "and",
        "conditions": [
            {"left": "{{trigger.data.amount}}", "operator": "greater_than", "right": 100},
            {"combinator": "or", "conditions": [{"left": "{{trigger.data.kind}}", "operator": "equals", "right": "x"}]},
        ],
    }
    raw = flow(
        node("check", "logic.if_else", {"conditions": condition}),
        template("big", "big"),
        template("small", "small"),
        edges=[edge("start", "check"), edge("check", "big", "true"), edge("check", "small", "false")],
    )
    outcome = await h.run(raw, {"amount": amount, "kind": "x"})
    assert outcome.status == "completed"
    assert h.ran() == ["start", "check", branch]


async def test_switch_and_classify_route_by_case(checkpointer: AsyncPostgresSaver) -> None:
    h = Harness(checkpointer)
    raw = flow(
        node(
            "plan",
            "logic.switch",
            {"value": "{{trigger.data.plan | lower}}", "cases": [{"key": "pro", "equals": "pro"}]},
        ),
        node(
            "sort",
            "ai.classify",
            {
                "model": "scripted-echo",
                "input": "{{trigger.data.topic}}",
                "categories": [{"key": "billing"}, {"key": "support"}],
            },
        ),
        template("other", "default"),
        template("billing_team", "billing"),
        template("support_team", "support"),
        edges=[
            edge("start", "plan"),
            edge("plan", "sort", "pro"),
            edge("plan", "other", "default"),
            edge("sort", "billing_team", "billing"),
            edge("sort", "support_team", "support"),
        ],
    )
    outcome = await h.run(raw, {"plan": "PRO", "topic": "support"})
    assert outcome.status == "completed"
    assert h.ran() == ["start", "plan", "sort", "support_team"]
    assert h.output("sort")["category"] == "support"


async def test_loop_runs_body_per_item_then_done(checkpointer: AsyncPostgresSaver) -> None:
    h = Harness(checkpointer)
    raw = flow(
        node("each", "logic.loop", {"items": "{{trigger.data.items}}", "max_iterations": 3}),
        template("line", "{{loop.index}}:{{loop.item.name}}"),
        template("shout", "{{line.output.text | upper}}"),
        node("reply", "flow.respond", {"body": "{{each.output.results}}"}),
        edges=[
            edge("start", "each"),
            edge("each", "line", "loop_body"),
            edge("line", "shout"),
            edge("shout", "each"),
            edge("each", "reply", "done"),
        ],
    )
    items = [{"name": n} for n in ("a", "b", "c", "d")]
    outcome = await h.run(raw, {"items": items})
    assert outcome.status == "completed", outcome.error
    assert outcome.output == [{"text": "0:A"}, {"text": "1:B"}, {"text": "2:C"}]  # capped at 3
    assert h.ran().count("line") == 3 and h.ran()[-1] == "reply"


async def test_parallel_branches_join_at_merge(checkpointer: AsyncPostgresSaver) -> None:
    h = Harness(checkpointer)
    raw = flow(
        template("short", "s"),
        template("long1", "l1"),
        template("long2", "{{long1.output.text}}2"),
        node("join", "logic.merge", {"mode": "all"}),
        template("after", "{{short.output.text}}+{{long2.output.text}}"),
        edges=[
            edge("start", "short"),
            edge("start", "long1"),
            edge("long1", "long2"),
            edge("short", "join"),
            edge("long2", "join"),
            edge("join", "after"),
        ],
    )
    outcome = await h.run(raw)
    assert outcome.status == "completed"
    assert h.ran().count("join") == 1 and h.ran().count("after") == 1
    assert outcome.output == {"text": "s+l12"}
    assert set(h.output("join")["branches"]) == {"short", "long2"}
    # short and long1 ran in the same superstep: both started before either branch went on.
    started = [p["node_id"] for _, t, p in h.events.events if t == "step.started"]
    assert set(started[1:3]) == {"short", "long1"}


async def test_merge_all_does_not_wait_for_a_branch_not_taken(checkpointer: AsyncPostgresSaver) -> None:
    h = Harness(checkpointer)
    cond = {"conditions": [{"left": "{{trigger.data.go}}", "operator": "is_true"}]}
    raw = flow(
        node("check", "logic.if_else", {"conditions": cond}),
        template("yes", "y"),
        template("no", "n"),
        node("join", "logic.merge", {}),
        edges=[
            edge("start", "check"),
            edge("check", "yes", "true"),
            edge("check", "no", "false"),
            edge("yes", "join"),
            edge("no", "join"),
        ],
    )
    outcome = await h.run(raw, {"go": True})
    assert outcome.status == "completed"
    assert h.ran() == ["start", "check", "yes", "join"]


class FlakyParams(BaseModel):
    fail_times: int = 0


class FlakyTool:
    name = "test.flaky"
    params_model = FlakyParams

    def __init__(self) -> None:
        self.calls = 0

    async def run(self, params: Any, ctx: ToolContext) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= params.fail_times:
            raise RetryableToolError("upstream hiccup", code="UPSTREAM")
        return {"calls": self.calls}


class SimulatedCrash(BaseException):
    """Stands for the worker process dying: not a node error, nothing handles it."""


class CrashOnceTool:
    name = "test.crash_once"
    params_model = FlakyParams

    def __init__(self) -> None:
        self.calls = 0

    async def run(self, params: Any, ctx: ToolContext) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 1:
            raise SimulatedCrash
        return {"ok": True}


async def test_retries_record_each_attempt(checkpointer: AsyncPostgresSaver) -> None:
    flaky = FlakyTool()
    h = Harness(checkpointer, tools=ToolRegistry([flaky]))
    raw = flow(
        node("call", "action.tool", {"tool": "test.flaky", "params": {"fail_times": 2}}),
        edges=[edge("start", "call")],
    )
    outcome = await h.run(raw, settings=RunSettings(max_retries=3, backoff_base=0.5))
    assert outcome.status == "completed"
    attempts = [(s.attempt, s.status) for s in h.store.steps_for("call")]
    assert attempts == [(1, "failed"), (2, "failed"), (3, "completed")]
    assert h.events.types().count("step.retrying") == 2
    assert len(h.sleeps) == 2 and 0.25 <= h.sleeps[0] <= 0.5 and 0.5 <= h.sleeps[1] <= 1.0


async def test_error_handle_routes_failure_else_run_fails(checkpointer: AsyncPostgresSaver) -> None:
    flaky = FlakyTool()
    h = Harness(checkpointer, tools=ToolRegistry([flaky]))
    raw = flow(
        node("call", "action.tool", {"tool": "test.flaky", "params": {"fail_times": 5}}),
        template("recover", "recovered from {{call.output.error.code}}"),
        edges=[edge("start", "call"), edge("call", "recover", "error")],
    )
    settings = RunSettings(max_retries=3, node_retries={"call": NodeRetryPolicy(max_retries=1)})
    outcome = await h.run(raw, settings=settings)
    assert outcome.status == "completed"
    assert outcome.output == {"text": "recovered from UPSTREAM"}
    assert len(h.store.steps_for("call")) == 2  # the node override: one retry

    h2 = Harness(checkpointer, tools=ToolRegistry([FlakyTool()]))
    raw_no_error_edge = flow(
        node("call", "action.tool", {"tool": "test.flaky", "params": {"fail_times": 5}}),
        template("next", "never"),
        edges=[edge("start", "call"), edge("call", "next")],
    )
    failed = await h2.run(raw_no_error_edge)
    assert failed.status == "failed"
    assert failed.error is not None and failed.error["node_id"] == "call" and failed.error["code"] == "UPSTREAM"
    assert "next" not in h2.ran() and h2.events.types()[-1] == "execution.failed"


def approval_flow() -> dict[str, Any]:
    return flow(
        template("draft", "Reply to {{trigger.data.who}}"),
        node("review", "human.approval", {"message": "Send? {{draft.output.text}}", "approvers": ["admin"]}),
        template("send", "sent"),
        template("discard", "discarded"),
        edges=[
            edge("start", "draft"),
            edge("draft", "review"),
            edge("review", "send", "approved"),
            edge("review", "discard", "rejected"),
        ],
    )


@pytest.mark.parametrize(("decision", "branch"), [("approve", "send"), ("reject", "discard")])
async def test_approval_waits_then_resumes(checkpointer: AsyncPostgresSaver, decision: str, branch: str) -> None:
    h = Harness(checkpointer)
    waiting = await h.run(approval_flow(), {"who": "Bo"})
    assert waiting.status == "waiting_approval"
    assert waiting.interrupt is not None
    assert waiting.interrupt["message"] == "Send? Reply to Bo" and waiting.interrupt["approvers"] == ["admin"]
    [review_step] = h.store.steps_for("review")
    assert review_step.status == "waiting_approval"
    assert "execution.waiting_approval" in h.events.types()
    # Calling again without a decision keeps waiting and runs nothing.
    assert (await h.run(approval_flow(), {"who": "Bo"})).status == "waiting_approval"

    resumed = await h.run(approval_flow(), {"who": "Bo"}, resume={"decision": decision, "comment": "ok", "by": "u1"})
    assert resumed.status == "completed", resumed.error
    assert h.ran() == ["start", "draft", "review", branch]  # same review step, draft not re-run
    assert review_step.status == "completed" and review_step.output["by"] == "u1"


async def test_crash_resumes_without_rerunning_completed_nodes(checkpointer: AsyncPostgresSaver) -> None:
    crash = CrashOnceTool()
    h = Harness(checkpointer, tools=ToolRegistry([crash]))
    raw = flow(
        template("first", "one"),
        template("side", "parallel"),
        node("risky", "action.tool", {"tool": "test.crash_once"}),
        template("last", "{{first.output.text}} {{risky.output.ok}}"),
        edges=[edge("start", "first"), edge("start", "side"), edge("first", "risky"), edge("risky", "last")],
    )
    with pytest.raises(SimulatedCrash):
        await h.run(raw)
    assert h.ran() == ["start", "first", "side", "risky"]
    outcome = await h.run(raw)  # the redelivered task
    assert outcome.status == "completed"
    assert outcome.output == {"text": "one true"}
    assert [s.node_id for s in h.store.steps.values()].count("first") == 1
    assert [s.attempt for s in h.store.steps_for("first")] == [1]
    assert crash.calls == 2


class EchoHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/data?from=redirect")
            self.end_headers()
            return
        body = b'{"path": "' + self.path.encode() + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def http_flow(url: str) -> dict[str, Any]:
    return flow(
        node(
            "fetch",
            "action.tool",
            {"tool": "http.request", "params": {"url": url, "query": {"q": "{{trigger.data.q}}"}}},
        ),
        edges=[edge("start", "fetch")],
    )


async def test_http_request_is_blocked_by_egress_unless_allowed(
    checkpointer: AsyncPostgresSaver, local_server: str
) -> None:
    blocked = Harness(checkpointer)
    outcome = await blocked.run(http_flow(f"{local_server}/data"), {"q": "x"})
    assert outcome.status == "failed"
    assert outcome.error is not None and outcome.error["code"] == "URL_NOT_ALLOWED"

    allowed = Harness(checkpointer, egress_allowed_hosts=("127.0.0.1",))
    outcome = await allowed.run(http_flow(f"{local_server}/redirect"), {"q": "x"})
    assert outcome.status == "completed", outcome.error
    assert outcome.output["status"] == 200 and outcome.output["body"] == {"path": "/data?from=redirect"}


async def test_redirect_to_internal_address_is_blocked() -> None:
    tool = HttpRequestTool()
    params = tool.params_model.model_validate({"url": "http://169.254.169.254/latest/meta-data"})
    ctx = ToolContext(uuid.uuid4(), uuid.uuid4(), "n", None, 5.0, ())
    with pytest.raises(Exception, match="private or internal"):
        await tool.run(params, ctx)
    assert "http.request" in default_tools().names


async def test_missing_reference_fails_naming_it(checkpointer: AsyncPostgresSaver) -> None:
    h = Harness(checkpointer)
    raw = flow(template("greet", "Hi {{trigger.data.nmae}}"), edges=[edge("start", "greet")])
    outcome = await h.run(raw, {"name": "x"})
    assert outcome.status == "failed"
    assert outcome.error is not None and outcome.error["code"] == "MISSING_REFERENCE"
    assert "{{trigger.data.nmae}}" in outcome.error["message"] and "config.template" in outcome.error["message"]
    # With a default the same reference is fine.
    h2 = Harness(checkpointer)
    raw = flow(template("greet", 'Hi {{trigger.data.nmae | default("there")}}'), edges=[edge("start", "greet")])
    assert (await h2.run(raw, {})).output == {"text": "Hi there"}


async def test_cancellation_stops_at_the_next_step_boundary(checkpointer: AsyncPostgresSaver) -> None:
    h = Harness(checkpointer)

    class CancelTool:
        name = "test.cancel"
        params_model = FlakyParams

        async def run(self, params: Any, ctx: ToolContext) -> dict[str, Any]:
            h.store.cancel()
            return {}

    h.services.tools = ToolRegistry([CancelTool()])
    raw = flow(
        node("stop", "action.tool", {"tool": "test.cancel"}),
        template("after", "never"),
        edges=[edge("start", "stop"), edge("stop", "after")],
    )
    outcome = await h.run(raw)
    assert outcome.status == "cancelled"
    assert "after" not in h.ran()
    assert h.events.types()[-1] == "execution.cancelled"


async def test_long_delay_parks_and_resumes_at_time(checkpointer: AsyncPostgresSaver) -> None:
    now = [1_000_000.0]
    h = Harness(checkpointer, clock=lambda: now[0])
    raw = flow(
        node("wait", "logic.delay", {"seconds": 3600}),
        template("later", "done"),
        edges=[edge("start", "wait"), edge("wait", "later")],
    )
    parked = await h.run(raw)
    assert parked.status == "parked" and parked.resume_at == now[0] + 3600
    assert (await h.run(raw)).status == "parked"  # too early: nothing runs
    now[0] += 3600
    outcome = await h.run(raw)
    assert outcome.status == "completed" and h.ran() == ["start", "wait", "later"]


async def test_execution_timeout_fails_the_run(checkpointer: AsyncPostgresSaver) -> None:
    h = Harness(checkpointer, in_process_delay_limit=60)
    h.services.sleep = asyncio.sleep
    raw = flow(node("wait", "logic.delay", {"seconds": 5}), edges=[edge("start", "wait")])
    outcome = await h.run(raw, settings=RunSettings(timeout_seconds=0.3))
    assert outcome.status == "failed"
    assert outcome.error is not None and outcome.error["code"] == "EXECUTION_TIMEOUT"


class CountingStore(MemoryExecutionStore):
    """Counts the store's writes; with `pause_after_start`, stalls right after starting a next
    step (the run's timeout then lands between two nodes)."""

    def __init__(self, events: MemoryEventSink, pause_after_start: float = 0) -> None:
        super().__init__(events)
        self.writes = 0
        self.pause_after_start = pause_after_start

    async def step_started(self, start: StepStart) -> None:
        self.writes += 1
        await super().step_started(start)

    async def step_finished(
        self, finish: StepFinish, *, then_start: StepStart | None = None, checkpoint_follows: bool = False
    ) -> bool:
        self.writes += 1
        started = await super().step_finished(finish, then_start=then_start, checkpoint_follows=checkpoint_follows)
        if started and self.pause_after_start:
            await asyncio.sleep(self.pause_after_start)
        return started


async def test_a_linear_flow_records_one_write_per_node(checkpointer: AsyncPostgresSaver) -> None:
    h = Harness(checkpointer)
    h.store = store = CountingStore(h.events)
    raw = flow(
        template("a", "one"),
        template("b", "{{a.output.text}} two"),
        edges=[edge("start", "a"), edge("a", "b")],
    )
    outcome = await h.run(raw)
    assert outcome.status == "completed" and outcome.output == {"text": "one two"}
    # The trigger's own start, then each finish also starts the next node's step.
    assert store.writes == 4
    steps = {step.node_id: step for step in store.steps.values()}
    assert steps["b"].input == {"template": "one two"}  # rendered with what `a` produced
    started = [(p["node_id"], p["step_id"]) for _, t, p in h.events.events if t == "step.started"]
    assert started == [(node_id, str(steps[node_id].id)) for node_id in ("start", "a", "b")]
    types = h.events.types()
    assert types.index("step.started", types.index("step.completed")) > types.index("step.completed")


async def test_each_output_is_checkpointed_once(checkpointer: AsyncPostgresSaver) -> None:
    """A checkpoint stores the outputs its superstep produced, not every output of the run again."""
    h = Harness(checkpointer)
    ids = [f"n{i}" for i in range(6)]
    raw = flow(
        *(template(node_id, f"{node_id}-marker " + "x" * 500) for node_id in ids),
        template("last", "{{n0.output.text | upper}}"),
        edges=[edge(a, b) for a, b in itertools.pairwise(["start", *ids, "last"])],
    )
    outcome = await h.run(raw)
    assert outcome.status == "completed", outcome.error
    assert outcome.output == {"text": "N0-MARKER " + "X" * 500}  # later nodes still read it
    cursor = await checkpointer.conn.execute(
        "SELECT blob FROM checkpoint_blobs WHERE thread_id = %s", (str(h.execution_id),)
    )
    blobs = [bytes(row["blob"] or b"") for row in await cursor.fetchall()]
    assert sum(b"n0-marker" in blob for blob in blobs) == 1


async def test_outputs_of_runs_checkpointed_in_one_channel_still_read() -> None:
    state = {"outputs": {"a": 1, "b": 2}, "out:b": 3, "out:c": None, "vars": {"out:d": 5}}
    assert node_outputs(state) == {"a": 1, "b": 3, "c": None}


async def test_a_next_step_started_before_the_run_stopped_is_closed(checkpointer: AsyncPostgresSaver) -> None:
    h = Harness(checkpointer)
    h.store = store = CountingStore(h.events, pause_after_start=2)
    raw = flow(template("a", "one"), edges=[edge("start", "a")])
    outcome = await h.run(raw, settings=RunSettings(timeout_seconds=0.3))
    assert outcome.error is not None and outcome.error["code"] == "EXECUTION_TIMEOUT"
    steps = {step.node_id: step for step in store.steps.values()}
    assert steps["start"].status == "completed"
    # `a` was started by the trigger's finish but never ran: it says so rather than `running`.
    assert steps["a"].status == "cancelled" and steps["a"].error is not None
    assert steps["a"].error["code"] == "STOPPED"


async def test_an_approval_in_a_loop_waits_under_a_new_step_each_iteration(checkpointer: AsyncPostgresSaver) -> None:
    h = Harness(checkpointer)
    raw = flow(
        node("each", "logic.loop", {"items": "{{trigger.data.items}}"}),
        node("review", "human.approval", {"message": "Send {{loop.item}}?", "approvers": ["admin"]}),
        edges=[edge("start", "each"), edge("each", "review", "loop_body"), edge("review", "each", "approved")],
    )
    first = await h.run(raw, {"items": ["a", "b"]})
    assert first.status == "waiting_approval" and first.interrupt is not None
    approve = {"decision": "approve", "comment": None, "by": "u1"}
    second = await h.run(raw, {"items": ["a", "b"]}, resume={**approve, "node_id": "review"})
    assert second.status == "waiting_approval" and second.interrupt is not None
    assert second.interrupt["message"] == "Send b?"
    # The resumed step continued under its own id; the next iteration's approval is a new step.
    assert second.interrupt["step_id"] != first.interrupt["step_id"]
    done = await h.run(raw, {"items": ["a", "b"]}, resume={**approve, "node_id": "review"})
    assert done.status == "completed", done.error
    assert [step.status for step in h.store.steps_for("review")] == ["completed", "completed"]
