import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { parseCatalog } from "./catalog";
import { COALESCE_MS, HISTORY_LIMIT, PASTE_OFFSET, resetBuilderStore, useBuilderStore, useIssueStore } from "./store";
import { NODE_TYPES_FIXTURE } from "./test-fixtures";
import type { Definition } from "./types";

const catalog = parseCatalog(NODE_TYPES_FIXTURE);

const DEFINITION: Definition = {
  schema_version: 1,
  nodes: [
    { id: "start", type: "trigger", subtype: "manual", config: {}, position: { x: 0, y: 0 } },
    {
      id: "greet",
      type: "transform",
      subtype: "template",
      label: "Greet",
      config: { template: "Hi {{trigger.data.name}}" },
      position: { x: 280, y: 0 },
    },
  ],
  edges: [{ id: "e1", source: "start", source_handle: "out", target: "greet" }],
};

const store = () => useBuilderStore.getState();
const ids = () => store().nodes.map((node) => node.id);

beforeEach(() => {
  resetBuilderStore();
  store().load(DEFINITION, catalog);
});
afterEach(() => vi.useRealTimers());

describe("load and serialise", () => {
  it("round-trips a definition", () => {
    expect(store().definition()).toEqual(DEFINITION);
    expect(store().changeSeq).toBe(0);
    expect(store().past).toHaveLength(0);
  });
});

describe("addNode", () => {
  it("adds a node with fresh id, default config, selected alone", () => {
    const id = store().addNode("ai.chat", { x: 10, y: 20 });
    expect(id).toBe("chat");
    const node = store().nodes.find((n) => n.id === "chat");
    expect(node?.data.config).toMatchObject({ model: "gpt-4o-mini", temperature: 0.7, prompt: "" });
    expect(node?.position).toEqual({ x: 10, y: 20 });
    expect(store().selectedNodeId).toBe("chat");
    expect(
      store()
        .nodes.filter((n) => n.selected)
        .map((n) => n.id),
    ).toEqual(["chat"]);
    expect(store().changeSeq).toBe(1);
    expect(store().addNode("ai.chat", { x: 0, y: 0 })).toBe("chat_2");
  });

  it("refuses unknown kinds and read-only graphs", () => {
    expect(store().addNode("nope.nothing", { x: 0, y: 0 })).toBeNull();
    store().setReadOnly(true);
    expect(store().addNode("ai.chat", { x: 0, y: 0 })).toBeNull();
    expect(ids()).toEqual(["start", "greet"]);
  });

  it("never uses a reserved template root as id", () => {
    expect(store().addNode("logic.loop", { x: 0, y: 0 })).toBe("loop_1");
  });
});

describe("connect", () => {
  it("adds a valid edge and refuses invalid ones with a reason", () => {
    store().addNode("ai.chat", { x: 0, y: 0 });
    expect(store().connect({ source: "greet", sourceHandle: "out", target: "chat" })).toBeNull();
    expect(store().definition().edges.at(-1)).toEqual({
      id: "e_greet_out_chat",
      source: "greet",
      source_handle: "out",
      target: "chat",
    });
    expect(store().connect({ source: "greet", sourceHandle: "out", target: "chat" })).toMatch(/already connected/);
    expect(store().connect({ source: "chat", sourceHandle: "out", target: "start" })).toMatch(/trigger/);
    expect(store().connect({ source: "chat", sourceHandle: "out", target: "chat" })).toMatch(/itself/);
    expect(store().edges).toHaveLength(2);
  });
});

describe("delete", () => {
  it("removes selected nodes with their edges, and selected edges", () => {
    store().selectNode("greet");
    store().deleteSelection();
    expect(ids()).toEqual(["start"]);
    expect(store().edges).toHaveLength(0);
    expect(store().selectedNodeId).toBeNull();
  });

  it("removes a single edge", () => {
    store().removeEdge("e1");
    expect(store().edges).toHaveLength(0);
    expect(ids()).toEqual(["start", "greet"]);
  });

  it("does nothing (and records nothing) without a selection", () => {
    store().deleteSelection();
    expect(store().past).toHaveLength(0);
    expect(store().changeSeq).toBe(0);
  });
});

