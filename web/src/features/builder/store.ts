/**
 * The builder's graph state (Zustand): the canvas nodes and edges, selection, undo/redo history,
 * the clipboard, validation issues, and a change counter the autosave watches.
 *
 * Every change makes new objects (never mutates), so a history snapshot is two array references.
 * Components select narrow slices (one node's issue count, the selected node's data) so a drag
 * re-renders the dragged node, not the whole builder.
 */
import { type EdgeChange, type NodeChange, applyEdgeChanges, applyNodeChanges } from "@xyflow/react";
import { create } from "zustand";

import { defaultConfig } from "./catalog";
import { connectionProblem, type ConnectionLike } from "./connection";
import { fromDefinition, newEdgeId, newNodeId, toDefinition } from "./graph";
import {
  type Catalog,
  type Definition,
  type FlowEdge,
  type FlowNode,
  INPUT_HANDLE,
  type Issue,
  type JsonObject,
  NODE_TYPE_NAME,
} from "./types";

export const HISTORY_LIMIT = 100;
/** Edits to the same field within this window are one undo step (typing a prompt is not 40 steps). */
export const COALESCE_MS = 1000;
export const PASTE_OFFSET = 40;

interface Snapshot {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export interface IssueIndex {
  /** Issues per node id (edge issues count for the edge's source node too). */
  byNode: Record<string, Issue[]>;
  byEdge: Record<string, Issue[]>;
  /** Issues about the graph as a whole (no node, no edge). */
  general: Issue[];
}

export interface BuilderState {
  catalog: Catalog;
  nodes: FlowNode[];
  edges: FlowEdge[];
  readOnly: boolean;
  past: Snapshot[];
  future: Snapshot[];
  clipboard: Snapshot | null;
  pasteCount: number;
  /** Bumped on every change to the definition (not on selection or measuring). */
  changeSeq: number;
  /** The node the side panel shows: the single selected node, else null. */
  selectedNodeId: string | null;
  dragging: boolean;
  lastEdit: { key: string; at: number } | null;

