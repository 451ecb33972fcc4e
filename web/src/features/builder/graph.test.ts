import { describe, expect, it } from "vitest";

import { parseCatalog } from "./catalog";
import { enclosingLoops, freeSpot, fromDefinition, newEdgeId, newNodeId, toDefinition, upstreamNodes } from "./graph";
import { NODE_TYPES_FIXTURE } from "./test-fixtures";
import type { Definition, DefinitionNode } from "./types";
import { insertReference, sampleFields, variablesFor } from "./variables";

const catalog = parseCatalog(NODE_TYPES_FIXTURE);

function node(id: string, kind: string, config: Record<string, unknown> = {}, label?: string): DefinitionNode {
  const [type = "", subtype = ""] = kind.split(".");
  return { id, type, subtype, config, position: { x: 0, y: 0 }, ...(label ? { label } : {}) };
}

function graph(nodes: DefinitionNode[], edges: [string, string, string][]) {
  const definition: Definition = {
    schema_version: 1,
    nodes,
    edges: edges.map(([source, handle, target], index) => ({ id: `e${index}`, source, source_handle: handle, target })),
  };
  return fromDefinition(definition);
}

// start → fetch → each(loop) ─loop_body→ body1 → body2 ─→ each (closes the loop)
//                          └─done→ after;  side branch: start → side
const loopGraph = graph(
  [
    node("start", "trigger.manual", {
      input_schema: { type: "object", properties: { name: { type: "string" }, "bad key": { type: "string" } } },
    }),
    node("fetch", "ai.chat", { prompt: "x" }, "Fetch rows"),
    node("each", "logic.loop", { items: "{{fetch.output.data}}" }),
    node("body1", "transform.set_variables", { variables: { total: 1, name: "x" } }),
    node("body2", "transform.template", { template: "{{loop.item}}" }),
    node("after", "transform.template", { template: "done" }),
    node("side", "transform.template", { template: "side" }),
  ],
  [
    ["start", "out", "fetch"],
    ["fetch", "out", "each"],
    ["each", "loop_body", "body1"],
    ["body1", "out", "body2"],
    ["body2", "out", "each"],
    ["each", "done", "after"],
    ["start", "out", "side"],
  ],
);

describe("upstreamNodes", () => {
  it("walks the graph backwards, nearest first", () => {
    expect(upstreamNodes("body2", loopGraph.nodes, loopGraph.edges)).toEqual(["body1", "each", "fetch", "start"]);
  });

  it("does not follow a loop-closing edge back into the body", () => {
    // `after` is reached through `each`; the body's last node leads into `each` only to close the loop.
    expect(upstreamNodes("after", loopGraph.nodes, loopGraph.edges)).toEqual(["each", "fetch", "start"]);
    expect(upstreamNodes("each", loopGraph.nodes, loopGraph.edges)).toEqual(["fetch", "start"]);
  });

  it("leaves out parallel branches and the node itself", () => {
    expect(upstreamNodes("side", loopGraph.nodes, loopGraph.edges)).toEqual(["start"]);
    expect(upstreamNodes("start", loopGraph.nodes, loopGraph.edges)).toEqual([]);
  });

  it("knows which loops a node is inside", () => {
    expect(enclosingLoops("body2", loopGraph.nodes, loopGraph.edges)).toEqual(["each"]);
    expect(enclosingLoops("after", loopGraph.nodes, loopGraph.edges)).toEqual([]);
  });
});

describe("ids", () => {
  it("makes node ids from the subtype, unique and never reserved", () => {
    expect(newNodeId("chat", new Set())).toBe("chat");
    expect(newNodeId("chat", new Set(["chat", "chat_2"]))).toBe("chat_3");
    expect(newNodeId("loop", new Set())).toBe("loop_1");
    expect(newNodeId("manual", new Set())).toBe("manual");
    expect(newNodeId("9-Weird Name!", new Set())).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
  });

  it("makes edge ids within the server's pattern", () => {
    expect(newEdgeId("a", "out", "b", new Set())).toBe("e_a_out_b");
    expect(newEdgeId("a", "out", "b", new Set(["e_a_out_b"]))).toBe("e_a_out_b_2");
    const long = newEdgeId("a".repeat(64), "out", "b".repeat(64), new Set());
    expect(long.length).toBeLessThanOrEqual(100);
    expect(long).toMatch(/^[A-Za-z0-9_.:-]{1,100}$/);
  });
});

