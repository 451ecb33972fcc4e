import { describe, expect, it } from "vitest";

import { outputHandles, parseCatalog } from "./catalog";
import { connectionProblem, isValidConnection } from "./connection";
import { fromDefinition } from "./graph";
import { NODE_TYPES_FIXTURE } from "./test-fixtures";
import type { Definition, DefinitionNode } from "./types";

const catalog = parseCatalog(NODE_TYPES_FIXTURE);

function node(id: string, kind: string, config: Record<string, unknown> = {}): DefinitionNode {
  const [type = "", subtype = ""] = kind.split(".");
  return { id, type, subtype, config, position: { x: 0, y: 0 } };
}

function graph(nodes: DefinitionNode[], edges: [string, string, string][] = []) {
  const definition: Definition = {
    schema_version: 1,
    nodes,
    edges: edges.map(([source, handle, target], index) => ({ id: `e${index}`, source, source_handle: handle, target })),
  };
  return fromDefinition(definition);
}

const base = graph(
  [
    node("start", "trigger.manual"),
    node("classify", "ai.classify", { input: "x", categories: [{ key: "sales" }, { key: "support" }] }),
    node("ok", "transform.template", { template: "ok" }),
    node("check", "logic.if_else"),
    node("review", "human.approval", { approvers: ["owner"] }),
  ],
  [["start", "out", "classify"]],
);

function problem(source: string, sourceHandle: string, target: string, g = base) {
  return connectionProblem({ source, sourceHandle, target, targetHandle: "in" }, g.nodes, g.edges, catalog);
}

describe("connection rules", () => {
  it("accepts a plain connection", () => {
    expect(problem("classify", "sales", "ok")).toBeNull();
    expect(
      isValidConnection({ source: "review", sourceHandle: "rejected", target: "ok" }, base.nodes, base.edges, catalog),
    ).toBe(true);
  });

  it("refuses a self-loop", () => {
    expect(problem("ok", "out", "ok")).toMatch(/itself/);
  });

  it("refuses an edge into a trigger", () => {
    expect(problem("ok", "out", "start")).toMatch(/trigger/);
  });

  it("refuses a duplicate edge, but not the same pair on another handle", () => {
    expect(problem("start", "out", "classify")).toMatch(/already connected/);
    const withSales = graph(
      [node("a", "logic.if_else"), node("b", "transform.template", { template: "x" })],
      [["a", "true", "b"]],
    );
    expect(problem("a", "true", "b", withSales)).toMatch(/already/);
    expect(problem("a", "false", "b", withSales)).toBeNull();
  });

  it("refuses handles the source does not offer, following the config for dynamic ones", () => {
    expect(problem("classify", "billing", "ok")).toMatch(/no output “billing”/);
    expect(problem("classify", "error", "ok")).toBeNull();
    expect(problem("check", "out", "ok")).toMatch(/no output/);
    expect(problem("check", "true", "ok")).toBeNull();
    expect(problem("review", "timed_out", "ok")).toBeNull();
  });

  it("refuses a target handle that is not the node's input", () => {
    expect(
      connectionProblem(
        { source: "check", sourceHandle: "true", target: "ok", targetHandle: "x" },
        base.nodes,
        base.edges,
        catalog,
      ),
    ).toMatch(/input/);
  });

  it("refuses missing ends and unknown nodes", () => {
    expect(connectionProblem({ source: null, target: "ok" }, base.nodes, base.edges, catalog)).toMatch(/both ends/);
    expect(problem("ghost", "out", "ok")).toMatch(/no longer exists/);
  });

  it("refuses a cycle", () => {
    const chain = graph(
      [node("start", "trigger.manual"), node("a", "transform.template"), node("b", "transform.template")],
      [
        ["start", "out", "a"],
        ["a", "out", "b"],
      ],
    );
    expect(problem("b", "out", "a", chain)).toMatch(/cycle/);
  });

  it("allows a loop body to lead back into its loop node, and nothing else back", () => {
    const loop = graph(
      [
        node("start", "trigger.manual"),
        node("each", "logic.loop", { items: "{{trigger.data.rows}}" }),
        node("work", "transform.template"),
        node("after", "transform.template"),
      ],
      [
        ["start", "out", "each"],
        ["each", "loop_body", "work"],
        ["each", "done", "after"],
      ],
    );
    expect(problem("work", "out", "each", loop)).toBeNull();
    expect(problem("after", "out", "each", loop)).toMatch(/cycle/);
    expect(problem("after", "out", "start", loop)).toMatch(/trigger/);
  });
});

describe("outputHandles", () => {
  it("puts dynamic handles from the config before the static ones, skipping blanks and repeats", () => {
    const info = catalog.get("ai.classify");
    const handles = outputHandles(info, { categories: [{ key: "a" }, { key: "" }, { key: "b" }, { key: "a" }] });
    expect(handles.map((handle) => handle.id)).toEqual(["a", "b", "error"]);
  });

  it("gives the static outputs when the config has no list", () => {
    expect(outputHandles(catalog.get("logic.switch"), {}).map((handle) => handle.id)).toEqual(["default"]);
    expect(outputHandles(undefined, {})).toEqual([]);
  });
});
