"use client";

import { ChevronRight, ListTree } from "lucide-react";
import * as React from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { JsonView } from "@/components/ui/json-view";
import { Skeleton } from "@/components/ui/skeleton";
import { StatusBadge } from "@/components/ui/status-badge";
import { cn, formatDateTime, formatDuration } from "@/lib/utils";

import { elapsedMs, formatCostCell, formatTokens, isTerminal } from "../format";
import { type StepRow, stepTestId } from "../live";
import type { DefinitionNode } from "../queries";

/** What a step is called: its label in the graph, else its type's name, else its id. */
export interface StepNaming {
  nodes: Record<string, DefinitionNode> | undefined;
  typeNames: Record<string, string> | undefined;
  liveTypes: Record<string, string>;
}

function describe(row: StepRow, naming: StepNaming): { title: string; type: string | null } {
  const node = row.node_key ? naming.nodes?.[row.node_key] : undefined;
  const typeKey = node?.type ?? (row.node_key ? naming.liveTypes[row.node_key] : undefined);
  const typeName = typeKey ? (naming.typeNames?.[typeKey] ?? typeKey) : null;
  return { title: node?.label ?? typeName ?? row.node_key ?? "Step", type: typeName };
}

const DOT: Record<string, string> = {
  completed: "bg-success border-success",
  failed: "bg-destructive border-destructive",
  running: "bg-primary border-primary animate-pulse",
  retrying: "bg-warning border-warning animate-pulse",
  waiting_approval: "bg-warning border-warning",
  cancelled: "bg-background border-muted-foreground",
  skipped: "bg-background border-muted-foreground",
};

function hasDetails(row: StepRow): boolean {
  return row.input !== null || row.output !== null || Boolean(row.error_message);
}

