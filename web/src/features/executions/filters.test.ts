import { describe, expect, it } from "vitest";

import { activeFilterCount, filtersToQuery, filtersToSearch, parseFilters } from "./filters";

const AGENT = "c6ee44a0-0a17-42cf-921c-932e163a2889";

describe("execution filters in the query string", () => {
  it("reads every filter", () => {
    const params = new URLSearchParams(
      `status=failed&agent=${AGENT.toUpperCase()}&trigger=webhook&from=2026-01-01&to=2026-01-31`,
    );
    expect(parseFilters(params)).toEqual({
      status: "failed",
      agent: AGENT,
      trigger: "webhook",
      from: "2026-01-01",
      to: "2026-01-31",
    });
  });

  it("drops what the API would refuse instead of sending it", () => {
    const params = new URLSearchParams(
      "status=exploded&agent=not-a-uuid&trigger=carrier_pigeon&from=2026-02-30&to=yesterday",
    );
    expect(parseFilters(params)).toEqual({});
  });

  it("writes only the filters that are set, in a stable order", () => {
    expect(filtersToSearch({ to: "2026-01-31", status: "running", trigger: undefined })).toBe(
      "status=running&to=2026-01-31",
    );
    expect(filtersToSearch({})).toBe("");
  });

  it("round-trips", () => {
    const filters = { status: "waiting_approval", agent: AGENT, trigger: "schedule", from: "2026-03-01" } as const;
    expect(parseFilters(new URLSearchParams(filtersToSearch(filters)))).toEqual(filters);
  });

  it("counts active filters", () => {
    expect(activeFilterCount({})).toBe(0);
    expect(activeFilterCount({ status: "failed", from: "2026-01-01" })).toBe(2);
  });
});

describe("filters as the API's query", () => {
  it("maps names to the API's parameters", () => {
    expect(filtersToQuery({ status: "completed", agent: AGENT, trigger: "api" })).toEqual({
      status: "completed",
      agent_id: AGENT,
      triggered_by: "api",
    });
  });

  it("turns days into the viewer's local midnights, the end day included", () => {
    const query = filtersToQuery({ from: "2026-01-30", to: "2026-01-31" });
    expect(query.created_after).toBe(new Date(2026, 0, 30).toISOString());
    // Everything before the midnight that ends the 31st (which rolls over into February).
    expect(query.created_before).toBe(new Date(2026, 1, 1).toISOString());
  });

  it("sends nothing for no filters", () => {
    expect(filtersToQuery({})).toEqual({});
  });
});
