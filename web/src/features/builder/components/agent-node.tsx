"use client";

import { Handle, type NodeProps, Position } from "@xyflow/react";
import { AlertCircle, CheckCircle2, Hand, Loader2, XCircle } from "lucide-react";
import * as React from "react";

import { cn } from "@/lib/utils";

import { CanvasContext } from "../canvas-context";
import { outputHandles } from "../catalog";
import { splitKind } from "../graph";
import { NodeIcon } from "@/components/node-icon";
import { useRunStore } from "../run-store";
import { useIssueStore } from "../store";
import type { FlowNode, HandleInfo, JsonObject } from "../types";

/*
 * Rendering cost matters here: a 200-node graph repaints while a node is dragged, and Chrome
 * re-layerizes every paint chunk of the page each frame. Each clip (overflow: hidden, an SVG's own
 * viewport) and each transformed element is a chunk, so the node keeps them few: at most one
 * clipping box (only for long text), SVG icons that do not clip, handles placed without a
 * transform, and text shortened in JS rather than by CSS ellipsis on every line.
 */

const STATUS_RING: Record<string, string> = {
  running: "ring-2 ring-primary animate-pulse",
  retrying: "ring-2 ring-warning animate-pulse",
  completed: "ring-2 ring-success",
  failed: "ring-2 ring-destructive",
  waiting_approval: "ring-2 ring-warning",
  parked: "ring-2 ring-muted-foreground/50",
};

const ICON = "size-3.5 shrink-0 overflow-visible";
const STATUS_ICON: Record<string, React.ReactNode> = {
  running: <Loader2 className={cn(ICON, "animate-spin text-primary")} aria-hidden />,
  retrying: <Loader2 className={cn(ICON, "animate-spin text-amber-600 dark:text-warning")} aria-hidden />,
  completed: <CheckCircle2 className={cn(ICON, "text-success")} aria-hidden />,
  failed: <XCircle className={cn(ICON, "text-destructive")} aria-hidden />,
  waiting_approval: <Hand className={cn(ICON, "text-amber-600 dark:text-warning")} aria-hidden />,
};

const STATUS_LABEL: Record<string, string> = {
  running: "running",
  retrying: "retrying",
  completed: "completed",
  failed: "failed",
  waiting_approval: "waiting for approval",
  parked: "waiting",
  pending: "pending",
};

// 12 px handles centred on the node's edge by margins, not by RF's translate().
const HANDLE =
  "!size-3 !transform-none !border-2 !border-background !bg-muted-foreground transition-colors hover:!bg-primary";
const HANDLE_LEFT = "!-left-1.5 !-mt-1.5";
const HANDLE_RIGHT = "!-right-1.5 !-mt-1.5";

/** `text` cut to `max` characters with an ellipsis (the full text goes in a tooltip). */
export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** A one-line hint of what the node does, from its config (model, tool, schedule…). */
function summary(kind: string, config: JsonObject): string | null {
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : null);
  switch (kind) {
    case "ai.chat":
    case "ai.summarize":
    case "ai.classify":
    case "ai.extract":
      return text(config.model);
    case "action.tool":
      return text(config.tool);
    case "trigger.schedule":
      return text(config.cron);
    case "logic.delay":
      return typeof config.seconds === "number" ? `${config.seconds} s` : text(config.until);
    case "logic.merge":
      return config.mode === "any" ? "first branch" : "all branches";
    case "human.approval":
      return Array.isArray(config.approvers) && config.approvers.length > 0
        ? config.approvers.map(String).join(", ")
        : null;
    default:
      return null;
  }
}

function OutputRow({ handle, connectable }: { handle: HandleInfo; connectable: boolean }) {
  return (
    <div className="relative flex h-6 items-center justify-end pr-3 text-[11px] whitespace-nowrap text-muted-foreground">
      <span className={cn(handle.id === "error" && "text-destructive/80")} title={handle.label}>
        {shorten(handle.label, 30)}
      </span>
      <Handle
        type="source"
        position={Position.Right}
        id={handle.id}
        isConnectable={connectable}
        className={cn(HANDLE, HANDLE_RIGHT, "!top-1/2", handle.id === "error" && "!bg-destructive/70")}
        aria-label={`Output ${handle.label}`}
      />
    </div>
  );
}

