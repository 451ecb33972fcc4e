"use client";

import {
  AlertTriangle,
  ArrowLeft,
  Check,
  CircleDot,
  Keyboard,
  Loader2,
  Play,
  Redo2,
  Rocket,
  Undo2,
} from "lucide-react";
import Link from "next/link";
import * as React from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Tooltip } from "@/components/ui/tooltip";
import { timeAgo } from "@/lib/utils";

import { saveNow, useSaveStore } from "../autosave";
import type { Agent } from "../queries";
import { useBuilderStore } from "../store";

const STATUS_VARIANT: Record<string, "secondary" | "success" | "warning" | "outline"> = {
  draft: "secondary",
  active: "success",
  paused: "warning",
  archived: "outline",
};

export function SaveIndicator() {
  const status = useSaveStore((state) => state.status);
  const savedAt = useSaveStore((state) => state.savedAt);
  const error = useSaveStore((state) => state.error);
  const readOnly = useBuilderStore((state) => state.readOnly);
  if (readOnly) return null;
  let content: React.ReactNode;
  switch (status) {
    case "saving":
      content = (
        <>
          <Loader2 className="size-3.5 animate-spin" aria-hidden />
          Saving…
        </>
      );
      break;
    case "pending":
      content = (
        <>
          <CircleDot className="size-3.5 text-amber-600 dark:text-warning" aria-hidden />
          Unsaved changes
        </>
      );
      break;
    case "error":
      content = (
        <>
          <AlertTriangle className="size-3.5 text-destructive" aria-hidden />
          <span className="text-destructive">Not saved</span>
          <button
            type="button"
            className="font-medium text-foreground underline-offset-2 hover:underline"
            onClick={() => void saveNow()}
          >
            Retry
          </button>
        </>
      );
      break;
    case "conflict":
      content = (
        <>
          <AlertTriangle className="size-3.5 text-destructive" aria-hidden />
          <span className="text-destructive">Conflict</span>
        </>
      );
      break;
    default:
      content = (
        <>
          <Check className="size-3.5 text-success" aria-hidden />
          {savedAt ? "Saved" : "All changes saved"}
        </>
      );
  }
  return (
    <span
      role="status"
      aria-live="polite"
      data-save-status={status}
      title={
        status === "error" && error ? error : savedAt ? `Saved ${timeAgo(new Date(savedAt).toISOString())}` : undefined
      }
      className="flex min-w-36 items-center justify-end gap-1.5 text-xs text-muted-foreground"
    >
      {content}
    </span>
  );
}

export function BuilderToolbar({
  agent,
  canWrite,
  canExecute,
  onTestRun,
  onPublish,
  onShortcuts,
}: {
  agent: Agent;
  canWrite: boolean;
  canExecute: boolean;
  onTestRun: () => void;
  onPublish: () => void;
  onShortcuts: () => void;
}) {
  const readOnly = useBuilderStore((state) => state.readOnly);
  const canUndo = useBuilderStore((state) => state.past.length > 0);
  const canRedo = useBuilderStore((state) => state.future.length > 0);
  const undo = useBuilderStore((state) => state.undo);
  const redo = useBuilderStore((state) => state.redo);
  const archived = agent.status === "archived";

  return (
    <header className="flex h-14 shrink-0 items-center gap-3 border-b bg-card px-3">
      <Tooltip content="Back to agents">
        <Button asChild variant="ghost" size="icon-sm">
          <Link href="/agents/" aria-label="Back to agents">
            <ArrowLeft />
          </Link>
        </Button>
      </Tooltip>
      <div className="flex min-w-0 items-center gap-2">
        <h1 className="truncate text-base font-semibold" title={agent.name}>
          {agent.name}
        </h1>
        <Badge variant={STATUS_VARIANT[agent.status] ?? "outline"} className="capitalize">
          {agent.status}
        </Badge>
        {agent.latest_version !== null && (
          <span className="hidden text-xs text-muted-foreground lg:inline">v{agent.latest_version} live</span>
        )}
        {readOnly && (
          <Badge
            variant="outline"
            title={archived ? "Archived agents cannot be edited" : "Your role can view this agent, not edit it"}
          >
            Read-only
          </Badge>
        )}
      </div>
      <div className="ml-auto flex items-center gap-1.5">
        <SaveIndicator />
        {!readOnly && (
          <div className="ml-2 flex items-center">
            <Tooltip content="Undo (Ctrl+Z)">
              <Button variant="ghost" size="icon-sm" aria-label="Undo" onClick={undo} disabled={!canUndo}>
                <Undo2 />
              </Button>
            </Tooltip>
            <Tooltip content="Redo (Ctrl+Shift+Z)">
              <Button variant="ghost" size="icon-sm" aria-label="Redo" onClick={redo} disabled={!canRedo}>
                <Redo2 />
              </Button>
            </Tooltip>
          </div>
        )}
        <Tooltip content="Keyboard shortcuts (?)">
          <Button variant="ghost" size="icon-sm" aria-label="Keyboard shortcuts" onClick={onShortcuts}>
            <Keyboard />
          </Button>
        </Tooltip>
        {canExecute && !archived && (
          <Button variant="outline" size="sm" onClick={onTestRun}>
            <Play aria-hidden />
            Test run
          </Button>
        )}
        {canWrite && !archived && (
          <Button size="sm" onClick={onPublish}>
            <Rocket aria-hidden />
            Publish
          </Button>
        )}
      </div>
    </header>
  );
}
