/**
 * Which connections the canvas accepts while you drag (React Flow `isValidConnection`). The same
 * rules the server checks on save (agentflow/engine/validation.py), so a refused drag never becomes
 * an issue later: no self-loops, no duplicate edge, the target must take input (a trigger takes
 * none), the source handle must be one the source node offers for its config, and no cycle unless
 * it closes a loop (a loop body leading back into its loop node).
 */
import { outputHandles } from "./catalog";
import { LOOP_KEY, loopBodies, pathExists } from "./graph";
import type { Catalog, FlowEdge, FlowNode } from "./types";

export interface ConnectionLike {
  source: string | null;
  target: string | null;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

/** Why a connection is refused, or null when it is fine. */
export function connectionProblem(
  connection: ConnectionLike,
  nodes: readonly FlowNode[],
  edges: readonly FlowEdge[],
  catalog: Catalog,
): string | null {
  const { source, target } = connection;
  if (!source || !target) return "Pick both ends of the connection.";
  if (source === target) return "A node cannot connect to itself.";
  const sourceNode = nodes.find((node) => node.id === source);
  const targetNode = nodes.find((node) => node.id === target);
  if (!sourceNode || !targetNode) return "That node no longer exists.";
  const sourceType = catalog.get(sourceNode.data.kind);
  const targetType = catalog.get(targetNode.data.kind);
  if (!targetType || targetType.inputs.length === 0) {
    return targetType?.type === "trigger"
      ? "A trigger starts the agent; nothing can lead into it."
      : "This node takes no input.";
  }
  if (connection.targetHandle && !targetType.inputs.some((handle) => handle.id === connection.targetHandle)) {
    return "Connect into the node's input.";
  }
  const handle = connection.sourceHandle ?? "out";
  const outputs = outputHandles(sourceType, sourceNode.data.config);
  if (!outputs.some((output) => output.id === handle)) return `This node has no output “${handle}”.`;
  if (
    edges.some((edge) => edge.source === source && (edge.sourceHandle ?? "out") === handle && edge.target === target)
  ) {
    return "These are already connected.";
  }
  // A cycle is allowed only when it closes a loop: from inside the body of the loop `target`.
  const bodies = loopBodies(nodes, edges);
  const closesLoop = targetNode.data.kind === LOOP_KEY && bodies.get(target)?.has(source) === true;
  if (!closesLoop) {
    const open = edges.filter((edge) => !bodies.get(edge.target)?.has(edge.source));
    if (pathExists(target, source, open)) {
      return "That would make a cycle; only a loop body may lead back, into its loop node.";
    }
  }
  return null;
}

export function isValidConnection(
  connection: ConnectionLike,
  nodes: readonly FlowNode[],
  edges: readonly FlowEdge[],
  catalog: Catalog,
): boolean {
  return connectionProblem(connection, nodes, edges, catalog) === null;
}
