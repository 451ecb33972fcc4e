/**
 * API keys on the client: the scopes a key may carry (mirroring SCOPE_PERMISSIONS in
 * agentflow/kit/permissions.py), which of them the signed-in person may grant (a key never holds
 * more than its creator's role), expiry choices, and the one-time reveal of a new key. Pure.
 */
import type { components } from "@/lib/api/schema";

export type ApiKey = components["schemas"]["ApiKeyOut"];
export type CreatedApiKey = components["schemas"]["ApiKeyCreatedOut"];

export interface Scope {
  id: string;
  label: string;
  description: string;
  /** Permissions the scope grants; the creator's role must hold every one. */
  grants: readonly string[];
}

export const SCOPES: readonly Scope[] = [
  {
    id: "agents:read",
    label: "Read agents",
    description: "List agents, their drafts and versions.",
    grants: ["agents.read"],
  },
  {
    id: "agents:write",
    label: "Edit agents",
    description: "Create, edit, publish and import agents.",
    grants: ["agents.read", "agents.write"],
  },
  { id: "agents:delete", label: "Archive agents", description: "Archive agents.", grants: ["agents.delete"] },
  {
    id: "executions:read",
    label: "Read executions",
    description: "Runs, their steps, logs and outputs.",
    grants: ["executions.read"],
  },
  {
    id: "executions:write",
    label: "Run agents",
    description: "Start, approve and cancel runs.",
    grants: ["executions.read", "agents.execute"],
  },
  {
    id: "integrations:read",
    label: "Read integrations",
    description: "Connected integrations (never their secrets).",
    grants: ["integrations.read"],
  },
  {
    id: "knowledge:read",
    label: "Read knowledge",
    description: "Knowledge bases and search.",
    grants: ["knowledge.read"],
  },
  {
    id: "knowledge:write",
    label: "Edit knowledge",
    description: "Upload and remove documents.",
    grants: ["knowledge.read", "knowledge.write"],
  },
  {
    id: "analytics:read",
    label: "Read analytics",
    description: "Usage, tokens and costs.",
    grants: ["analytics.read"],
  },
  {
    id: "org:read",
    label: "Read organization",
    description: "The organization and its members.",
    grants: ["org.read"],
  },
  { id: "audit:read", label: "Read audit log", description: "The organization's audit trail.", grants: ["audit.read"] },
];

export const DEFAULT_SCOPES: readonly string[] = ["agents:read", "agents:write", "executions:read"];

const SCOPE_LABELS = new Map(SCOPES.map((scope) => [scope.id, scope.label]));

export function scopeLabel(id: string): string {
  return SCOPE_LABELS.get(id) ?? id;
}

/** Whether someone with these permissions may put this scope on a key. */
export function canGrant(scope: Scope, permissions: readonly string[]): boolean {
  return scope.grants.every((permission) => permissions.includes(permission));
}

/** The default selection, minus what this person cannot grant. */
export function initialScopes(permissions: readonly string[]): string[] {
  return SCOPES.filter((scope) => DEFAULT_SCOPES.includes(scope.id) && canGrant(scope, permissions)).map(
    (scope) => scope.id,
  );
}

/** Toggle one scope, keeping the selection in the catalog's order and free of unknown ids. */
export function toggleScope(selected: readonly string[], id: string, on: boolean): string[] {
  const next = new Set(selected);
  if (on) next.add(id);
  else next.delete(id);
  return SCOPES.filter((scope) => next.has(scope.id)).map((scope) => scope.id);
}

export const EXPIRY_CHOICES = [
  { value: "never", label: "Never" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In 1 year" },
  { value: "custom", label: "On a date…" },
] as const;
export type ExpiryChoice = (typeof EXPIRY_CHOICES)[number]["value"];

/**
 * `expires_at` for the API (ISO with time zone), or null for a key that never expires. A custom
 * date means the end of that day in the viewer's time zone. Throws a message when it is unusable.
 */
export function expiryToIso(choice: ExpiryChoice, customDay: string, now: Date = new Date()): string | null {
  if (choice === "never") return null;
  if (choice === "custom") {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(customDay);
    if (!match) throw new Error("Pick the day the key expires.");
    const end = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 23, 59, 59);
    if (end.getTime() <= now.getTime()) throw new Error("Pick a day in the future.");
    return end.toISOString();
  }
  return new Date(now.getTime() + Number(choice) * 24 * 3600 * 1000).toISOString();
}

/** How a key stands now: revoked by someone, past its expiry, or active. */
export function keyState(
  key: Pick<ApiKey, "status" | "expires_at">,
  now: number = Date.now(),
): "active" | "revoked" | "expired" {
  if (key.status === "revoked") return "revoked";
  if (key.status === "expired") return "expired";
  if (key.expires_at && new Date(key.expires_at).getTime() <= now) return "expired";
  return "active";
}

/* The create dialog: a form, then the new key shown once. The secret lives only in this state
 * and is dropped when the dialog closes. */
export type KeyDialogState = { step: "form" } | { step: "reveal"; key: CreatedApiKey; copied: boolean };

export type KeyDialogAction = { type: "created"; key: CreatedApiKey } | { type: "copied" } | { type: "reset" };

export function keyDialogReducer(state: KeyDialogState, action: KeyDialogAction): KeyDialogState {
  switch (action.type) {
    case "created":
      return { step: "reveal", key: action.key, copied: false };
    case "copied":
      return state.step === "reveal" ? { ...state, copied: true } : state;
    case "reset":
      return { step: "form" };
  }
}
