"use client";

import { Minus, Pencil, Plus } from "lucide-react";
import * as React from "react";

import { Skeleton } from "@/components/ui/skeleton";
import { cn } from "@/lib/utils";

import type { DefinitionDiff, DiffSection } from "../queries";
import { useBuilderStore } from "../store";

function short(value: unknown): string {
  if (value === undefined) return "—";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 140 ? `${text.slice(0, 140)}…` : text;
}

function countOf(section: DiffSection) {
  return {
    added: Object.keys(section.added).length,
    removed: Object.keys(section.removed).length,
    changed: Object.keys(section.changed).length,
  };
}

/** "2 nodes added, 1 node changed, 1 edge removed" */
export function diffSummary(diff: DefinitionDiff): string {
  if (!diff.has_changes) return "No changes";
  const parts: string[] = [];
  for (const [name, section] of [
    ["node", diff.nodes],
    ["edge", diff.edges],
  ] as const) {
    const counts = countOf(section);
    for (const kind of ["added", "removed", "changed"] as const) {
      if (counts[kind] > 0) parts.push(`${counts[kind]} ${name}${counts[kind] === 1 ? "" : "s"} ${kind}`);
    }
  }
  return parts.join(", ");
}

function nodeName(item: Record<string, unknown> | undefined, id: string): string {
  // A changed node's entry carries only its changes: its label comes from the canvas, if it is there.
  const label = item?.label ?? useBuilderStore.getState().nodes.find((node) => node.id === id)?.data.label;
  return typeof label === "string" && label ? `${label} (${id})` : id;
}

function edgeName(item: Record<string, unknown> | undefined, id: string): string {
  if (!item) return id;
  const handle = item.source_handle && item.source_handle !== "out" ? ` [${String(item.source_handle)}]` : "";
  return `${String(item.source)}${handle} → ${String(item.target)}`;
}

function ChangeRows({ changes }: { changes: Record<string, unknown> }) {
  const rows: [string, unknown, unknown][] = [];
  for (const [field, change] of Object.entries(changes)) {
    if (field === "config" && change && typeof change === "object") {
      for (const [key, inner] of Object.entries(change as Record<string, { old?: unknown; new?: unknown }>)) {
        rows.push([`config.${key}`, inner.old, inner.new]);
      }
    } else {
      const { old, new: next } = (change ?? {}) as { old?: unknown; new?: unknown };
      rows.push([field, old, next]);
    }
  }
  return (
    <dl className="mt-1 grid gap-1 pl-5 text-xs">
      {rows.map(([field, old, next]) => (
        <div key={field} className="grid grid-cols-1 gap-0.5">
          <dt className="font-mono text-muted-foreground">{field}</dt>
          <dd className="grid grid-cols-1 gap-0.5 font-mono">
            <span className="rounded bg-destructive/10 px-1 break-all text-destructive line-through decoration-destructive/40">
              {short(old)}
            </span>
            <span className="rounded bg-success/10 px-1 break-all text-success">{short(next)}</span>
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Section({
  title,
  section,
  name,
}: {
  title: string;
  section: DiffSection;
  name: (item: Record<string, unknown> | undefined, id: string) => string;
}) {
  const entries = [
    ...Object.entries(section.added).map(([id, item]) => ({ id, kind: "added" as const, item, changes: null })),
    ...Object.entries(section.removed).map(([id, item]) => ({ id, kind: "removed" as const, item, changes: null })),
    ...Object.entries(section.changed).map(([id, changes]) => ({
      id,
      kind: "changed" as const,
      item: undefined,
      changes,
    })),
  ];
  if (entries.length === 0) return null;
  const Icon = { added: Plus, removed: Minus, changed: Pencil };
  const tone = { added: "text-success", removed: "text-destructive", changed: "text-amber-600 dark:text-warning" };
  return (
    <div className="grid grid-cols-1 gap-1.5">
      <p className="text-xs font-semibold tracking-wide text-muted-foreground uppercase">{title}</p>
      <ul className="grid grid-cols-1 gap-1.5">
        {entries.map((entry) => {
          const EntryIcon = Icon[entry.kind];
          return (
            <li key={`${entry.kind}-${entry.id}`} className="rounded-md border px-2.5 py-2 text-sm">
              <span className="flex items-center gap-1.5">
                <EntryIcon className={cn("size-3.5 shrink-0", tone[entry.kind])} aria-label={entry.kind} />
                <span className="min-w-0 truncate font-medium">{name(entry.item, entry.id)}</span>
                <span className={cn("ml-auto text-xs", tone[entry.kind])}>{entry.kind}</span>
              </span>
              {entry.changes && <ChangeRows changes={entry.changes as Record<string, unknown>} />}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export function DiffView({ diff, loading }: { diff: DefinitionDiff | undefined; loading?: boolean }) {
  if (loading || !diff) {
    return (
      <div className="grid grid-cols-1 gap-2" role="status" aria-label="Loading changes">
        <Skeleton className="h-5 w-40" />
        <Skeleton className="h-12 w-full" />
        <Skeleton className="h-12 w-full" />
      </div>
    );
  }
  return (
    <div className="grid grid-cols-1 gap-3" data-testid="diff">
      <p className="text-sm text-muted-foreground">{diffSummary(diff)}</p>
      <Section title="Nodes" section={diff.nodes} name={nodeName} />
      <Section title="Edges" section={diff.edges} name={edgeName} />
    </div>
  );
}
