import { describe, expect, it } from "vitest";

import { sectionForPath, visibleSections } from "./sections";
import { assignableRoles, isRole } from "./roles";

// What /auth/me lists for each role (kit/permissions.py).
const VIEWER = ["org.read", "agents.read", "executions.read", "integrations.read", "knowledge.read", "analytics.read"];
const EDITOR = [...VIEWER, "agents.write", "agents.execute", "knowledge.write"];
const ADMIN = [
  ...EDITOR,
  "org.manage",
  "members.manage",
  "api_keys.manage",
  "audit.read",
  "agents.delete",
  "integrations.manage",
];

describe("visibleSections", () => {
  it("shows viewers and editors the organization, its members and its integrations (to read)", () => {
    expect(visibleSections(VIEWER).map((section) => section.id)).toEqual(["org", "members", "integrations"]);
    expect(visibleSections(EDITOR).map((section) => section.id)).toEqual(["org", "members", "integrations"]);
  });

  it("shows admins everything", () => {
    expect(visibleSections(ADMIN).map((section) => section.id)).toEqual([
      "org",
      "members",
      "api-keys",
      "integrations",
      "providers",
      "audit",
    ]);
  });

  it("shows nothing before the session is known", () => {
    expect(visibleSections(undefined)).toEqual([]);
  });
});

describe("sectionForPath", () => {
  it("matches with or without the trailing slash", () => {
    expect(sectionForPath("/settings/")?.id).toBe("org");
    expect(sectionForPath("/settings")?.id).toBe("org");
    expect(sectionForPath("/settings/api-keys")?.id).toBe("api-keys");
    expect(sectionForPath("/settings/audit/?action=agent.")?.id).toBe("audit");
    expect(sectionForPath("/settings/nope/")).toBeUndefined();
  });
});

describe("assignableRoles", () => {
  it("lets only owners grant ownership", () => {
    expect(assignableRoles("owner")).toEqual(["owner", "admin", "editor", "viewer"]);
    expect(assignableRoles("admin")).toEqual(["admin", "editor", "viewer"]);
  });

  it("keeps Owner listed for someone who is one, so their role shows", () => {
    expect(assignableRoles("admin", "owner")).toEqual(["owner", "admin", "editor", "viewer"]);
  });

  it("knows the API's roles", () => {
    expect(isRole("editor")).toBe(true);
    expect(isRole("superuser")).toBe(false);
  });
});