describe("definition round trip", () => {
  it("keeps labels, handles and edge labels, and rounds positions", () => {
    const definition: Definition = {
      schema_version: 1,
      nodes: [
        { ...node("a", "logic.if_else", {}, "Check"), position: { x: 10.04, y: -3.26 } },
        node("b", "transform.template", { template: "x" }),
      ],
      edges: [{ id: "e1", source: "a", source_handle: "false", target: "b", label: "No" }],
    };
    const { nodes, edges } = fromDefinition(definition);
    expect(edges[0]).toMatchObject({ sourceHandle: "false", targetHandle: "in", label: "No" });
    const back = toDefinition(nodes, edges);
    expect(back.nodes[0]).toEqual({ ...definition.nodes[0], position: { x: 10, y: -3.3 } });
    expect(back.nodes[1]).toEqual(definition.nodes[1]);
    expect(back.edges).toEqual(definition.edges);
  });
});

describe("variable picker", () => {
  it("lists trigger fields, upstream outputs (nearest first), variables, loop and execution", () => {
    const groups = variablesFor("body2", loopGraph.nodes, loopGraph.edges, catalog, {
      fetch: { text: "x", rows: { first: 1 } },
    });
    expect(groups.map((group) => group.id)).toEqual([
      "trigger",
      "body1",
      "each",
      "fetch",
      "start",
      "vars",
      "loop",
      "execution",
    ]);
    const expressions = (id: string) =>
      groups.find((group) => group.id === id)?.options.map((option) => option.expression);
    expect(expressions("trigger")).toEqual(["trigger.data", "trigger.data.name"]);
    expect(expressions("fetch")).toEqual(
      expect.arrayContaining([
        "fetch.output",
        "fetch.output.text",
        "fetch.output.data",
        "fetch.output.rows",
        "fetch.output.rows.first",
      ]),
    );
    expect(expressions("vars")).toEqual(["vars.total", "vars.name"]);
    expect(expressions("loop")).toEqual(["loop.item", "loop.index"]);
    expect(groups.find((group) => group.id === "fetch")?.label).toBe("Fetch rows (fetch)");
  });

  it("offers no loop values or variables outside a loop body", () => {
    const groups = variablesFor("side", loopGraph.nodes, loopGraph.edges, catalog);
    expect(groups.map((group) => group.id)).toEqual(["trigger", "start", "execution"]);
  });

  it("reads sample outputs two levels deep, identifiers only", () => {
    expect(sampleFields({ a: 1, b: { c: 2, "d-e": 3 }, "x y": 4 })).toEqual(["a", "b", "b.c"]);
    expect(sampleFields("text")).toEqual([]);
  });

  it("inserts a reference at the cursor, replacing the selection", () => {
    expect(insertReference("Hello !", "trigger.data.name", 6, 6)).toEqual({
      text: "Hello {{trigger.data.name}}!",
      cursor: 27,
    });
    expect(insertReference("Hello XX", "a.output", 6, 8)).toEqual({ text: "Hello {{a.output}}", cursor: 18 });
    expect(insertReference("end", "x", null, null)).toEqual({ text: "end{{x}}", cursor: 8 });
  });
});

describe("freeSpot", () => {
  it("keeps the point when it is free, and otherwise finds the nearest spot clear of every node", () => {
    expect(freeSpot({ x: 0, y: 0 }, [])).toEqual({ x: 0, y: 0 });
    const taken = [
      { x: 0, y: 0, width: 240, height: 80 },
      { x: 0, y: 110, width: 240, height: 80 },
    ];
    const spot = freeSpot({ x: 10, y: 10 }, taken);
    expect(spot).not.toEqual({ x: 10, y: 10 });
    for (const rect of taken) {
      const apart =
        spot.x >= rect.x + rect.width ||
        spot.x + 240 <= rect.x ||
        spot.y >= rect.y + rect.height ||
        spot.y + 80 <= rect.y;
      expect(apart).toBe(true);
    }
  });
});
