/**
 * Live stream state merged into what the REST calls returned. The REST data is the record (it has
 * every field, totals and pages); the stream is faster. Each rule here says which one wins. Pure,
 * so it is unit-tested without a socket.
 */
import type { ExecutionView, NodeRun, StreamEvent } from "@/lib/stream/reducer";
import type { Execution, Step } from "@/lib/stream/reducer";

import { errorText, isTerminal } from "./format";

/** A REST read of the execution, stamped with the stream's seq when the request was made. */
export interface ExecutionRead {
  execution: Execution;
  /** `view.lastSeq` when the request started: stream events after it are newer than this read. */
  seq: number;
}

/**
 * The execution to show: the REST read, with status, output and error taken from the stream
 * when the stream has heard of something since that read was requested.
 */
export function mergeExecution(read: ExecutionRead | undefined, view: ExecutionView): Execution | undefined {
  if (!read) return undefined;
  const live = view.execution;
  if (!live || live.id !== read.execution.id || view.lastSeq <= read.seq) return read.execution;
  // A finished run stays finished: the stream cannot take it back (e.g. an old snapshot).
  if (isTerminal(read.execution.status) && !isTerminal(live.status)) return read.execution;
  return {
    ...read.execution,
    status: live.status,
    output: live.output ?? read.execution.output,
    error_message: live.error_message ?? read.execution.error_message,
  };
}

/** A step row as the timeline shows it. */
export interface StepRow extends Step {
  /** AI text streamed so far (running AI steps). */
  liveTokens: string;
  /** Known only from the stream so far; the REST list has not caught up yet. */
  liveOnly: boolean;
  /** The newest row of its node (the one that carries `data-testid="step-<node>"`). */
  latest: boolean;
}

function liveOverlay(step: Step, run: NodeRun | undefined): StepRow {
  const row: StepRow = { ...step, liveTokens: "", liveOnly: false, latest: false };
  if (!run || run.stepId !== step.id) return row;
  row.liveTokens = run.tokens;
  // The REST row already says it finished: that is the record (the stream may lag when it drops).
  if (isTerminal(step.status) || step.status === "skipped") return row;
  row.status = run.status;
  if (run.output !== undefined && row.output === null) row.output = run.output as Step["output"];
  const error = errorText(run.error);
  if (error && !row.error_message) row.error_message = error;
  return row;
}

/**
 * The timeline: REST steps in their order with live status and tokens laid over them, then the
 * steps the stream announced that the REST list does not have yet (only when the list is
 * complete: otherwise they belong on a later page).
 */
export function mergeSteps(steps: readonly Step[], view: ExecutionView, listComplete: boolean): StepRow[] {
  const rows = steps.map((step) => liveOverlay(step, step.node_key ? view.nodes[step.node_key] : undefined));
  if (listComplete) {
    const known = new Set(steps.map((step) => step.id));
    let order = steps.reduce((max, step) => Math.max(max, step.step_order ?? 0), 0);
    for (const [nodeId, run] of Object.entries(view.nodes)) {
      if (run.stepId && known.has(run.stepId)) continue;
      if (!run.stepId && steps.some((step) => step.node_key === nodeId)) continue;
      order += 1;
      rows.push({
        id: run.stepId ?? `live-${nodeId}`,
        node_key: nodeId,
        step_order: order,
        attempt: run.attempt ?? 1,
        status: run.status,
        input: null,
        output: (run.output ?? null) as Step["output"],
        error_message: errorText(run.error),
        tokens_used: 0,
        cost: "0",
        duration_ms: null,
        started_at: null,
        completed_at: null,
        liveTokens: run.tokens,
        liveOnly: true,
        latest: false,
      });
    }
  }
  const seen = new Set<string>();
  for (let index = rows.length - 1; index >= 0; index -= 1) {
    const row = rows[index] as StepRow;
    const key = row.node_key ?? row.id;
    if (!seen.has(key)) {
      row.latest = true;
      seen.add(key);
    }
  }
  return rows;
}

/** The test id of a step row: the newest row of a node is `step-<node>`; older ones add their order. */
export function stepTestId(row: Pick<StepRow, "node_key" | "id" | "latest" | "step_order">): string {
  const node = row.node_key ?? row.id;
  return row.latest ? `step-${node}` : `step-${node}-${row.step_order ?? row.id}`;
}

/** What a batch of stream events means for the REST data shown next to it. */
export interface Staleness {
  execution: boolean;
  steps: boolean;
  logs: boolean;
}

/** Which REST reads to refresh after these events (tokens alone change nothing stored). */
export function staleAfter(events: readonly StreamEvent[]): Staleness {
  const stale: Staleness = { execution: false, steps: false, logs: false };
  for (const event of events) {
    if (event.type.startsWith("execution.")) {
      stale.execution = true;
      stale.steps = true;
      stale.logs = true;
    } else if (event.type === "step.started") {
      stale.steps = true;
    } else if (event.type.startsWith("step.") && event.type !== "step.token") {
      stale.execution = true; // totals move with every finished step
      stale.steps = true;
      stale.logs = true;
    }
  }
  return stale;
}

/** Node types by node id, as `step.started` events announce them (for rows the REST list lacks). */
export function nodeTypesFromEvents(events: readonly StreamEvent[]): Record<string, string> {
  const types: Record<string, string> = {};
  for (const event of events) {
    if (event.type !== "step.started") continue;
    const { node_id: nodeId, node_type: nodeType } = event.data;
    if (typeof nodeId === "string" && typeof nodeType === "string") types[nodeId] = nodeType;
  }
  return types;
}
