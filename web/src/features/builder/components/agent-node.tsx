"use client";

import { Handle, type NodeProps, Position } from "@xyflow/react";
import { AlertCircle, CheckCircle2, Hand, Loader2, XCircle } from "lucide-react";
import * as React from "react";

import { cn } from "@/lib/utils";

import { outputHandles } from "../catalog";
import { splitKind } from "../graph";
import { NodeIcon } from "../icons";
import { useRunStore } from "../run-store";
import { useBuilderStore } from "../store";
import type { FlowNode, HandleInfo, JsonObject } from "../types";

const STATUS_RING: Record<string, string> = {
  running: "ring-2 ring-primary animate-pulse",
  retrying: "ring-2 ring-warning animate-pulse",
  completed: "ring-2 ring-success",
  failed: "ring-2 ring-destructive",
  waiting_approval: "ring-2 ring-warning",
  parked: "ring-2 ring-muted-foreground/50",
};

const STATUS_ICON: Record<string, React.ReactNode> = {
  running: <Loader2 className="size-3.5 animate-spin text-primary" aria-hidden />,
  retrying: <Loader2 className="size-3.5 animate-spin text-amber-600 dark:text-warning" aria-hidden />,
  completed: <CheckCircle2 className="size-3.5 text-success" aria-hidden />,
  failed: <XCircle className="size-3.5 text-destructive" aria-hidden />,
  waiting_approval: <Hand className="size-3.5 text-amber-600 dark:text-warning" aria-hidden />,
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

const HANDLE_CLASS =
  "!size-3 !border-2 !border-background !bg-muted-foreground transition-colors hover:!bg-primary data-[connectable=false]:!cursor-default";

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
    <div className="relative flex h-6 items-center justify-end pr-3 text-[11px] text-muted-foreground">
      <span className={cn("truncate", handle.id === "error" && "text-destructive/80")}>{handle.label}</span>
      <Handle
        type="source"
        position={Position.Right}
        id={handle.id}
        isConnectable={connectable}
        className={cn(HANDLE_CLASS, handle.id === "error" && "!bg-destructive/70")}
        aria-label={`Output ${handle.label}`}
      />
    </div>
  );
}

function AgentNodeView({ id, data, selected }: NodeProps<FlowNode>) {
  const info = useBuilderStore((state) => state.catalog.get(data.kind));
  const issueCount = useBuilderStore((state) => state.issueIndex.byNode[id]?.length ?? 0);
  const readOnly = useBuilderStore((state) => state.readOnly);
  const status = useRunStore((state) => state.statuses[id]);
  const outputs = React.useMemo(() => outputHandles(info, data.config), [info, data.config]);
  const [family] = splitKind(data.kind);
  const title = data.label || info?.display_name || data.kind;
  const hint = summary(data.kind, data.config);
  const singleOut = outputs.length === 1 && outputs[0]?.id === "out";
  const connectable = !readOnly;

  return (
    <div
      data-testid={`node-${id}`}
      data-status={status}
      data-issues={issueCount > 0 ? issueCount : undefined}
      className={cn(
        "relative w-60 rounded-xl border bg-card text-card-foreground shadow-sm transition-shadow",
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
          className={cn(HANDLE_CLASS, "!top-7")}
          aria-label="Input"
        />
      )}
      <div className="flex items-center gap-2.5 p-3">
        <NodeIcon icon={info?.icon} family={family} />
        <div className="min-w-0 flex-1">
          <p className="truncate text-sm leading-tight font-medium" title={title}>
            {title}
          </p>
          <p
            className="truncate font-mono text-[11px] leading-tight text-muted-foreground"
            title={`${id} · ${data.kind}`}
          >
            {data.label ? `${info?.display_name ?? data.kind} · ${id}` : id}
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
            <AlertCircle className="size-3" aria-hidden />
            {issueCount}
          </span>
        )}
        {singleOut && (
          <Handle
            type="source"
            position={Position.Right}
            id="out"
            isConnectable={connectable}
            className={cn(HANDLE_CLASS, "!top-7")}
            aria-label="Output"
          />
        )}
      </div>
      {hint && (
        <p className="-mt-1.5 truncate px-3 pb-2.5 text-xs text-muted-foreground" title={hint}>
          {hint}
        </p>
      )}
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

export const AgentNode = React.memo(AgentNodeView);
