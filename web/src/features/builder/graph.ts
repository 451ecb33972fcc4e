/**
 * The definition ↔ canvas, and what the builder asks of the graph: fresh ids, the nodes upstream of
 * a node (for the variable picker), loop bodies and cycles (for connection checks). Pure.
 */
import {
  type Definition,
  type DefinitionEdge,
  type DefinitionNode,
  type FlowEdge,
  type FlowNode,
  INPUT_HANDLE,
  NODE_TYPE_NAME,
} from "./types";

export const RESERVED_IDS = new Set(["trigger", "vars", "loop", "execution"]);
const NODE_ID = /^[a-z][a-z0-9_]{0,63}$/;
const EDGE_ID = /^[A-Za-z0-9_.:-]{1,100}$/;
export const LOOP_KEY = "logic.loop";
export const LOOP_BODY_HANDLE = "loop_body";

export function toFlowNode(node: DefinitionNode): FlowNode {
  return {
    id: node.id,
    type: NODE_TYPE_NAME,
    position: { x: node.position?.x ?? 0, y: node.position?.y ?? 0 },
    data: { kind: `${node.type}.${node.subtype}`, label: node.label ?? null, config: node.config ?? {} },
  };
}

export function toFlowEdge(edge: DefinitionEdge): FlowEdge {
  const flow: FlowEdge = {
    id: edge.id,
    source: edge.source,
    sourceHandle: edge.source_handle || "out",
    target: edge.target,
    targetHandle: INPUT_HANDLE,
  };
  if (edge.label) {
    flow.label = edge.label;
    flow.data = { label: edge.label };
  }
  return flow;
}

export function fromDefinition(definition: Partial<Definition> | null | undefined): {
  nodes: FlowNode[];
  edges: FlowEdge[];
} {
  return {
    nodes: (definition?.nodes ?? []).map(toFlowNode),
    edges: (definition?.edges ?? []).map(toFlowEdge),
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

export function toDefinitionNode(node: FlowNode): DefinitionNode {
  const [type = "", subtype = ""] = splitKind(node.data.kind);
  const out: DefinitionNode = {
    id: node.id,
    type,
    subtype,
    config: node.data.config,
    position: { x: round(node.position.x), y: round(node.position.y) },
  };
  if (node.data.label) out.label = node.data.label;
  return out;
}

export function toDefinitionEdge(edge: FlowEdge): DefinitionEdge {
  const out: DefinitionEdge = {
    id: edge.id,
    source: edge.source,
    source_handle: edge.sourceHandle ?? "out",
    target: edge.target,
  };
  const label = edge.data?.label;
  if (label) out.label = label;
  return out;
}

export function toDefinition(nodes: readonly FlowNode[], edges: readonly FlowEdge[]): Definition {
  return { schema_version: 1, nodes: nodes.map(toDefinitionNode), edges: edges.map(toDefinitionEdge) };
}

export function splitKind(kind: string): [string, string] {
  const dot = kind.indexOf(".");
  return dot < 0 ? [kind, ""] : [kind.slice(0, dot), kind.slice(dot + 1)];
}

/**
 * A new node id from its subtype: `chat`, then `chat_2`, `chat_3`… Never a reserved template root
 * (`loop` becomes `loop_1`), always matching the server's pattern.
 */
export function newNodeId(subtype: string, taken: ReadonlySet<string>): string {
  let base = subtype
    .toLowerCase()
    .replaceAll(/[^a-z0-9_]+/g, "_")
    .replace(/^[^a-z]+/, "")
    .slice(0, 56);
  if (!base) base = "node";
  if (!RESERVED_IDS.has(base) && !taken.has(base) && NODE_ID.test(base)) return base;
  for (let index = RESERVED_IDS.has(base) ? 1 : 2; ; index += 1) {
    const candidate = `${base}_${index}`;
    if (!taken.has(candidate) && !RESERVED_IDS.has(candidate)) return candidate;
  }
}

/** An edge id like `e_draft_out_review`, unique and within the server's pattern. */
export function newEdgeId(source: string, handle: string, target: string, taken: ReadonlySet<string>): string {
  let base = `e_${source}_${handle}_${target}`.replaceAll(/[^A-Za-z0-9_.:-]/g, "_");
  if (base.length > 90) base = `e_${source.slice(0, 40)}_${target.slice(0, 40)}`;
  if (!taken.has(base) && EDGE_ID.test(base)) return base;
  for (let index = 2; ; index += 1) {
    const candidate = `${base}_${index}`;
    if (!taken.has(candidate)) return candidate;
  }
}

interface EdgeLike {
  source: string;
  target: string;
  sourceHandle?: string | null;
}

function adjacency(edges: readonly EdgeLike[], reverse: boolean): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const edge of edges) {
    const from = reverse ? edge.target : edge.source;
    const to = reverse ? edge.source : edge.target;
    const list = map.get(from);
    if (list) list.push(to);
    else map.set(from, [to]);
  }
  return map;
}

