import { describe, expect, it } from "vitest";

import { LIST_IDLE_POLL_MS, LIST_POLL_MS, definitionNodes, flattenPages, listPollInterval } from "./queries";

describe("list polling", () => {
  it("stops when every visible run is finished", () => {
    expect(listPollInterval([])).toBe(false);
    expect(listPollInterval([{ status: "completed" }, { status: "failed" }, { status: "cancelled" }])).toBe(false);
  });

  it("polls fast while a run works or is about to", () => {
    expect(listPollInterval([{ status: "completed" }, { status: "running" }])).toBe(LIST_POLL_MS);
    expect(listPollInterval([{ status: "waiting_approval" }, { status: "pending" }])).toBe(LIST_POLL_MS);
    expect(listPollInterval([{ status: "queued" }])).toBe(LIST_POLL_MS);
  });

  it("polls gently while runs only wait for a person or a delay", () => {
    expect(listPollInterval([{ status: "waiting_approval" }, { status: "parked" }])).toBe(LIST_IDLE_POLL_MS);
  });
});

describe("pages and definitions", () => {
  it("flattens loaded pages in order", () => {
    const data = { pages: [{ items: [1, 2] }, { items: [3] }], pageParams: [undefined, "c"] };
    expect(flattenPages(data)).toEqual([1, 2, 3]);
    expect(flattenPages(undefined)).toEqual([]);
  });

  it("indexes a definition's nodes by id, with type key and label", () => {
    const nodes = definitionNodes({
      nodes: [
        { id: "approve", type: "human", subtype: "approval", label: "Manager approval", config: { timeout_hours: 48 } },
        { id: "start", type: "trigger", subtype: "manual", config: {} },
        { type: "broken" },
      ],
    });
    expect(Object.keys(nodes)).toEqual(["approve", "start"]);
    expect(nodes.approve).toEqual({
      id: "approve",
      type: "human.approval",
      label: "Manager approval",
      config: { timeout_hours: 48 },
    });
    expect(nodes.start?.label).toBeNull();
    expect(definitionNodes(null)).toEqual({});
  });
});
