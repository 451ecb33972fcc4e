import { describe, expect, it } from "vitest";

import {
  actionLabel,
  auditHistoryHref,
  activeAuditFilters,
  auditFiltersToQuery,
  auditFiltersToSearch,
  parseAuditFilters,
} from "./audit-filters";

const USER = "2b49c258-3698-4c39-a04b-412ca204d811";

describe("audit filters in the URL", () => {
  it("round-trips every filter", () => {
    const filters = {
      action: "member.",
      actor: USER,
      resource: "agent",
      id: USER,
      from: "2026-01-01",
      to: "2026-01-31",
    };
    const search = auditFiltersToSearch(filters);
    expect(search).toBe(`action=member.&actor=${USER}&resource=agent&id=${USER}&from=2026-01-01&to=2026-01-31`);
    expect(parseAuditFilters(new URLSearchParams(search))).toEqual(filters);
  });

  it("drops malformed values instead of sending them", () => {
    expect(
      parseAuditFilters(
        new URLSearchParams("action=drop table;&actor=me&resource=a b&id=x y&from=2026-02-30&to=yesterday"),
      ),
    ).toEqual({});
  });

  it("counts active filters", () => {
    expect(activeAuditFilters({})).toBe(0);
    expect(activeAuditFilters({ action: "agent.", to: "2026-01-01" })).toBe(2);
  });
});

describe("auditFiltersToQuery", () => {
  it("names the API's parameters", () => {
    expect(auditFiltersToQuery({ action: "agent.created", actor: USER, resource: "agent", id: USER })).toEqual({
      action: "agent.created",
      actor_id: USER,
      resource_type: "agent",
      resource_id: USER,
    });
  });

  it("turns days into local midnights, `to` including its whole day", () => {
    const query = auditFiltersToQuery({ from: "2026-01-10", to: "2026-01-10" });
    expect(new Date(query.since!).getTime()).toBe(new Date(2026, 0, 10).getTime());
    expect(new Date(query.until!).getTime()).toBe(new Date(2026, 0, 11).getTime());
  });
});

describe("auditHistoryHref", () => {
  it("links to one resource's history, which parses back to the same filters", () => {
    const href = auditHistoryHref("agent", USER);
    expect(href).toBe(`/settings/audit/?resource=agent&id=${USER}`);
    expect(parseAuditFilters(new URL(href, "http://x").searchParams)).toEqual({ resource: "agent", id: USER });
  });
});

describe("actionLabel", () => {
  it("reads an action as words", () => {
    expect(actionLabel("member.role_changed")).toBe("Member role changed");
  });
});