function AgentNodeView({ id, data, selected }: NodeProps<FlowNode>) {
  const { catalog, readOnly } = React.useContext(CanvasContext);
  const info = catalog.get(data.kind);
  const issueCount = useIssueStore((state) => state.index.byNode[id]?.length ?? 0);
  const status = useRunStore((state) => state.statuses[id]);
  const outputs = React.useMemo(() => outputHandles(info, data.config), [info, data.config]);
  const [family] = splitKind(data.kind);
  const title = data.label || info?.display_name || data.kind;
  const subtitle = data.label ? `${info?.display_name ?? data.kind} · ${id}` : id;
  const hint = summary(data.kind, data.config);
  const singleOut = outputs.length === 1 && outputs[0]?.id === "out";
  const connectable = !readOnly;
  const badges = (issueCount > 0 ? 1 : 0) + (status && STATUS_ICON[status] ? 1 : 0);
  // Short text cannot overflow the card: clip (one more paint chunk) only when it is long.
  const clip = title.length > 16 || subtitle.length > 22 || (hint?.length ?? 0) > 28;

  return (
    <div
      data-testid={`node-${id}`}
      data-status={status}
      data-issues={issueCount > 0 ? issueCount : undefined}
      className={cn(
        "relative w-60 rounded-xl border bg-card text-card-foreground",
        selected && "border-primary shadow-md ring-1 ring-primary",
        issueCount > 0 && "border-destructive ring-1 ring-destructive",
        status && STATUS_RING[status],
      )}
    >
      {info && info.inputs.length > 0 && (
        <Handle
          type="target"
          position={Position.Left}
          id={info.inputs[0]?.id ?? "in"}
          isConnectable={connectable}
          className={cn(HANDLE, HANDLE_LEFT, "!top-7")}
          aria-label="Input"
        />
      )}
      {singleOut && (
        <Handle
          type="source"
          position={Position.Right}
          id="out"
          isConnectable={connectable}
          className={cn(HANDLE, HANDLE_RIGHT, "!top-7")}
          aria-label="Output"
        />
      )}
      <div className={cn(clip && "overflow-hidden rounded-xl")}>
        <div className="flex items-center gap-2.5 p-3">
          <NodeIcon icon={info?.icon} family={family} />
          <div className="min-w-0 flex-1 whitespace-nowrap">
            <p className="text-sm leading-tight font-medium" title={title}>
              {shorten(title, badges > 0 ? 20 : 24)}
            </p>
            <p className="font-mono text-[11px] leading-tight text-muted-foreground" title={`${id} · ${data.kind}`}>
              {shorten(subtitle, badges > 0 ? 24 : 28)}
            </p>
          </div>
          {status && STATUS_ICON[status] && (
            <span role="img" aria-label={STATUS_LABEL[status] ?? status} className="shrink-0">
              {STATUS_ICON[status]}
            </span>
          )}
          {issueCount > 0 && (
            <span
              className="flex h-5 min-w-5 shrink-0 items-center justify-center gap-0.5 rounded-full bg-destructive px-1 text-[11px] font-semibold text-destructive-foreground"
              aria-label={`${issueCount} problem${issueCount === 1 ? "" : "s"}`}
              title={`${issueCount} problem${issueCount === 1 ? "" : "s"}`}
            >
              <AlertCircle className="size-3 overflow-visible" aria-hidden />
              {issueCount}
            </span>
          )}
        </div>
        {hint && (
          <p className="-mt-1.5 px-3 pb-2.5 text-xs whitespace-nowrap text-muted-foreground" title={hint}>
            {shorten(hint, 36)}
          </p>
        )}
      </div>
      {!singleOut && outputs.length > 0 && (
        <div className="border-t py-1">
          {outputs.map((handle) => (
            <OutputRow key={handle.id} handle={handle} connectable={connectable} />
          ))}
        </div>
      )}
    </div>
  );
}

/**
 * React Flow passes each node its size and absolute position too; they change when the node is
 * measured and on every drag frame, but nothing here shows them (React Flow's own wrapper moves
 * the node). Comparing only what the card shows keeps those renders to the wrapper.
 */
function sameCard(previous: NodeProps<FlowNode>, next: NodeProps<FlowNode>): boolean {
  return previous.id === next.id && previous.data === next.data && previous.selected === next.selected;
}

export const AgentNode = React.memo(AgentNodeView, sameCard);
