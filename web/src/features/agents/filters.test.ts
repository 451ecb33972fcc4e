import { describe, expect, it } from "vitest";

import {
  agentFiltersToQuery,
  agentFiltersToSearch,
  builderHref,
  cleanQuery,
  isFiltered,
  parseAgentFilters,
} from "./filters";

const params = (query: string) => new URLSearchParams(query);

describe("parseAgentFilters", () => {
  it("reads every known filter", () => {
    expect(parseAgentFilters(params("q=digest&status=paused&trigger=webhook&sort=name"))).toEqual({
      q: "digest",
      status: "paused",
      trigger: "webhook",
      sort: "name",
    });
  });

  it("drops values the API would refuse and the default sort", () => {
    expect(parseAgentFilters(params("status=deleted&trigger=email&sort=updated&q=%20%20"))).toEqual({});
  });

  it("trims the search, strips NUL and caps it at 255 characters", () => {
    expect(parseAgentFilters(params(`q=${encodeURIComponent("  a\u0000b  ")}`)).q).toBe("ab");
    expect(parseAgentFilters(params(`q=${"x".repeat(300)}`)).q).toHaveLength(255);
  });
});

describe("agentFiltersToSearch", () => {
  it("round-trips through parse in a stable key order", () => {
    const search = agentFiltersToSearch({ sort: "created", trigger: "api", status: "active", q: "lead router" });
    expect(search).toBe("q=lead+router&status=active&trigger=api&sort=created");
    expect(parseAgentFilters(params(search))).toEqual({
      q: "lead router",
      status: "active",
      trigger: "api",
      sort: "created",
    });
  });

  it("leaves out empties and the default sort", () => {
    expect(agentFiltersToSearch({ q: "   ", sort: "updated" })).toBe("");
  });
});

describe("agentFiltersToQuery", () => {
  it("sorts by last update, newest first, by default", () => {
    expect(agentFiltersToQuery({})).toEqual({ sort: "updated_at", order: "desc" });
  });

  it("sorts names A to Z and maps the trigger filter", () => {
    expect(agentFiltersToQuery({ sort: "name", trigger: "schedule", status: "archived", q: " x " })).toEqual({
      sort: "name",
      order: "asc",
      trigger_type: "schedule",
      status: "archived",
      q: "x",
    });
  });

  it("sorts by creation when asked", () => {
    expect(agentFiltersToQuery({ sort: "created" })).toEqual({ sort: "created_at", order: "desc" });
  });
});

describe("helpers", () => {
  it("says whether anything narrows the list (sorting does not)", () => {
    expect(isFiltered({ sort: "name" })).toBe(false);
    expect(isFiltered({ q: " " })).toBe(false);
    expect(isFiltered({ status: "draft" })).toBe(true);
  });

  it("cleanQuery gives undefined for nothing", () => {
    expect(cleanQuery(null)).toBeUndefined();
    expect(cleanQuery("\u0000 ")).toBeUndefined();
  });

  it("links to the builder with a trailing slash before the query", () => {
    expect(builderHref("a b")).toBe("/agents/builder/?id=a%20b");
  });
});