describe("undo and redo", () => {
  it("walks back and forth through changes", () => {
    store().addNode("ai.chat", { x: 0, y: 0 });
    store().connect({ source: "greet", target: "chat", sourceHandle: "out" });
    expect(store().edges).toHaveLength(2);
    store().undo();
    expect(store().edges).toHaveLength(1);
    expect(ids()).toContain("chat");
    store().undo();
    expect(ids()).toEqual(["start", "greet"]);
    store().undo(); // nothing left: no change
    expect(ids()).toEqual(["start", "greet"]);
    store().redo();
    store().redo();
    expect(ids()).toContain("chat");
    expect(store().edges).toHaveLength(2);
  });

  it("drops the redo stack on a new change", () => {
    store().addNode("ai.chat", { x: 0, y: 0 });
    store().undo();
    expect(store().future).toHaveLength(1);
    store().updateLabel("greet", "Hello");
    expect(store().future).toHaveLength(0);
  });

  it("coalesces typing into the same field into one step", () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    store().updateConfig("greet", { template: "H" });
    vi.setSystemTime(1_000_000 + 200);
    store().updateConfig("greet", { template: "He" });
    vi.setSystemTime(1_000_000 + 400);
    store().updateConfig("greet", { template: "Hey" });
    expect(store().past).toHaveLength(1);
    vi.setSystemTime(1_000_000 + 400 + COALESCE_MS + 1);
    store().updateConfig("greet", { template: "Hey!" });
    expect(store().past).toHaveLength(2);
    store().undo();
    expect(store().nodes[1]?.data.config).toEqual({ template: "Hey" });
    store().undo();
    expect(store().nodes[1]?.data.config).toEqual({ template: "Hi {{trigger.data.name}}" });
  });

  it("keeps at most HISTORY_LIMIT steps", () => {
    for (let index = 0; index < HISTORY_LIMIT + 20; index += 1)
      store().addNode("transform.template", { x: index, y: 0 });
    expect(store().past).toHaveLength(HISTORY_LIMIT);
  });

  it("records a drag once, at its start, and counts it as a change at its end", () => {
    store().onNodesChange([{ type: "position", id: "greet", position: { x: 300, y: 0 }, dragging: true }]);
    store().onNodesChange([{ type: "position", id: "greet", position: { x: 320, y: 5 }, dragging: true }]);
    expect(store().past).toHaveLength(1);
    expect(store().changeSeq).toBe(0);
    store().onNodesChange([{ type: "position", id: "greet", position: { x: 320, y: 5 }, dragging: false }]);
    expect(store().changeSeq).toBe(1);
    expect(store().definition().nodes[1]?.position).toEqual({ x: 320, y: 5 });
    store().undo();
    expect(store().definition().nodes[1]?.position).toEqual({ x: 280, y: 0 });
  });

  it("records arrow-key nudges as one undo step", () => {
    store().onNodesChange([{ type: "position", id: "greet", position: { x: 290, y: 0 }, dragging: false }]);
    store().onNodesChange([{ type: "position", id: "greet", position: { x: 300, y: 0 }, dragging: false }]);
    expect(store().changeSeq).toBe(2);
    expect(store().past).toHaveLength(1);
    store().undo();
    expect(store().definition().nodes[1]?.position).toEqual({ x: 280, y: 0 });
  });

  it("does not count selection or measuring as changes", () => {
    store().onNodesChange([{ type: "select", id: "greet", selected: true }]);
    store().onNodesChange([{ type: "dimensions", id: "greet", dimensions: { width: 240, height: 60 } }]);
    expect(store().changeSeq).toBe(0);
    expect(store().past).toHaveLength(0);
    expect(store().selectedNodeId).toBe("greet");
  });
});

describe("copy and paste", () => {
  it("pastes copies with new ids, offset, their inner edges, selected", () => {
    store().selectAll();
    expect(store().copySelection()).toBe(2);
    expect(store().paste()).toBe(2);
    expect(ids()).toEqual(["start", "greet", "manual", "template"]);
    const pasted = store().nodes.slice(2);
    expect(pasted.map((node) => node.position)).toEqual([
      { x: PASTE_OFFSET, y: PASTE_OFFSET },
      { x: 280 + PASTE_OFFSET, y: PASTE_OFFSET },
    ]);
    expect(pasted.every((node) => node.selected)).toBe(true);
    expect(
      store()
        .nodes.slice(0, 2)
        .some((node) => node.selected),
    ).toBe(false);
    const edge = store().edges.at(-1);
    expect(edge).toMatchObject({ source: "manual", target: "template", sourceHandle: "out" });
    expect(pasted[1]?.data.label).toBe("Greet");
    // a second paste moves further and gets other ids
    store().paste();
    expect(ids().slice(4)).toEqual(["manual_2", "template_2"]);
    expect(store().nodes[4]?.position).toEqual({ x: 2 * PASTE_OFFSET, y: 2 * PASTE_OFFSET });
  });

  it("deep-copies config, so editing the copy leaves the original alone", () => {
    store().selectNode("greet");
    store().copySelection();
    store().paste();
    store().updateConfig("template", { template: "changed" });
    expect(store().nodes.find((node) => node.id === "greet")?.data.config).toEqual({
      template: "Hi {{trigger.data.name}}",
    });
  });

  it("copies nothing without a selection; pastes nothing when read-only", () => {
    expect(store().copySelection()).toBe(0);
    store().selectAll();
    store().copySelection();
    store().setReadOnly(true);
    expect(store().paste()).toBe(0);
  });
});

describe("issues", () => {
  it("indexes issues by node, and edge issues under their source node too", () => {
    store().setIssues([
      { code: "INVALID_CONFIG", message: "bad", node_id: "greet", path: "config.template" },
      { code: "UNKNOWN_SOURCE_HANDLE", message: "no handle", edge_id: "e1", path: "source_handle" },
      { code: "NO_TRIGGER", message: "add a trigger" },
    ]);
    const index = useIssueStore.getState().index;
    expect(index.byNode.greet).toHaveLength(1);
    expect(index.byNode.start?.[0]?.code).toBe("UNKNOWN_SOURCE_HANDLE");
    expect(index.byEdge.e1).toHaveLength(1);
    expect(index.general.map((issue) => issue.code)).toEqual(["NO_TRIGGER"]);
  });
});
