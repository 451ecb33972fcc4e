import { describe, expect, it } from "vitest";

import { categoryCounts, countKinds, integrationsUsed, kindCountLabel, orderSteps, readGraph } from "./graph-summary";

// The shape of the official "Blog post with human approval" template, trimmed.
const approval = {
  nodes: [
    {
      id: "publish",
      type: "action",
      subtype: "tool",
      label: "Publish",
      config: { tool: "wordpress.create_post" },
      position: { x: 1960, y: -240 },
    },
    { id: "brief", type: "trigger", subtype: "manual", label: "Write a brief", position: { x: 0, y: 0 } },
    { id: "draft", type: "ai", subtype: "chat", label: "Draft the post", position: { x: 280, y: 0 } },
    { id: "review", type: "human", subtype: "approval", label: "Review", position: { x: 560, y: 0 } },
    {
      id: "announce",
      type: "action",
      subtype: "tool",
      label: "",
      config: { tool: "slack.post_message" },
      position: { x: 2240, y: -240 },
    },
    {
      id: "tell",
      type: "action",
      subtype: "tool",
      label: "Tell the author",
      config: { tool: "slack.post_message" },
      position: { x: 1680, y: 160 },
    },
  ],
  edges: [
    { source: "brief", target: "draft" },
    { source: "draft", target: "review" },
    { source: "review", target: "publish" },
    { source: "review", target: "tell" },
    { source: "publish", target: "announce" },
  ],
};

describe("orderSteps", () => {
  it("lists steps in run order from the trigger, branches by canvas position", () => {
    const steps = orderSteps(approval, { "action.tool": "Tool action" });
    expect(steps.map((step) => step.id)).toEqual(["brief", "draft", "review", "tell", "publish", "announce"]);
  });

  it("labels steps by their label, else the catalog's name, else the subtype", () => {
    const steps = orderSteps(approval, { "action.tool": "Tool action" });
    expect(steps.find((step) => step.id === "announce")).toEqual({
      id: "announce",
      key: "action.tool",
      type: "action",
      label: "Tool action",
    });
    expect(orderSteps({ nodes: [{ id: "x", type: "logic", subtype: "if_else" }] })[0]?.label).toBe("If else");
  });

  it("still lists every node of a cycle (loops), after the acyclic part", () => {
    const cyclic = {
      nodes: [
        { id: "t", type: "trigger", subtype: "manual", position: { x: 0, y: 0 } },
        { id: "a", type: "logic", subtype: "loop", position: { x: 100, y: 0 } },
        { id: "b", type: "ai", subtype: "chat", position: { x: 200, y: 0 } },
      ],
      edges: [
        { source: "t", target: "a" },
        { source: "a", target: "b" },
        { source: "b", target: "a" },
      ],
    };
    expect(orderSteps(cyclic).map((step) => step.id)).toEqual(["t", "a", "b"]);
  });

  it("copes with malformed definitions", () => {
    expect(orderSteps(null)).toEqual([]);
    expect(orderSteps({ nodes: "no", edges: 3 })).toEqual([]);
    expect(
      readGraph({ nodes: [{ id: 1, type: "ai" }, null, { id: "ok", type: "ai" }], edges: [{ source: "ok" }] }),
    ).toEqual({
      nodes: [{ id: "ok", type: "ai" }],
      edges: [],
    });
  });
});

describe("summaries", () => {
  it("counts nodes by kind in palette order", () => {
    expect(countKinds(approval)).toEqual([
      ["trigger", 1],
      ["ai", 1],
      ["human", 1],
      ["action", 3],
    ]);
  });

  it("pluralises countable kinds only", () => {
    expect(kindCountLabel("action", 3)).toBe("3 Actions");
    expect(kindCountLabel("trigger", 1)).toBe("1 Trigger");
    expect(kindCountLabel("ai", 2)).toBe("2 AI");
  });

  it("names each integration once, brands spelled right", () => {
    expect(integrationsUsed(approval)).toEqual(["Slack", "WordPress"]);
  });

  it("counts categories, sorted by name, skipping blanks", () => {
    expect(
      categoryCounts([
        { category: "Sales" },
        { category: "Marketing" },
        { category: "Sales" },
        { category: null },
        { category: " " },
      ]),
    ).toEqual([
      ["Marketing", 1],
      ["Sales", 2],
    ]);
  });
});