function StepItem({ row, naming, now }: { row: StepRow; naming: StepNaming; now: number }) {
  const [open, setOpen] = React.useState(row.status === "failed");
  const { title, type } = describe(row, naming);
  const detailsId = `step-details-${row.id}`;
  const titleId = `step-title-${row.id}`;
  const running = !isTerminal(row.status) && row.status !== "waiting_approval";
  // A step still going has no duration yet: a running one counts up, a waiting one shows none.
  const duration = !isTerminal(row.status)
    ? row.status === "running" && row.started_at
      ? elapsedMs(row.started_at, null, now)
      : null
    : row.duration_ms;
  const expandable = hasDetails(row);

  // The rail: each row draws its part of the line, from the first dot down to the last one.
  return (
    <li
      className="relative pl-8 before:absolute before:top-0 before:-bottom-2 before:left-[12px] before:w-px before:bg-border first:before:top-4 last:before:bottom-auto last:before:h-4 only:before:hidden"
      data-testid={stepTestId(row)}
      data-status={row.status}
      data-node-id={row.node_key ?? undefined}
    >
      <span
        aria-hidden
        className={cn(
          "absolute top-4 left-[7px] z-10 size-3 rounded-full border-2",
          DOT[row.status] ?? "border-muted-foreground bg-muted",
        )}
      />
      <div className={cn("rounded-lg border bg-card", row.status === "failed" && "border-destructive/40")}>
        {/* The whole header toggles for the mouse; the chevron button is the named, focusable
            control. Its name is only "Show details": a node id such as "approve" in it would
            collide with the approval buttons' names. */}
        <div
          className={cn(
            "flex w-full flex-wrap items-center gap-x-3 gap-y-1 rounded-lg px-3 py-2.5",
            expandable && "cursor-pointer hover:bg-muted/40",
          )}
          onClick={expandable ? () => setOpen(!open) : undefined}
        >
          <button
            type="button"
            className="-m-1 rounded p-1 text-muted-foreground hover:text-foreground focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none disabled:invisible"
            aria-label={open ? "Hide details" : "Show details"}
            aria-describedby={titleId}
            aria-expanded={expandable ? open : undefined}
            aria-controls={expandable ? detailsId : undefined}
            disabled={!expandable}
            onClick={(event) => {
              event.stopPropagation();
              setOpen(!open);
            }}
          >
            <ChevronRight className={cn("size-4 shrink-0 transition-transform", open && "rotate-90")} aria-hidden />
          </button>
          <span className="flex min-w-0 flex-1 flex-col" id={titleId}>
            <span className="truncate text-sm font-medium">{title}</span>
            <span className="truncate text-xs text-muted-foreground">
              <code className="font-mono">{row.node_key ?? "—"}</code>
              {type && title !== type && <> · {type}</>}
            </span>
          </span>
          <span className="flex items-center gap-4 text-xs text-muted-foreground tabular-nums">
            {row.attempt > 1 && <Badge variant="outline">Attempt {row.attempt}</Badge>}
            <span title="Duration" className="w-16 text-right">
              {duration === null ? "—" : formatDuration(duration)}
            </span>
            <span title="Tokens" className="hidden w-16 text-right sm:inline">
              {row.tokens_used ? `${formatTokens(row.tokens_used)} tok` : "—"}
            </span>
            <span title="Cost" className="hidden w-20 text-right sm:inline">
              {formatCostCell(row.cost)}
            </span>
            <StatusBadge status={row.status} className="w-[8.75rem] justify-center" />
          </span>
        </div>
        {running && row.liveTokens && (
          <div className="border-t px-4 py-3" aria-live="polite">
            <p className="mb-1.5 text-xs font-medium text-muted-foreground">Streaming</p>
            <p className="text-sm leading-relaxed break-words whitespace-pre-wrap" data-testid="step-tokens">
              {row.liveTokens}
              <span className="ml-0.5 inline-block h-4 w-1.5 animate-pulse bg-primary align-text-bottom" aria-hidden />
            </p>
          </div>
        )}
        {open && expandable && (
          <div id={detailsId} className="grid gap-3 border-t px-4 py-3">
            {row.error_message && (
              <section>
                <h4 className="mb-1.5 text-xs font-medium text-destructive">Error</h4>
                <p className="rounded-md border border-destructive/30 bg-destructive/10 px-3 py-2 font-mono text-xs break-words whitespace-pre-wrap text-destructive">
                  {row.error_message}
                </p>
              </section>
            )}
            {row.input !== null && (
              <section>
                <h4 className="mb-1.5 text-xs font-medium text-muted-foreground">Input</h4>
                <JsonView value={row.input} />
              </section>
            )}
            {row.output !== null && (
              <section>
                <h4 className="mb-1.5 text-xs font-medium text-muted-foreground">Output</h4>
                <JsonView value={row.output} />
              </section>
            )}
            {row.started_at && (
              <p className="text-xs text-muted-foreground">
                Started {formatDateTime(row.started_at)}
                {row.completed_at && <> · finished {formatDateTime(row.completed_at)}</>}
              </p>
            )}
          </div>
        )}
      </div>
    </li>
  );
}

/** The run's steps in order, each with its status, cost and collapsible input/output/error. */
export function StepTimeline({
  rows,
  naming,
  now,
  loading,
  hasMore,
  loadingMore,
  onLoadMore,
  waitingToStart,
}: {
  rows: StepRow[];
  naming: StepNaming;
  now: number;
  loading: boolean;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore: () => void;
  waitingToStart: boolean;
}) {
  if (loading) {
    return (
      <div className="grid gap-2" role="status" aria-label="Loading steps">
        {Array.from({ length: 4 }, (_, index) => (
          <Skeleton key={index} className="h-[58px] w-full" />
        ))}
      </div>
    );
  }
  if (rows.length === 0) {
    return (
      <EmptyState
        icon={ListTree}
        title={waitingToStart ? "Waiting for a worker" : "No steps"}
        description={
          waitingToStart
            ? "The run is queued; its steps appear here as they start."
            : "This run finished without running any step."
        }
      />
    );
  }
  return (
    <div>
      <ol className="grid gap-2" aria-label="Steps">
        {rows.map((row) => (
          <StepItem key={row.id} row={row} naming={naming} now={now} />
        ))}
      </ol>
      {hasMore && (
        <div className="mt-3 flex justify-center">
          <Button variant="outline" onClick={onLoadMore} loading={loadingMore}>
            Load more steps
          </Button>
        </div>
      )}
    </div>
  );
}
