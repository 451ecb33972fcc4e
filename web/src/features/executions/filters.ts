/**
 * The executions list's filters, kept in the page's query string so a filtered view can be
 * bookmarked and shared: `?status=failed&agent=<id>&trigger=webhook&from=2026-01-01&to=2026-01-31`.
 * Pure: parsing never throws, and unknown values are dropped rather than sent to the API.
 */
import type { components } from "@/lib/api/schema";
import { isDay, localMidnight } from "@/lib/days";
import { isUuid } from "@/lib/ids";

export type ExecutionStatus = components["schemas"]["ExecutionStatus"];

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  "queued",
  "pending",
  "running",
  "waiting_approval",
  "parked",
  "completed",
  "failed",
  "cancelled",
];

/** How a run started (`triggered_by`); `test` is a dry run from the builder. */
export const TRIGGERS = ["manual", "api", "webhook", "schedule", "test"] as const;
export type Trigger = (typeof TRIGGERS)[number];

export interface ExecutionFilters {
  status?: ExecutionStatus;
  agent?: string;
  trigger?: Trigger;
  /** Calendar days, `YYYY-MM-DD`, in the viewer's time zone; both ends included. */
  from?: string;
  to?: string;
}

/** Filters from a query string; anything malformed is ignored. */
export function parseFilters(params: Pick<URLSearchParams, "get">): ExecutionFilters {
  const filters: ExecutionFilters = {};
  const status = params.get("status");
  if (status && (EXECUTION_STATUSES as readonly string[]).includes(status)) filters.status = status as ExecutionStatus;
  const agent = params.get("agent");
  if (agent && isUuid(agent)) filters.agent = agent.toLowerCase();
  const trigger = params.get("trigger");
  if (trigger && (TRIGGERS as readonly string[]).includes(trigger)) filters.trigger = trigger as Trigger;
  const from = params.get("from");
  if (from && isDay(from)) filters.from = from;
  const to = params.get("to");
  if (to && isDay(to)) filters.to = to;
  return filters;
}

/** The query string for these filters, keys in a stable order, empty ones left out. */
export function filtersToSearch(filters: ExecutionFilters): string {
  const params = new URLSearchParams();
  for (const key of ["status", "agent", "trigger", "from", "to"] as const) {
    const value = filters[key];
    if (value) params.set(key, value);
  }
  return params.toString();
}

export function activeFilterCount(filters: ExecutionFilters): number {
  return (["status", "agent", "trigger", "from", "to"] as const).filter((key) => Boolean(filters[key])).length;
}

/** The API's query for these filters: days become instants at the viewer's local midnight. */
export function filtersToQuery(filters: ExecutionFilters): {
  status?: ExecutionStatus;
  agent_id?: string;
  triggered_by?: string;
  created_after?: string;
  created_before?: string;
} {
  const query: ReturnType<typeof filtersToQuery> = {};
  if (filters.status) query.status = filters.status;
  if (filters.agent) query.agent_id = filters.agent;
  if (filters.trigger) query.triggered_by = filters.trigger;
  if (filters.from) query.created_after = localMidnight(filters.from).toISOString();
  // `to` is inclusive: everything before the next day's midnight.
  if (filters.to) query.created_before = localMidnight(filters.to, 1).toISOString();
  return query;
}
