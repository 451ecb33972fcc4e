/**
 * The state of one execution as its live stream tells it (spec §6; agentflow/executions/stream.py):
 * a snapshot first, then events in `seq` order. Pure, so it is unit-tested without a socket.
 */
import type { components } from "@/lib/api/schema";

export type Execution = components["schemas"]["ExecutionOut"];
export type Step = components["schemas"]["StepOut"];

export interface StreamEvent {
  seq: number;
  type: string;
  execution_id: string;
  at: string;
  data: Record<string, unknown>;
}

export interface SnapshotMessage {
  type: "snapshot";
  seq: number;
  execution: Execution;
  steps: Step[];
}

/** What a node on the canvas shows: its latest step's status, and the text streamed so far. */
export interface NodeRun {
  status: string;
  stepId?: string;
  attempt?: number;
  output?: unknown;
  error?: unknown;
  tokens: string;
}

export interface ExecutionView {
  execution: Execution | null;
  steps: Step[];
  nodes: Record<string, NodeRun>;
  lastSeq: number;
  events: StreamEvent[];
}

export const EMPTY_VIEW: ExecutionView = { execution: null, steps: [], nodes: {}, lastSeq: 0, events: [] };

/** The newest step row per node wins (a loop or retry runs a node more than once). */
function nodesFromSteps(steps: Step[]): Record<string, NodeRun> {
  const nodes: Record<string, NodeRun> = {};
  for (const step of steps) {
    if (!step.node_key) continue;
    nodes[step.node_key] = {
      status: step.status,
      stepId: step.id,
      attempt: step.attempt,
      output: step.output ?? undefined,
      error: step.error_message ?? undefined,
      tokens: "",
    };
  }
  return nodes;
}

export function applySnapshot(snapshot: SnapshotMessage): ExecutionView {
  return {
    execution: snapshot.execution,
    steps: snapshot.steps,
    nodes: nodesFromSteps(snapshot.steps),
    lastSeq: snapshot.seq,
    events: [],
  };
}

const EXECUTION_STATUS: Record<string, string> = {
  "execution.started": "running",
  "execution.completed": "completed",
  "execution.failed": "failed",
  "execution.cancelled": "cancelled",
  "execution.waiting_approval": "waiting_approval",
  "execution.parked": "parked",
};

const STEP_STATUS: Record<string, string> = {
  "step.started": "running",
  "step.completed": "completed",
  "step.failed": "failed",
  "step.retrying": "retrying",
  "step.waiting_approval": "waiting_approval",
};

const MAX_EVENTS_KEPT = 2000;

/** Apply one event; an event at or before `lastSeq` (a replay overlap) changes nothing. */
export function applyEvent(view: ExecutionView, event: StreamEvent): ExecutionView {
  if (event.seq <= view.lastSeq) return view;
  const events = view.events.length >= MAX_EVENTS_KEPT ? [...view.events.slice(1), event] : [...view.events, event];
  let { execution, nodes } = view;

  const executionStatus = EXECUTION_STATUS[event.type];
  if (executionStatus && execution) {
    execution = { ...execution, status: executionStatus as Execution["status"] };
    if (event.type === "execution.completed") execution.output = (event.data.output ?? null) as Execution["output"];
    if (event.type === "execution.failed") {
      const error = event.data.error as { message?: string } | string | undefined;
      execution.error_message = typeof error === "string" ? error : (error?.message ?? execution.error_message);
    }
  }

  const nodeId = typeof event.data.node_id === "string" ? event.data.node_id : null;
  if (nodeId) {
    const previous = nodes[nodeId] ?? { status: "pending", tokens: "" };
    let next: NodeRun = previous;
    if (event.type === "step.token") {
      next = { ...previous, tokens: previous.tokens + String(event.data.delta ?? "") };
    } else if (STEP_STATUS[event.type]) {
      next = {
        ...previous,
        status: STEP_STATUS[event.type] as string,
        stepId: (event.data.step_id as string | undefined) ?? previous.stepId,
        attempt: (event.data.attempt as number | undefined) ?? previous.attempt,
      };
      if (event.type === "step.started") next = { ...next, tokens: "", output: undefined, error: undefined };
      if (event.type === "step.completed") next = { ...next, output: event.data.output };
      if (event.type === "step.failed" || event.type === "step.retrying") next = { ...next, error: event.data.error };
    }
    nodes = { ...nodes, [nodeId]: next };
  }
  return { ...view, execution, nodes, lastSeq: event.seq, events };
}

export const TERMINAL_EVENTS = new Set(["execution.completed", "execution.failed", "execution.cancelled"]);
