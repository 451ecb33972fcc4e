"use client";

import {
  Background,
  BackgroundVariant,
  type Connection,
  Controls,
  type Edge,
  MiniMap,
  type NodeTypes,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
} from "@xyflow/react";
import { MousePointerClick } from "lucide-react";
import * as React from "react";
import { toast } from "sonner";

import { useTheme } from "@/lib/theme/theme";
import { cn } from "@/lib/utils";

import { CanvasContext } from "../canvas-context";
import { connectionProblem } from "../connection";
import { useRunStore } from "../run-store";
import { useBuilderStore, useIssueStore } from "../store";
import type { FlowEdge, FlowNode } from "../types";
import { AgentNode } from "./agent-node";

export const PALETTE_MIME = "application/x-agentflow-node";
/** Half a node's size: a dropped node lands centred on the pointer. */
const DROP_OFFSET = { x: 120, y: 28 };

// Module-level: React Flow re-initialises every node when this object changes identity.
const NODE_TYPES: NodeTypes = { agent: AgentNode };
const FIT_VIEW_OPTIONS = { padding: 0.15, maxZoom: 1.2 };
const DEFAULT_EDGE_OPTIONS = { type: "default", interactionWidth: 16 } as const;
const MINIMAP_STYLE = { width: 168, height: 110 };
const PRO_OPTIONS = { hideAttribution: false };

const MINIMAP_COLORS: Record<string, string> = {
  running: "var(--primary)",
  completed: "var(--success)",
  failed: "var(--destructive)",
  waiting_approval: "var(--warning)",
};

/**
 * Marks the moment the graph is on screen and measured (`performance.mark("builder:graph-ready")`,
 * `data-graph-ready` on the canvas): what the benchmark's time-to-interactive waits for.
 */
function useGraphReady(nodeCount: number, onReady?: () => void): boolean {
  const initialized = useNodesInitialized();
  const ready = initialized || nodeCount === 0;
  const marked = React.useRef(false);
  React.useEffect(() => {
    if (!ready || marked.current) return;
    marked.current = true;
    performance.mark("builder:graph-ready", { detail: { nodes: nodeCount } });
    onReady?.();
  }, [ready, nodeCount, onReady]);
  return ready;
}

const minimapColor = (node: FlowNode) =>
  MINIMAP_COLORS[useRunStore.getState().statuses[node.id] ?? ""] ?? "var(--muted-foreground)";

/**
 * The mini map, standing still while a node is dragged. React Flow's live map follows every node on
 * every frame (a store subscriber per node, and a repaint of its whole SVG): about 3 ms of a drag
 * frame's p95 on a 200-node graph (bench/web_bench.md). When a drag starts, a copy
 * of the map as it is takes its place; the live map comes back on drop, with the node where it landed.
 */
function CanvasMiniMap() {
  const dragging = useBuilderStore((state) => state.dragging);
  const live = React.useRef<HTMLDivElement>(null);
  const copy = React.useRef<Node | null>(null);
  // The store tells us before React re-renders (and removes the live map), so the copy is current.
  React.useEffect(
    () =>
      useBuilderStore.subscribe((state, previous) => {
        if (state.dragging && !previous.dragging)
          copy.current = live.current?.firstElementChild?.cloneNode(true) ?? null;
      }),
    [],
  );
  const showCopy = React.useCallback((host: HTMLDivElement | null) => {
    if (host && copy.current) host.replaceChildren(copy.current);
  }, []);
  // `contents`: the wrappers make no box, so the map's panel is placed as React Flow places it. The
  // keys keep React from reusing the copy's host (and the copy in it) for the live map.
  if (dragging) return <div key="still" ref={showCopy} className="contents" data-testid="minimap-still" />;
  return (
    <div key="live" ref={live} className="contents">
      <MiniMap
        pannable
        zoomable
        position="bottom-right"
        nodeColor={minimapColor}
        nodeStrokeWidth={0}
        className="!rounded-lg !border !bg-card"
        style={MINIMAP_STYLE}
        ariaLabel="Mini map"
      />
    </div>
  );
}

