import { describe, expect, it } from "vitest";

import {
  actionLabel,
  activeAuditFilters,
  auditFiltersToQuery,
  auditFiltersToSearch,
  parseAuditFilters,
} from "./audit-filters";

const USER = "2b49c258-3698-4c39-a04b-412ca204d811";

describe("audit filters in the URL", () => {
  it("round-trips every filter", () => {
    const filters = { action: "member.", actor: USER, resource: "agent", from: "2026-01-01", to: "2026-01-31" };
    const search = auditFiltersToSearch(filters);
    expect(search).toBe(`action=member.&actor=${USER}&resource=agent&from=2026-01-01&to=2026-01-31`);
    expect(parseAuditFilters(new URLSearchParams(search))).toEqual(filters);
  });

  it("drops malformed values instead of sending them", () => {
    expect(
      parseAuditFilters(new URLSearchParams("action=drop table;&actor=me&resource=a b&from=2026-02-30&to=yesterday")),
    ).toEqual({});
  });

  it("counts active filters", () => {
    expect(activeAuditFilters({})).toBe(0);
    expect(activeAuditFilters({ action: "agent.", to: "2026-01-01" })).toBe(2);
  });
});

describe("auditFiltersToQuery", () => {
  it("names the API's parameters", () => {
    expect(auditFiltersToQuery({ action: "agent.created", actor: USER, resource: "agent" })).toEqual({
      action: "agent.created",
      actor_id: USER,
      resource_type: "agent",
    });
  });

  it("turns days into local midnights, `to` including its whole day", () => {
    const query = auditFiltersToQuery({ from: "2026-01-10", to: "2026-01-10" });
    expect(new Date(query.since!).getTime()).toBe(new Date(2026, 0, 10).getTime());
    expect(new Date(query.until!).getTime()).toBe(new Date(2026, 0, 11).getTime());
  });
});

describe("actionLabel", () => {
  it("reads an action as words", () => {
    expect(actionLabel("member.role_changed")).toBe("Member role changed");
  });
});
