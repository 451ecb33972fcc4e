import { describe, expect, it } from "vitest";

import {
  EMPTY_VIEW,
  type Execution,
  type ExecutionView,
  type Step,
  type StreamEvent,
  applyEvent,
  applySnapshot,
} from "@/lib/stream/reducer";

import { mergeExecution, mergeSteps, nodeTypesFromEvents, staleAfter, stepTestId } from "./live";

const execution = {
  id: "e1",
  agent_id: "a1",
  status: "running",
  output: null,
  error_message: null,
  total_tokens: 0,
  total_cost: "0",
} as unknown as Execution;

function step(id: string, nodeKey: string, status: string, order: number, extra: Partial<Step> = {}): Step {
  return {
    id,
    node_key: nodeKey,
    step_order: order,
    attempt: 1,
    status,
    input: {},
    output: null,
    error_message: null,
    tokens_used: 0,
    cost: "0",
    duration_ms: null,
    started_at: null,
    completed_at: null,
    ...extra,
  };
}

let seq = 0;
function event(type: string, data: Record<string, unknown> = {}): StreamEvent {
  seq += 1;
  return { seq, type, execution_id: "e1", at: "2026-01-01T00:00:00Z", data };
}

function viewOf(steps: Step[], ...events: StreamEvent[]): ExecutionView {
  seq = 10;
  let view = applySnapshot({ type: "snapshot", seq: 10, execution, steps });
  for (const item of events) view = applyEvent(view, item);
  return view;
}

describe("mergeExecution", () => {
  it("shows the REST read when the stream has nothing newer", () => {
    const view = viewOf([]);
    expect(mergeExecution({ execution, seq: 10 }, view)).toBe(execution);
    expect(mergeExecution({ execution, seq: 0 }, EMPTY_VIEW)).toBe(execution);
  });

  it("takes status and output from the stream when it heard of them after the read", () => {
    const view = viewOf([], event("execution.completed", { output: { ok: true } }));
    const merged = mergeExecution({ execution, seq: 10 }, view);
    expect(merged).toMatchObject({ status: "completed", output: { ok: true }, total_cost: "0" });
  });

  it("keeps a failure's message from the stream", () => {
    const view = viewOf([], event("execution.failed", { error: { message: "boom" } }));
    expect(mergeExecution({ execution, seq: 10 }, view)?.error_message).toBe("boom");
  });

  it("never takes a finished run back to running", () => {
    const done = { ...execution, status: "cancelled" } as Execution;
    const view = viewOf([], event("step.started", { node_id: "x", step_id: "s9" }));
    expect(mergeExecution({ execution: done, seq: 10 }, view)?.status).toBe("cancelled");
  });

  it("has nothing to show before the first read", () => {
    expect(mergeExecution(undefined, viewOf([]))).toBeUndefined();
  });
});

describe("mergeSteps", () => {
  const start = step("s1", "start", "completed", 1);
  const ai = step("s2", "draft", "running", 2);

  it("lays the stream's status and streamed text over the REST rows", () => {
    const view = viewOf(
      [start, ai],
      event("step.token", { node_id: "draft", delta: "Dear " }),
      event("step.token", { node_id: "draft", delta: "Ada" }),
    );
    const rows = mergeSteps([start, ai], view, true);
    expect(rows.map((row) => [row.node_key, row.status, row.liveTokens])).toEqual([
      ["start", "completed", ""],
      ["draft", "running", "Dear Ada"],
    ]);
  });

  it("finishes a step as soon as the stream says so, with its output", () => {
    const view = viewOf(
      [start, ai],
      event("step.completed", { node_id: "draft", step_id: "s2", output: { text: "Hi" } }),
    );
    const [, draft] = mergeSteps([start, ai], view, true);
    expect(draft).toMatchObject({ status: "completed", output: { text: "Hi" }, liveOnly: false });
  });

  it("keeps a REST row that already finished (the stream may lag)", () => {
    const cancelled = step("s2", "draft", "cancelled", 2);
    const view = viewOf([start, ai]); // the snapshot still says running
    expect(mergeSteps([start, cancelled], view, true)[1]?.status).toBe("cancelled");
  });

  it("appends steps only the stream knows, when the list is complete", () => {
    const view = viewOf(
      [start],
      event("step.started", { node_id: "draft", step_id: "s2", attempt: 1, node_type: "ai.chat" }),
      event("step.token", { node_id: "draft", delta: "Hel" }),
    );
    const rows = mergeSteps([start], view, true);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({
      id: "s2",
      node_key: "draft",
      status: "running",
      liveOnly: true,
      liveTokens: "Hel",
    });
    expect(rows[1]?.step_order).toBe(2);
    // With more pages to load, a new step belongs after them, not here.
    expect(mergeSteps([start], view, false)).toHaveLength(1);
  });

  it("marks the newest row of each node for its test id", () => {
    const first = step("s2", "check", "failed", 2, { attempt: 1 });
    const retry = step("s3", "check", "completed", 3, { attempt: 2 });
    const rows = mergeSteps([start, first, retry], viewOf([]), true);
    expect(rows.map((row) => stepTestId(row))).toEqual(["step-start", "step-check-2", "step-check"]);
  });
});

describe("what the stream makes stale", () => {
  it("ignores tokens", () => {
    expect(staleAfter([event("step.token", { delta: "x" })])).toEqual({ execution: false, steps: false, logs: false });
  });

  it("refreshes the steps when one starts, and everything when one ends", () => {
    expect(staleAfter([event("step.started")])).toEqual({ execution: false, steps: true, logs: false });
    expect(staleAfter([event("step.failed")])).toEqual({ execution: true, steps: true, logs: true });
    expect(staleAfter([event("execution.completed")])).toEqual({ execution: true, steps: true, logs: true });
  });

  it("learns node types from step.started", () => {
    expect(
      nodeTypesFromEvents([
        event("step.started", { node_id: "draft", node_type: "ai.chat" }),
        event("step.token", { node_id: "draft", delta: "x" }),
      ]),
    ).toEqual({ draft: "ai.chat" });
  });
});
