/** Org roles as the API names them (models/orgs.Role), strongest first. Pure. */
import type { components } from "@/lib/api/schema";

export type Role = components["schemas"]["Role"];

export const ROLES: readonly Role[] = ["owner", "admin", "editor", "viewer"];

export const ROLE_LABELS: Record<Role, string> = {
  owner: "Owner",
  admin: "Admin",
  editor: "Editor",
  viewer: "Viewer",
};

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  owner: "Everything, including billing and other owners.",
  admin: "Manages members, API keys, providers and the audit log.",
  editor: "Builds, publishes and runs agents.",
  viewer: "Sees agents and runs; changes nothing.",
};

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/**
 * The roles to offer when inviting or changing someone's role. Only an owner grants ownership;
 * a member who already is an owner keeps "Owner" in the list so their current role shows (the
 * server decides whether the change is allowed, and says why not).
 */
export function assignableRoles(myRole: string | null | undefined, currentRole?: Role): Role[] {
  return ROLES.filter((role) => role !== "owner" || myRole === "owner" || currentRole === "owner");
}
