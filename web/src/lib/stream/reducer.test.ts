import { describe, expect, it } from "vitest";

import { type Execution, type SnapshotMessage, type StreamEvent, applyEvent, applySnapshot } from "./reducer";

const execution = { id: "e1", status: "pending" } as unknown as Execution;

function event(seq: number, type: string, data: Record<string, unknown> = {}): StreamEvent {
  return { seq, type, execution_id: "e1", at: "2026-01-01T00:00:00Z", data };
}

const snapshot: SnapshotMessage = {
  type: "snapshot",
  seq: 2,
  execution,
  steps: [
    {
      id: "s1",
      node_key: "a",
      status: "completed",
      attempt: 1,
      output: { x: 1 },
    } as unknown as SnapshotMessage["steps"][number],
  ],
};

describe("execution stream reducer", () => {
  it("starts from the snapshot", () => {
    const view = applySnapshot(snapshot);
    expect(view.lastSeq).toBe(2);
    expect(view.nodes.a?.status).toBe("completed");
  });

  it("drops events already covered by the snapshot", () => {
    const view = applySnapshot(snapshot);
    expect(applyEvent(view, event(2, "step.started", { node_id: "b" }))).toBe(view);
  });

  it("follows a node from running through tokens to completed", () => {
    let view = applySnapshot(snapshot);
    view = applyEvent(view, event(3, "step.started", { node_id: "b", step_id: "s2", attempt: 1 }));
    expect(view.nodes.b?.status).toBe("running");
    view = applyEvent(view, event(4, "step.token", { node_id: "b", delta: "Hel" }));
    view = applyEvent(view, event(5, "step.token", { node_id: "b", delta: "lo" }));
    expect(view.nodes.b?.tokens).toBe("Hello");
    view = applyEvent(view, event(6, "step.completed", { node_id: "b", output: { text: "Hello" } }));
    expect(view.nodes.b).toMatchObject({ status: "completed", output: { text: "Hello" }, tokens: "Hello" });
  });

  it("moves the execution to its terminal status with its output", () => {
    let view = applySnapshot(snapshot);
    view = applyEvent(view, event(3, "execution.waiting_approval"));
    expect(view.execution?.status).toBe("waiting_approval");
    view = applyEvent(view, event(4, "execution.completed", { output: { ok: true } }));
    expect(view.execution?.status).toBe("completed");
    expect(view.execution?.output).toEqual({ ok: true });
  });

  it("keeps a failure's message", () => {
    let view = applySnapshot(snapshot);
    view = applyEvent(view, event(3, "step.failed", { node_id: "a", error: { message: "boom" } }));
    view = applyEvent(view, event(4, "execution.failed", { error: { message: "boom" } }));
    expect(view.nodes.a?.status).toBe("failed");
    expect(view.execution?.error_message).toBe("boom");
  });
});
