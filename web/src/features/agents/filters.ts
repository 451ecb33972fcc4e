/**
 * The agents list's search, filters and sort, kept in the page's query string so a view can be
 * bookmarked: `?q=digest&status=active&trigger=webhook&sort=name`. Pure: parsing never throws and
 * drops values the API would refuse.
 */
import type { components } from "@/lib/api/schema";

export type AgentStatus = components["schemas"]["AgentStatus"];

export const AGENT_STATUSES: readonly AgentStatus[] = ["active", "draft", "paused", "archived"];

export const STATUS_LABELS: Record<AgentStatus, string> = {
  active: "Active",
  draft: "Draft",
  paused: "Paused",
  archived: "Archived",
};

/** Trigger node subtypes (the agent's `trigger_type`). */
export const TRIGGER_TYPES = ["manual", "api", "webhook", "schedule"] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export const TRIGGER_LABELS: Record<string, string> = {
  manual: "Manual",
  api: "API",
  webhook: "Webhook",
  schedule: "Schedule",
};

export const SORTS = ["updated", "created", "name"] as const;
export type AgentSort = (typeof SORTS)[number];

export const SORT_LABELS: Record<AgentSort, string> = {
  updated: "Recently updated",
  created: "Recently created",
  name: "Name (A–Z)",
};

export const DEFAULT_SORT: AgentSort = "updated";
/** The API caps the search term at 255 characters. */
export const MAX_QUERY_LENGTH = 255;

export interface AgentFilters {
  q?: string;
  status?: AgentStatus;
  trigger?: TriggerType;
  sort?: AgentSort;
}

function oneOf<T extends string>(values: readonly T[], value: string | null): T | undefined {
  return value !== null && (values as readonly string[]).includes(value) ? (value as T) : undefined;
}

/** A search term the API accepts: trimmed, no NUL, at most 255 characters; empty → undefined. */
export function cleanQuery(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  // PostgreSQL text cannot hold U+0000.
  const clean = value
    .replace(/\u0000/g, "")
    .trim()
    .slice(0, MAX_QUERY_LENGTH);
  return clean || undefined;
}

export function parseAgentFilters(params: Pick<URLSearchParams, "get">): AgentFilters {
  const filters: AgentFilters = {};
  const q = cleanQuery(params.get("q"));
  if (q) filters.q = q;
  const status = oneOf(AGENT_STATUSES, params.get("status"));
  if (status) filters.status = status;
  const trigger = oneOf(TRIGGER_TYPES, params.get("trigger"));
  if (trigger) filters.trigger = trigger;
  const sort = oneOf(SORTS, params.get("sort"));
  if (sort && sort !== DEFAULT_SORT) filters.sort = sort;
  return filters;
}

/** The query string for these filters (stable key order, defaults and empties left out). */
export function agentFiltersToSearch(filters: AgentFilters): string {
  const params = new URLSearchParams();
  const q = cleanQuery(filters.q);
  if (q) params.set("q", q);
  if (filters.status) params.set("status", filters.status);
  if (filters.trigger) params.set("trigger", filters.trigger);
  if (filters.sort && filters.sort !== DEFAULT_SORT) params.set("sort", filters.sort);
  return params.toString();
}

/** Whether anything narrows the list (the sort does not: it only reorders). */
export function isFiltered(filters: AgentFilters): boolean {
  return Boolean(cleanQuery(filters.q) || filters.status || filters.trigger);
}

export interface AgentListQuery {
  q?: string;
  status?: AgentStatus;
  trigger_type?: string;
  sort: "created_at" | "updated_at" | "name";
  order: "asc" | "desc";
}

/** GET /agents parameters. Archived agents only show when asked for by status. */
export function agentFiltersToQuery(filters: AgentFilters): AgentListQuery {
  const sort = filters.sort ?? DEFAULT_SORT;
  const query: AgentListQuery =
    sort === "name"
      ? { sort: "name", order: "asc" }
      : { sort: sort === "created" ? "created_at" : "updated_at", order: "desc" };
  const q = cleanQuery(filters.q);
  if (q) query.q = q;
  if (filters.status) query.status = filters.status;
  if (filters.trigger) query.trigger_type = filters.trigger;
  return query;
}

export function builderHref(agentId: string): string {
  return `/agents/builder/?id=${encodeURIComponent(agentId)}`;
}
