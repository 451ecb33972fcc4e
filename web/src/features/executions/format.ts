/** How executions read on screen: triggers, durations, token counts and costs. Pure. */
import { TERMINAL_STATUSES } from "@/components/ui/status-badge";
import { formatCost, formatDuration, timeAgo } from "@/lib/utils";

export const TRIGGER_LABELS: Record<string, string> = {
  manual: "Manual",
  api: "API",
  webhook: "Webhook",
  schedule: "Schedule",
  test: "Test run",
};

export function triggerLabel(triggeredBy: string | null | undefined): string {
  if (!triggeredBy) return "—";
  return TRIGGER_LABELS[triggeredBy] ?? triggeredBy.replaceAll("_", " ");
}

export function isTerminal(status: string | null | undefined): boolean {
  return status !== null && status !== undefined && TERMINAL_STATUSES.has(status);
}

/** Milliseconds from start to end; a run still going counts up to `now`; null before it starts. */
export function elapsedMs(
  startedAt: string | null | undefined,
  completedAt: string | null | undefined,
  now: number = Date.now(),
): number | null {
  if (!startedAt) return null;
  const start = new Date(startedAt).getTime();
  const end = completedAt ? new Date(completedAt).getTime() : now;
  if (!Number.isFinite(start) || !Number.isFinite(end)) return null;
  return Math.max(0, end - start);
}

/** The duration column: finished runs show their duration; a waiting one shows nothing moving. */
export function runDuration(
  run: { status: string; started_at: string | null; completed_at: string | null },
  now: number = Date.now(),
): string {
  if (!run.started_at) return "—";
  if (!run.completed_at && !isTerminal(run.status) && run.status !== "running") {
    // Waiting for an approval or parked: the clock is not the run's work time; say so.
    return "—";
  }
  return formatDuration(elapsedMs(run.started_at, run.completed_at, now));
}

const integer = new Intl.NumberFormat("en-US");
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

/** 0 → "0"; 1234 → "1,234"; 1_250_000 → "1.3M". */
export function formatTokens(tokens: number | null | undefined): string {
  const value = tokens ?? 0;
  return value >= 100_000 ? compact.format(value) : integer.format(value);
}

/** A cost as the API sends it (decimal string); "—" when nothing was spent, so zeros do not shout. */
export function formatCostCell(cost: string | number | null | undefined): string {
  const value = Number(cost ?? 0);
  return !Number.isFinite(value) || value === 0 ? "—" : formatCost(value);
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** A unix timestamp in seconds (as approval requests carry it) as ISO, or null. */
export function epochToIso(seconds: unknown): string | null {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return null;
  return new Date(seconds * 1000).toISOString();
}

/** The message of an error as the stream or API carries it: a string or `{message}`. */
export function errorText(error: unknown): string | null {
  if (error === null || error === undefined || error === "") return null;
  if (typeof error === "string") return error;
  if (typeof error === "object" && "message" in error && typeof error.message === "string") return error.message;
  return JSON.stringify(error);
}

/** What an approval request (the run's `approval`, see engine/nodes/human_approval.py) holds. */
export interface ApprovalRequest {
  nodeId: string | null;
  stepId: string | null;
  message: string | null;
  approvers: string[];
  requestedAt: string | null;
  expiresAt: string | null;
}

export function readApproval(approval: Record<string, unknown> | null | undefined): ApprovalRequest | null {
  if (!approval) return null;
  return {
    nodeId: typeof approval.node_id === "string" ? approval.node_id : null,
    stepId: typeof approval.step_id === "string" ? approval.step_id : null,
    message: typeof approval.message === "string" ? approval.message : null,
    approvers: Array.isArray(approval.approvers) ? approval.approvers.map(String) : [],
    requestedAt: epochToIso(approval.requested_at),
    expiresAt: epochToIso(approval.expires_at),
  };
}

/** "3 minutes ago" for a past instant; a server clock slightly ahead never reads "in 1 second". */
export function sinceText(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "—";
  return timeAgo(new Date(Math.min(new Date(iso).getTime(), now)).toISOString(), now);
}
