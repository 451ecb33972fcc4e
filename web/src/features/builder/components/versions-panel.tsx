"use client";

import { GitCompare, History, RotateCcw } from "lucide-react";
import * as React from "react";
import { toast } from "sonner";

import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm";
import { EmptyState } from "@/components/ui/empty-state";
import { NativeSelect } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { SkeletonRows } from "@/components/ui/skeleton";
import { cn, formatDateTime, timeAgo } from "@/lib/utils";

import { markLoaded } from "../autosave";
import { useDiff, useRestoreVersion, useVersions } from "../queries";
import { useBuilderStore } from "../store";
import type { Definition, Issue } from "../types";
import { DiffView } from "./diff-view";

export function VersionsPanel({ agentId, canWrite }: { agentId: string; canWrite: boolean }) {
  const versions = useVersions(agentId);
  const items = versions.data?.items ?? [];
  const latest = items[0]?.version;
  const [compare, setCompare] = React.useState<{ from: string; to: string } | null>(null);
  const current = compare ?? (latest ? { from: String(latest), to: "draft" } : null);
  const diff = useDiff(agentId, current?.from ?? null, current?.to ?? null);
  const restore = useRestoreVersion(agentId);
  const [restoring, setRestoring] = React.useState<number | null>(null);

  async function doRestore(version: number) {
    const draft = await restore.mutateAsync(version);
    const { catalog, readOnly } = useBuilderStore.getState();
    useBuilderStore.getState().load(draft.definition as unknown as Definition, catalog, { readOnly });
    useBuilderStore.getState().setIssues(draft.issues as Issue[]);
    markLoaded(draft.revision);
    toast.success(`Version ${version} is in the draft now. Publish it to make it live.`);
  }

  if (versions.isPending) return <SkeletonRows rows={4} className="p-4" />;
  if (versions.isError)
    return <p className="p-4 text-sm text-destructive">Could not load the versions: {versions.error.message}</p>;
  if (items.length === 0) {
    return (
      <div className="p-4">
        <EmptyState
          icon={History}
          title="Not published yet"
          description={
            canWrite
              ? "Publish the draft to create version 1; every publish adds a version you can go back to."
              : "Versions appear here once someone publishes this agent."
          }
        />
      </div>
    );
  }

  const options = [
    { value: "draft", label: "Draft" },
    ...items.map((item) => ({ value: String(item.version), label: `Version ${item.version}` })),
  ];

  return (
    <div className="grid grid-cols-1 gap-5 p-4">
      <section aria-label="Compare" className="grid grid-cols-1 gap-3">
        <div className="grid grid-cols-[1fr_auto_1fr] items-end gap-2">
          <div className="grid grid-cols-1 gap-1">
            <Label htmlFor="diff-from" className="text-xs">
              Compare
            </Label>
            <NativeSelect
              id="diff-from"
              className="h-8 text-xs"
              value={current?.from ?? ""}
              onChange={(event) => setCompare({ from: event.target.value, to: current?.to ?? "draft" })}
            >
              {options.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </NativeSelect>
          </div>
          <span className="pb-2 text-xs text-muted-foreground">with</span>
          <div className="grid grid-cols-1 gap-1">
            <Label htmlFor="diff-to" className="text-xs">
              With
            </Label>
            <NativeSelect
              id="diff-to"
              className="h-8 text-xs"
              value={current?.to ?? ""}
              onChange={(event) => setCompare({ from: current?.from ?? "draft", to: event.target.value })}
            >
              {options.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </NativeSelect>
          </div>
        </div>
        {current && current.from === current.to ? (
          <p className="text-sm text-muted-foreground">Pick two different versions.</p>
        ) : diff.isError ? (
          <p className="text-sm text-destructive">{diff.error.message}</p>
        ) : (
          <DiffView diff={diff.data} loading={diff.isPending} />
        )}
      </section>

      <section aria-label="Versions" className="grid grid-cols-1 gap-2">
        <h3 className="text-xs font-semibold tracking-wide text-muted-foreground uppercase">Versions</h3>
        <ol className="grid grid-cols-1 gap-2">
          {items.map((item) => {
            const selected = current?.to === String(item.version) || current?.from === String(item.version);
            return (
              <li
                key={item.id}
                className={cn(
                  "grid grid-cols-1 gap-1.5 rounded-lg border p-3",
                  selected && "border-primary/50 bg-primary/5",
                )}
                data-testid={`version-${item.version}`}
              >
                <div className="flex items-baseline justify-between gap-2">
                  <span className="font-medium">
                    Version {item.version}
                    {item.version === latest && (
                      <span className="ml-2 rounded bg-success/15 px-1.5 py-0.5 text-[11px] font-medium text-success">
                        live
                      </span>
                    )}
                  </span>
                  <time
                    className="text-xs text-muted-foreground"
                    dateTime={item.created_at}
                    title={formatDateTime(item.created_at)}
                  >
                    {timeAgo(item.created_at)}
                  </time>
                </div>
                <p className={cn("text-sm", !item.change_message && "text-muted-foreground italic")}>
                  {item.change_message || "No change message"}
                </p>
                <p className="text-xs text-muted-foreground">
                  {item.node_count} nodes · {item.edge_count} edges
                </p>
                <div className="flex flex-wrap gap-1">
                  <Button
                    variant="ghost"
                    size="sm"
                    className="h-7 px-2 text-xs"
                    onClick={() =>
                      setCompare(
                        item.version > 1
                          ? { from: String(item.version - 1), to: String(item.version) }
                          : { from: String(item.version), to: "draft" },
                      )
                    }
                    aria-label={`Show what changed in version ${item.version}`}
                  >
                    <GitCompare aria-hidden />
                    {item.version > 1 ? "What changed" : "Compare with draft"}
                  </Button>
                  {item.version > 1 && (
                    <Button
                      variant="ghost"
                      size="sm"
                      className="h-7 px-2 text-xs"
                      onClick={() => setCompare({ from: String(item.version), to: "draft" })}
                      aria-label={`Compare version ${item.version} with the draft`}
                    >
                      Compare with draft
                    </Button>
                  )}
                  {canWrite && (
                    <Button
                      variant="ghost"
                      size="sm"
                      className="h-7 px-2 text-xs"
                      onClick={() => setRestoring(item.version)}
                      aria-label={`Restore version ${item.version}`}
                    >
                      <RotateCcw aria-hidden />
                      Restore
                    </Button>
                  )}
                </div>
              </li>
            );
          })}
        </ol>
      </section>

      <ConfirmDialog
        open={restoring !== null}
        onOpenChange={(open) => !open && setRestoring(null)}
        title={`Restore version ${restoring ?? ""}?`}
        description="The draft is replaced by this version; what is on the canvas now is lost unless it was published. Publishing afterwards makes it a new version."
        confirmLabel="Restore to draft"
        destructive={false}
        onConfirm={() => (restoring !== null ? doRestore(restoring) : undefined)}
      />
    </div>
  );
}
