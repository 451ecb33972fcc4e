"use client";

import * as React from "react";

import { JsonView } from "@/components/ui/json-view";
import { StatusBadge } from "@/components/ui/status-badge";

import { useRunStore } from "../run-store";
import { ApproveInline } from "./approve-inline";

function errorText(error: unknown): string | null {
  if (error === undefined || error === null) return null;
  if (typeof error === "string") return error;
  if (typeof error === "object" && "message" in error && typeof error.message === "string") return error.message;
  return JSON.stringify(error);
}

/** What the watched test run did at one node: status, streamed tokens, output or error, approval. */
export function NodeRunOutput({ nodeId }: { nodeId: string }) {
  const run = useRunStore((state) => state.view.nodes[nodeId]);
  const executionId = useRunStore((state) => state.executionId);
  const executionStatus = useRunStore((state) => state.view.execution?.status);
  const tokensRef = React.useRef<HTMLPreElement>(null);

  React.useEffect(() => {
    const element = tokensRef.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [run?.tokens]);

  if (!executionId) return null;
  if (!run) {
    return (
      <p className="text-sm text-muted-foreground">
        {executionStatus && ["completed", "failed", "cancelled"].includes(executionStatus)
          ? "This node did not run in the last test run."
          : "Not reached yet in this test run."}
      </p>
    );
  }
  const error = errorText(run.error);
  return (
    <div className="grid grid-cols-1 gap-3" data-testid={`run-output-${nodeId}`}>
      <div className="flex items-center gap-2">
        <StatusBadge status={run.status} />
        {run.attempt !== undefined && run.attempt > 1 && (
          <span className="text-xs text-muted-foreground">attempt {run.attempt}</span>
        )}
      </div>
      {run.tokens && (
        <div className="grid grid-cols-1 gap-1">
          <p className="text-xs font-medium text-muted-foreground">
            {run.status === "running" ? "Streaming answer" : "Streamed answer"}
          </p>
          <pre
            ref={tokensRef}
            aria-live="polite"
            aria-label="Streamed tokens"
            className="max-h-56 overflow-y-auto rounded-lg border bg-muted/30 p-3 font-sans text-sm whitespace-pre-wrap"
          >
            {run.tokens}
            {run.status === "running" && (
              <span className="ml-0.5 inline-block h-4 w-1.5 animate-pulse bg-primary align-middle" />
            )}
          </pre>
        </div>
      )}
      {error && (
        <p
          role="alert"
          className="rounded-md border border-destructive/30 bg-destructive/10 px-3 py-2 text-sm text-destructive"
        >
          {error}
        </p>
      )}
      {run.output !== undefined && (
        <div className="grid grid-cols-1 gap-1">
          <p className="text-xs font-medium text-muted-foreground">Output</p>
          <JsonView value={run.output} className="max-h-72 overflow-y-auto" />
        </div>
      )}
      {run.status === "waiting_approval" && executionStatus === "waiting_approval" && (
        <div className="grid grid-cols-1 gap-2 rounded-lg border border-warning/50 bg-warning/10 p-3">
          <p className="text-sm font-medium">Waiting for a decision</p>
          <ApproveInline executionId={executionId} />
        </div>
      )}
    </div>
  );
}