export function BuilderCanvas({ onReady }: { onReady?: () => void }) {
  const nodes = useBuilderStore((state) => state.nodes);
  const edges = useBuilderStore((state) => state.edges);
  const readOnly = useBuilderStore((state) => state.readOnly);
  const catalog = useBuilderStore((state) => state.catalog);
  const canvasContext = React.useMemo(() => ({ catalog, readOnly }), [catalog, readOnly]);
  const edgeIssues = useIssueStore((state) => state.index.byEdge);
  const onNodesChange = useBuilderStore((state) => state.onNodesChange);
  const onEdgesChange = useBuilderStore((state) => state.onEdgesChange);
  const addNode = useBuilderStore((state) => state.addNode);
  const statuses = useRunStore((state) => state.statuses);
  const theme = useTheme((state) => state.resolved);
  const { screenToFlowPosition } = useReactFlow();
  const ready = useGraphReady(nodes.length, onReady);
  // Fit the graph the page opened with. Not an empty one: React Flow would keep the fit pending and
  // jump the view onto the first node dropped, away from where the pointer left it.
  const [fitOnLoad] = React.useState(() => nodes.length > 0);

  // Edges with problems are drawn red; edges leading into a running node move.
  const renderedEdges = React.useMemo(() => {
    const hasRun = Object.keys(statuses).length > 0;
    if (Object.keys(edgeIssues).length === 0 && !hasRun) return edges;
    return edges.map((edge) => {
      const broken = edgeIssues[edge.id] !== undefined;
      const targetStatus = hasRun ? statuses[edge.target] : undefined;
      const sourceStatus = hasRun ? statuses[edge.source] : undefined;
      const taken = sourceStatus === "completed" && targetStatus !== undefined;
      if (!broken && !taken && targetStatus !== "running") return edge;
      return {
        ...edge,
        className: cn(broken && "edge-error", taken && "edge-taken"),
        animated: targetStatus === "running",
      } satisfies FlowEdge;
    });
  }, [edges, edgeIssues, statuses]);

  const isValidConnection = React.useCallback((connection: Connection | Edge) => {
    const state = useBuilderStore.getState();
    if (state.readOnly) return false;
    return connectionProblem(connection, state.nodes, state.edges, state.catalog) === null;
  }, []);

  const onConnect = React.useCallback((connection: Connection) => {
    const problem = useBuilderStore.getState().connect(connection);
    if (problem) toast.error(problem);
  }, []);

  const onDragOver = React.useCallback(
    (event: React.DragEvent) => {
      if (readOnly || !event.dataTransfer.types.includes(PALETTE_MIME)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    },
    [readOnly],
  );

  const onDrop = React.useCallback(
    (event: React.DragEvent) => {
      const kind = event.dataTransfer.getData(PALETTE_MIME);
      if (readOnly || !kind) return;
      event.preventDefault();
      const point = screenToFlowPosition({ x: event.clientX, y: event.clientY });
      addNode(kind, { x: Math.round(point.x - DROP_OFFSET.x), y: Math.round(point.y - DROP_OFFSET.y) });
    },
    [addNode, readOnly, screenToFlowPosition],
  );

  return (
    <div
      className={cn(
        "relative h-full w-full bg-muted/30 [--xy-background-color:transparent]",
        "[&_.react-flow__edge-path]:stroke-muted-foreground/70 [&_.react-flow__edge-path]:[stroke-width:1.5]",
        "[&_.react-flow__edge.selected_.react-flow__edge-path]:!stroke-primary [&_.react-flow__edge.selected_.react-flow__edge-path]:[stroke-width:2.5]",
        "[&_.react-flow__edge.edge-error_.react-flow__edge-path]:!stroke-destructive",
        "[&_.react-flow__edge.edge-taken_.react-flow__edge-path]:!stroke-success",
        "[&_.react-flow__handle.connectingto]:!bg-destructive [&_.react-flow__handle.valid]:!bg-success",
        "[&_.react-flow__node]:rounded-xl [&_.react-flow__node:focus-visible]:outline-2 [&_.react-flow__node:focus-visible]:outline-ring",
      )}
      onDragOver={onDragOver}
      onDrop={onDrop}
      data-graph-ready={ready || undefined}
    >
      <CanvasContext.Provider value={canvasContext}>
        <ReactFlow<FlowNode, FlowEdge>
          nodes={nodes}
          edges={renderedEdges}
          nodeTypes={NODE_TYPES}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={onConnect}
          isValidConnection={isValidConnection}
          fitView={fitOnLoad}
          fitViewOptions={FIT_VIEW_OPTIONS}
          defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
          colorMode={theme}
          minZoom={0.1}
          maxZoom={2}
          deleteKeyCode={null}
          selectionKeyCode="Shift"
          multiSelectionKeyCode={["Meta", "Control"]}
          nodesDraggable={!readOnly}
          nodesConnectable={!readOnly}
          edgesReconnectable={false}
          elementsSelectable
          proOptions={PRO_OPTIONS}
          aria-label="Agent graph"
        >
          <Background variant={BackgroundVariant.Dots} gap={20} size={1} />
          <Controls showInteractive={false} position="bottom-left" />
          <CanvasMiniMap />
        </ReactFlow>
      </CanvasContext.Provider>
      {nodes.length === 0 && (
        <div className="pointer-events-none absolute inset-0 flex items-center justify-center p-6">
          <div className="flex max-w-sm flex-col items-center gap-3 rounded-xl border border-dashed bg-card/80 px-6 py-8 text-center backdrop-blur">
            <div className="flex size-11 items-center justify-center rounded-full bg-muted">
              <MousePointerClick className="size-5 text-muted-foreground" aria-hidden />
            </div>
            <div className="grid grid-cols-1 gap-1">
              <p className="font-medium">{readOnly ? "This agent has no steps yet" : "Start with a trigger"}</p>
              <p className="text-sm text-muted-foreground">
                {readOnly
                  ? "Someone with edit access can add them."
                  : "Drag a node from the palette onto the canvas, or click it to add it here. Every agent starts from one trigger."}
              </p>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
