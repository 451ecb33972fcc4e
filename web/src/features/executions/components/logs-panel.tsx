"use client";

import { ChevronRight, ScrollText } from "lucide-react";
import * as React from "react";

import { Badge, type BadgeProps } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { NativeSelect } from "@/components/ui/input";
import { JsonView } from "@/components/ui/json-view";
import { Label } from "@/components/ui/label";
import { SkeletonRows } from "@/components/ui/skeleton";
import { cn, formatDateTime } from "@/lib/utils";

import { LOG_LEVELS, LOG_LEVEL_LABELS, type LogLevel, filterLogs } from "../logs";
import type { Log } from "../queries";

const LEVEL_LOOK: Record<string, BadgeProps["variant"]> = {
  debug: "outline",
  info: "secondary",
  warn: "warning",
  warning: "warning",
  error: "destructive",
  critical: "destructive",
};

function time(iso: string): string {
  const date = new Date(iso);
  return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

function LogLine({ log, node }: { log: Log; node: string | undefined }) {
  const [open, setOpen] = React.useState(false);
  const hasData = log.data !== null && Object.keys(log.data).length > 0;
  return (
    <li className="grid gap-2 px-4 py-2.5" data-level={log.level}>
      <div className="flex items-start gap-3 text-sm">
        <time
          dateTime={log.created_at}
          title={formatDateTime(log.created_at)}
          className="shrink-0 pt-0.5 font-mono text-xs text-muted-foreground tabular-nums"
        >
          {time(log.created_at)}
        </time>
        <Badge variant={LEVEL_LOOK[log.level] ?? "outline"} className="w-16 shrink-0 justify-center uppercase">
          {log.level}
        </Badge>
        {node && <code className="shrink-0 pt-0.5 font-mono text-xs text-muted-foreground">{node}</code>}
        <p className="min-w-0 flex-1 break-words whitespace-pre-wrap">{log.message}</p>
        {hasData && (
          <button
            type="button"
            className="inline-flex shrink-0 items-center gap-1 rounded text-xs text-muted-foreground hover:text-foreground focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none"
            aria-expanded={open}
            onClick={() => setOpen(!open)}
          >
            <ChevronRight className={cn("size-3.5 transition-transform", open && "rotate-90")} aria-hidden />
            Data
          </button>
        )}
      </div>
      {open && hasData && <JsonView value={log.data} />}
    </li>
  );
}

/** The run's log lines, oldest first, with a level filter (the API returns every level). */
export function LogsPanel({
  logs,
  stepNodes,
  loading,
  hasMore,
  loadingMore,
  onLoadMore,
  finished,
}: {
  finished: boolean;
  logs: Log[];
  stepNodes: Record<string, string>;
  loading: boolean;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore: () => void;
}) {
  const [level, setLevel] = React.useState<LogLevel | "">("");
  const shown = filterLogs(logs, level || null);

  return (
    <div className="grid gap-3">
      <div className="flex items-end justify-between gap-3">
        <div className="grid w-44 gap-1.5">
          <Label htmlFor="log-level" className="text-xs text-muted-foreground">
            Level
          </Label>
          <NativeSelect id="log-level" value={level} onChange={(event) => setLevel(event.target.value as LogLevel)}>
            <option value="">All levels</option>
            {LOG_LEVELS.map((value) => (
              <option key={value} value={value}>
                {LOG_LEVEL_LABELS[value]}
              </option>
            ))}
          </NativeSelect>
        </div>
        {!loading && logs.length > 0 && (
          <p className="text-xs text-muted-foreground" aria-live="polite">
            {shown.length === logs.length ? logs.length : `${shown.length} of ${logs.length}`}
            {hasMore ? "+" : ""} {logs.length === 1 ? "line" : "lines"}
          </p>
        )}
      </div>
      {loading ? (
        <SkeletonRows rows={4} />
      ) : shown.length === 0 ? (
        <EmptyState
          icon={ScrollText}
          title={logs.length > 0 ? "No lines at this level" : finished ? "No logs" : "No logs yet"}
          description={
            logs.length > 0
              ? "Choose a lower level to see them all."
              : finished
                ? "This run wrote no log lines: nothing failed, retried or called out."
                : "Nodes write log lines here as they run (errors, retries, tool calls)."
          }
        />
      ) : (
        <ol className="divide-y rounded-lg border bg-card" aria-label="Logs">
          {shown.map((log) => (
            <LogLine key={log.id} log={log} node={log.step_id ? stepNodes[log.step_id] : undefined} />
          ))}
        </ol>
      )}
      {hasMore && (
        <div className="flex justify-center">
          <Button variant="outline" onClick={onLoadMore} loading={loadingMore}>
            Load more logs
          </Button>
        </div>
      )}
    </div>
  );
}