function reachable(starts: Iterable<string>, next: (id: string) => readonly string[] | undefined): Set<string> {
  const seen = new Set(starts);
  const queue = [...seen];
  for (let index = 0; index < queue.length; index += 1) {
    const current = queue[index] as string;
    for (const following of next(current) ?? []) {
      if (!seen.has(following)) {
        seen.add(following);
        queue.push(following);
      }
    }
  }
  return seen;
}

/**
 * The body of each loop node: everything its `loop_body` handle leads to, not walking on through
 * the loop itself (agentflow/engine/validation.py `find_loops`).
 */
export function loopBodies(
  nodes: readonly { id: string; data: { kind: string } }[],
  edges: readonly EdgeLike[],
): Map<string, Set<string>> {
  const forward = adjacency(edges, false);
  const bodies = new Map<string, Set<string>>();
  for (const node of nodes) {
    if (node.data.kind !== LOOP_KEY) continue;
    const starts = edges
      .filter((edge) => edge.source === node.id && edge.sourceHandle === LOOP_BODY_HANDLE)
      .map((edge) => edge.target);
    const body = reachable(starts, (id) => forward.get(id)?.filter((target) => target !== node.id));
    body.delete(node.id);
    bodies.set(node.id, body);
  }
  return bodies;
}

/** Edges that close a loop (from a loop body back into its loop node): allowed cycles. */
function loopClosingEdges<E extends EdgeLike>(edges: readonly E[], bodies: Map<string, Set<string>>): Set<E> {
  const closing = new Set<E>();
  for (const edge of edges) {
    if (bodies.get(edge.target)?.has(edge.source)) closing.add(edge);
  }
  return closing;
}

/**
 * The nodes a node can read from: every node with a path to it (not using loop-closing edges),
 * nearest first. The variable picker lists these.
 */
export function upstreamNodes(
  nodeId: string,
  nodes: readonly { id: string; data: { kind: string } }[],
  edges: readonly EdgeLike[],
): string[] {
  const closing = loopClosingEdges(edges, loopBodies(nodes, edges));
  const backward = adjacency(
    edges.filter((edge) => !closing.has(edge)),
    true,
  );
  const found = reachable([nodeId], (id) => backward.get(id));
  found.delete(nodeId);
  return [...found];
}

/** The loops whose body contains this node (it can read `{{loop.item}}` / `{{loop.index}}`). */
export function enclosingLoops(
  nodeId: string,
  nodes: readonly { id: string; data: { kind: string } }[],
  edges: readonly EdgeLike[],
): string[] {
  return [...loopBodies(nodes, edges).entries()].filter(([, body]) => body.has(nodeId)).map(([loopId]) => loopId);
}

/** Whether `to` can be reached from `from` following edges forward. */
export function pathExists(from: string, to: string, edges: readonly EdgeLike[]): boolean {
  if (from === to) return true;
  const forward = adjacency(edges, false);
  return reachable([from], (id) => forward.get(id)).has(to);
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const NEW_NODE_SIZE = { width: 240, height: 80 };
const GAP = 24;

function overlaps(a: Rect, b: Rect): boolean {
  return (
    a.x < b.x + b.width + GAP && b.x < a.x + a.width + GAP && a.y < b.y + b.height + GAP && b.y < a.y + a.height + GAP
  );
}

/**
 * Where a node added by click lands: `point` if nothing is there, else the nearest free spot,
 * looking outward ring by ring (below and to the right first), so it never hides under another node.
 */
export function freeSpot(point: { x: number; y: number }, taken: readonly Rect[], step = 40): { x: number; y: number } {
  const fits = (x: number, y: number) =>
    !taken.some((rect) => overlaps({ x, y, width: NEW_NODE_SIZE.width, height: NEW_NODE_SIZE.height }, rect));
  if (fits(point.x, point.y)) return point;
  for (let ring = 1; ring <= 30; ring += 1) {
    for (let dy = 0; dy <= ring; dy += 1) {
      for (const [sx, sy] of [
        [1, 1],
        [-1, 1],
        [1, -1],
        [-1, -1],
      ] as const) {
        for (const [ox, oy] of [
          [ring, dy],
          [dy, ring],
        ] as const) {
          const x = point.x + sx * ox * step;
          const y = point.y + sy * oy * step;
          if (fits(x, y)) return { x, y };
        }
      }
    }
  }
  return point;
}