  load: (
    definition: Partial<Definition> | null | undefined,
    catalog: Catalog,
    options?: { readOnly?: boolean },
  ) => void;
  setCatalog: (catalog: Catalog) => void;
  setReadOnly: (readOnly: boolean) => void;
  onNodesChange: (changes: NodeChange<FlowNode>[]) => void;
  onEdgesChange: (changes: EdgeChange<FlowEdge>[]) => void;
  connect: (connection: ConnectionLike) => string | null;
  addNode: (kind: string, position: { x: number; y: number }) => string | null;
  updateConfig: (nodeId: string, config: JsonObject) => void;
  updateLabel: (nodeId: string, label: string) => void;
  removeEdge: (edgeId: string) => void;
  deleteSelection: () => void;
  selectAll: () => void;
  selectNode: (nodeId: string | null) => void;
  copySelection: () => number;
  paste: () => number;
  undo: () => void;
  redo: () => void;
  setIssues: (issues: Issue[]) => void;
  definition: () => Definition;
}

export function indexIssues(issues: readonly Issue[], edges: readonly FlowEdge[]): IssueIndex {
  const byNode: Record<string, Issue[]> = {};
  const byEdge: Record<string, Issue[]> = {};
  const general: Issue[] = [];
  const sourceOf = new Map(edges.map((edge) => [edge.id, edge.source]));
  for (const issue of issues) {
    if (issue.node_id) (byNode[issue.node_id] ??= []).push(issue);
    else if (issue.edge_id) {
      (byEdge[issue.edge_id] ??= []).push(issue);
      const source = sourceOf.get(issue.edge_id);
      if (source) (byNode[source] ??= []).push(issue);
    } else general.push(issue);
  }
  return { byNode, byEdge, general };
}

const EMPTY_INDEX: IssueIndex = { byNode: {}, byEdge: {}, general: [] };

/**
 * Validation issues live in their own store: they change when a save answers, never while a node
 * is dragged, so the 200 canvas nodes that show an issue count are not asked on every drag frame.
 */
export const useIssueStore = create<{ issues: Issue[]; index: IssueIndex }>()(() => ({
  issues: [],
  index: EMPTY_INDEX,
}));

function selectedIdOf(nodes: readonly FlowNode[]): string | null {
  let found: string | null = null;
  for (const node of nodes) {
    if (!node.selected) continue;
    if (found !== null) return null;
    found = node.id;
  }
  return found;
}

/** The builder's data before a draft is loaded (the actions are left out: they never change). */
function emptyState() {
  return {
    catalog: new Map(),
    nodes: [],
    edges: [],
    readOnly: false,
    past: [],
    future: [],
    clipboard: null,
    pasteCount: 0,
    changeSeq: 0,
    selectedNodeId: null,
    dragging: false,
    lastEdit: null,
  } satisfies Partial<BuilderState>;
}

export const useBuilderStore = create<BuilderState>()((set, get) => {
  /** Record the state before a change, for undo; clears redo. */
  function remember(coalesceKey?: string): void {
    const { nodes, edges, past, lastEdit } = get();
    const now = Date.now();
    if (coalesceKey && lastEdit && lastEdit.key === coalesceKey && now - lastEdit.at < COALESCE_MS) {
      set({ lastEdit: { key: coalesceKey, at: now }, future: [] });
      return;
    }
    const trimmed = past.length >= HISTORY_LIMIT ? past.slice(past.length - HISTORY_LIMIT + 1) : past;
    set({
      past: [...trimmed, { nodes, edges }],
      future: [],
      lastEdit: coalesceKey ? { key: coalesceKey, at: now } : null,
    });
  }

  function commit(nodes: FlowNode[], edges: FlowEdge[], extra: Partial<BuilderState> = {}): void {
    set((state) => ({
      nodes,
      edges,
      changeSeq: state.changeSeq + 1,
      selectedNodeId: selectedIdOf(nodes),
      ...extra,
    }));
  }

  function updateNodeData(nodeId: string, patch: Partial<FlowNode["data"]>, coalesceKey: string): void {
    const { nodes, edges, readOnly } = get();
    if (readOnly) return;
    const index = nodes.findIndex((node) => node.id === nodeId);
    const node = nodes[index];
    if (!node) return;
    remember(coalesceKey);
    const next = nodes.slice();
    next[index] = { ...node, data: { ...node.data, ...patch } };
    // A node whose handles depend on its config (classify categories, switch cases) may drop one
    // an edge uses: the edge stays, and validation names it, rather than vanishing silently.
    commit(next, edges);
  }

  return {
    ...emptyState(),

    load: (definition, catalog, options) => {
      const { nodes, edges } = fromDefinition(definition);
      set({
        catalog,
        nodes,
        edges,
        readOnly: options?.readOnly ?? false,
        past: [],
        future: [],
        pasteCount: 0,
        changeSeq: 0,
        selectedNodeId: null,
        dragging: false,
        lastEdit: null,
      });
      useIssueStore.setState((current) => ({ index: indexIssues(current.issues, edges) }));
    },

    setCatalog: (catalog) => set({ catalog }),
    setReadOnly: (readOnly) => set({ readOnly }),

    onNodesChange: (changes) => {
      const state = get();
      let structural = false;
      let dragStart = false;
      let dragEnd = false;
      let nudged = false; // moved with the arrow keys: a position change outside any drag
      const allowed = changes.filter((change) => {
        if (change.type === "select" || change.type === "dimensions") return true;
        if (state.readOnly) return false;
        if (change.type === "remove" || change.type === "add" || change.type === "replace") structural = true;
        if (change.type === "position") {
          if (change.dragging && !state.dragging) dragStart = true;
          if (!change.dragging) {
            if (state.dragging) dragEnd = true;
            else nudged = true;
          }
        }
        return true;
      });
      if (allowed.length === 0) return;
      if (structural || dragStart) remember();
      else if (nudged) remember("nudge");
      const nodes = applyNodeChanges(allowed, state.nodes);
      let edges = state.edges;
      if (structural) {
        const ids = new Set(nodes.map((node) => node.id));
        edges = edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target));
      }
      const changed = structural || dragEnd || nudged;
      set((current) => ({
        nodes,
        edges,
        dragging: dragStart ? true : dragEnd ? false : current.dragging,
        changeSeq: changed ? current.changeSeq + 1 : current.changeSeq,
        selectedNodeId: selectedIdOf(nodes),
      }));
    },

    onEdgesChange: (changes) => {
      const state = get();
      const allowed = state.readOnly ? changes.filter((change) => change.type === "select") : changes;
      if (allowed.length === 0) return;
      const structural = allowed.some((change) => change.type !== "select");
      if (structural) remember();
      const edges = applyEdgeChanges(allowed, state.edges);
      set((current) => ({ edges, changeSeq: structural ? current.changeSeq + 1 : current.changeSeq }));
    },

    connect: (connection) => {
      const { nodes, edges, catalog, readOnly } = get();
      if (readOnly) return "This agent is read-only.";
      const problem = connectionProblem(connection, nodes, edges, catalog);
      if (problem) return problem;
      const source = connection.source as string;
      const target = connection.target as string;
      const handle = connection.sourceHandle ?? "out";
      remember();
      const id = newEdgeId(source, handle, target, new Set(edges.map((edge) => edge.id)));
      const edge: FlowEdge = { id, source, sourceHandle: handle, target, targetHandle: INPUT_HANDLE };
      commit(nodes, [...edges, edge]);
      return null;
    },

    addNode: (kind, position) => {
      const { nodes, edges, catalog, readOnly } = get();
      const info = catalog.get(kind);
      if (readOnly || !info) return null;
      remember();
      const id = newNodeId(info.subtype, new Set(nodes.map((node) => node.id)));
      const node: FlowNode = {
        id,
        type: NODE_TYPE_NAME,
        position,
        selected: true,
        data: { kind, label: null, config: defaultConfig(info) },
      };
      commit([...nodes.map((other) => (other.selected ? { ...other, selected: false } : other)), node], edges);
      return id;
    },

    updateConfig: (nodeId, config) => updateNodeData(nodeId, { config }, `config:${nodeId}`),
    updateLabel: (nodeId, label) => updateNodeData(nodeId, { label: label === "" ? null : label }, `label:${nodeId}`),

    removeEdge: (edgeId) => {
      const { nodes, edges, readOnly } = get();
      if (readOnly || !edges.some((edge) => edge.id === edgeId)) return;
      remember();
      commit(
        nodes,
        edges.filter((edge) => edge.id !== edgeId),
      );
    },

    deleteSelection: () => {
      const { nodes, edges, readOnly } = get();
      if (readOnly) return;
      const removed = new Set(nodes.filter((node) => node.selected).map((node) => node.id));
      const keptEdges = edges.filter(
        (edge) => !edge.selected && !removed.has(edge.source) && !removed.has(edge.target),
      );
      if (removed.size === 0 && keptEdges.length === edges.length) return;
      remember();
      commit(
        nodes.filter((node) => !removed.has(node.id)),
        keptEdges,
      );
    },

    selectAll: () => {
      const { nodes, edges } = get();
      const next = nodes.map((node) => (node.selected ? node : { ...node, selected: true }));
      set({
        nodes: next,
        edges: edges.map((edge) => (edge.selected ? edge : { ...edge, selected: true })),
        selectedNodeId: selectedIdOf(next),
      });
    },

    selectNode: (nodeId) => {
      const { nodes, edges } = get();
      const next = nodes.map((node) => {
        const selected = node.id === nodeId;
        return node.selected === selected ? node : { ...node, selected };
      });
      set({
        nodes: next,
        edges: edges.map((edge) => (edge.selected ? { ...edge, selected: false } : edge)),
        selectedNodeId: nodeId && next.some((node) => node.id === nodeId) ? nodeId : null,
      });
    },

    copySelection: () => {
      const { nodes, edges } = get();
      const picked = nodes.filter((node) => node.selected);
      if (picked.length === 0) return 0;
      const ids = new Set(picked.map((node) => node.id));
      set({
        clipboard: {
          nodes: picked,
          edges: edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target)),
        },
        pasteCount: 0,
      });
      return picked.length;
    },

    paste: () => {
      const { clipboard, nodes, edges, readOnly, pasteCount, catalog } = get();
      if (readOnly || !clipboard || clipboard.nodes.length === 0) return 0;
      const takenNodes = new Set(nodes.map((node) => node.id));
      const takenEdges = new Set(edges.map((edge) => edge.id));
      const offset = PASTE_OFFSET * (pasteCount + 1);
      const renamed = new Map<string, string>();
      const pasted: FlowNode[] = clipboard.nodes.map((node) => {
        const subtype = catalog.get(node.data.kind)?.subtype ?? node.id;
        const id = newNodeId(subtype, takenNodes);
        takenNodes.add(id);
        renamed.set(node.id, id);
        return {
          id,
          type: NODE_TYPE_NAME,
          position: { x: node.position.x + offset, y: node.position.y + offset },
          selected: true,
          data: { ...node.data, config: structuredClone(node.data.config) },
        };
      });
      const pastedEdges: FlowEdge[] = clipboard.edges.map((edge) => {
        const source = renamed.get(edge.source) as string;
        const target = renamed.get(edge.target) as string;
        const handle = edge.sourceHandle ?? "out";
        const id = newEdgeId(source, handle, target, takenEdges);
        takenEdges.add(id);
        return { ...edge, id, source, target, selected: false };
      });
      remember();
      commit(
        [...nodes.map((node) => (node.selected ? { ...node, selected: false } : node)), ...pasted],
        [...edges.map((edge) => (edge.selected ? { ...edge, selected: false } : edge)), ...pastedEdges],
        { pasteCount: pasteCount + 1 },
      );
      return pasted.length;
    },

    undo: () => {
      const { past, future, nodes, edges, readOnly } = get();
      const previous = past[past.length - 1];
      if (readOnly || !previous) return;
      set({ past: past.slice(0, -1), future: [...future, { nodes, edges }], lastEdit: null });
      commit(previous.nodes, previous.edges);
    },

    redo: () => {
      const { past, future, nodes, edges, readOnly } = get();
      const next = future[future.length - 1];
      if (readOnly || !next) return;
      set({ past: [...past, { nodes, edges }], future: future.slice(0, -1), lastEdit: null });
      commit(next.nodes, next.edges);
    },

    setIssues: (issues) => useIssueStore.setState({ issues, index: indexIssues(issues, get().edges) }),

    definition: () => toDefinition(get().nodes, get().edges),
  };
});

export function resetBuilderStore(): void {
  useBuilderStore.setState(emptyState());
  useIssueStore.setState({ issues: [], index: EMPTY_INDEX });
}
