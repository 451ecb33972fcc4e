/**
 * The audit log's filters, kept in the query string so a view can be shared:
 * `?action=agent.&actor=<user id>&resource=agent&id=<agent id>&from=2026-01-01&to=2026-01-31`. Pure: parsing
 * never throws and drops what the API would refuse.
 */

import { isDay, localMidnight } from "@/lib/days";
import { isUuid } from "@/lib/ids";

export interface AuditFilters {
  /** An exact action (`member.invited`) or a prefix ending in "." (`member.`). */
  action?: string;
  /** A user id. */
  actor?: string;
  resource?: string;
  /** One resource's id (with `resource`): that thing's whole history. */
  id?: string;
  /** Calendar days `YYYY-MM-DD` in the viewer's time zone, both ends included. */
  from?: string;
  to?: string;
}

export const AUDIT_FILTER_KEYS = ["action", "actor", "resource", "id", "from", "to"] as const;

/** Actions the server records, for suggestions; the filter takes any text. */
export const KNOWN_ACTIONS = [
  "agent.",
  "agent.created",
  "agent.updated",
  "agent.imported",
  "agent.archived",
  "agent.status_changed",
  "agent.version_published",
  "agent.version_restored",
  "api_key.",
  "api_key.created",
  "api_key.revoked",
  "auth.",
  "auth.login",
  "auth.logout",
  "execution.",
  "execution.approved",
  "execution.rejected",
  "execution.cancelled",
  "integration.connected",
  "integration.disconnected",
  "invitation.revoked",
  "member.",
  "member.invited",
  "member.joined",
  "member.role_changed",
  "member.removed",
  "org.created",
  "org.updated",
  "provider_key.",
  "template.installed",
  "template.published",
] as const;

export const RESOURCE_TYPES: Record<string, string> = {
  agent: "Agent",
  api_key: "API key",
  execution: "Execution",
  integration: "Integration",
  invitation: "Invitation",
  member: "Member",
  organization: "Organization",
  provider_credential: "LLM provider key",
  template: "Template",
  user: "User",
};

const ACTION = /^[a-z0-9_.:-]{1,100}$/i;
const RESOURCE = /^[a-z0-9_]{1,50}$/i;
const RESOURCE_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

export function parseAuditFilters(params: Pick<URLSearchParams, "get">): AuditFilters {
  const filters: AuditFilters = {};
  const action = params.get("action")?.trim();
  if (action && ACTION.test(action)) filters.action = action;
  const actor = params.get("actor");
  if (actor && isUuid(actor)) filters.actor = actor.toLowerCase();
  const resource = params.get("resource");
  if (resource && RESOURCE.test(resource)) filters.resource = resource;
  const id = params.get("id");
  if (id && RESOURCE_ID.test(id)) filters.id = id;
  const from = params.get("from");
  if (from && isDay(from)) filters.from = from;
  const to = params.get("to");
  if (to && isDay(to)) filters.to = to;
  return filters;
}

export function auditFiltersToSearch(filters: AuditFilters): string {
  const params = new URLSearchParams();
  for (const key of AUDIT_FILTER_KEYS) {
    const value = filters[key]?.trim();
    if (value) params.set(key, value);
  }
  return params.toString();
}

export function activeAuditFilters(filters: AuditFilters): number {
  return AUDIT_FILTER_KEYS.filter((key) => Boolean(filters[key])).length;
}

/** GET /org/audit-logs parameters; days become instants at the viewer's local midnight. */
export function auditFiltersToQuery(filters: AuditFilters): {
  action?: string;
  actor_id?: string;
  resource_type?: string;
  resource_id?: string;
  since?: string;
  until?: string;
} {
  const query: ReturnType<typeof auditFiltersToQuery> = {};
  if (filters.action) query.action = filters.action;
  if (filters.actor) query.actor_id = filters.actor;
  if (filters.resource) query.resource_type = filters.resource;
  if (filters.id) query.resource_id = filters.id;
  if (filters.from) query.since = localMidnight(filters.from).toISOString();
  // `to` includes its whole day: everything before the next midnight (`until` is exclusive).
  if (filters.to) query.until = localMidnight(filters.to, 1).toISOString();
  return query;
}

/** `member.role_changed` → "Member role changed". */
/** The audit log showing one resource's history, e.g. an agent's (`/settings/audit/?resource=agent&id=…`). */
export function auditHistoryHref(resource: string, id: string): string {
  return `/settings/audit/?${auditFiltersToSearch({ resource, id })}`;
}

export function actionLabel(action: string): string {
  const words = action.replace(/[._]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
