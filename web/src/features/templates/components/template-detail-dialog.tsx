"use client";

import { BadgeCheck, Plug } from "lucide-react";
import * as React from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { FAMILY_TONES, NodeGlyph } from "@/components/node-icon";
import { errorMessage } from "@/lib/api/errors";
import { cn } from "@/lib/utils";

import { countKinds, integrationsUsed, kindCountLabel, orderSteps } from "../graph-summary";
import { type TemplateSummary, useNodeTypeNames, useTemplate } from "../queries";
import { TemplateIcon } from "./icons";

/** A template up close: what it does, its steps in run order, and Install with a name of your choice. */
export function TemplateDetailDialog({
  summary,
  canInstall,
  installing,
  onInstall,
  onOpenChange,
}: {
  summary: TemplateSummary | null;
  canInstall: boolean;
  installing: boolean;
  onInstall: (name: string) => void;
  onOpenChange: (open: boolean) => void;
}) {
  const detail = useTemplate(summary?.id ?? null);
  const catalog = useNodeTypeNames();
  const [name, setName] = React.useState("");
  const [forId, setForId] = React.useState<string | null>(null);
  if (summary && summary.id !== forId) {
    setForId(summary.id);
    setName(summary.name);
  }

  const definition = detail.data?.definition;
  const steps = React.useMemo(
    () => (definition ? orderSteps(definition, catalog.data?.names) : []),
    [definition, catalog.data?.names],
  );
  const kinds = React.useMemo(() => (definition ? countKinds(definition) : []), [definition]);
  const integrations = React.useMemo(() => (definition ? integrationsUsed(definition) : []), [definition]);

  return (
    <Dialog open={summary !== null} onOpenChange={onOpenChange}>
      <DialogContent className="max-w-2xl">
        {summary && (
          <>
            <DialogHeader className="flex-row items-start gap-3">
              <TemplateIcon name={summary.icon} className="size-11" />
              <div className="grid gap-1.5">
                <DialogTitle>{summary.name}</DialogTitle>
                <div className="flex flex-wrap items-center gap-1.5">
                  {summary.category && <Badge variant="secondary">{summary.category}</Badge>}
                  {summary.is_official && (
                    <Badge>
                      <BadgeCheck className="size-3" aria-hidden />
                      Official
                    </Badge>
                  )}
                  <span className="text-xs text-muted-foreground">
                    {summary.node_count} steps · {summary.install_count.toLocaleString()}{" "}
                    {summary.install_count === 1 ? "install" : "installs"}
                  </span>
                </div>
              </div>
            </DialogHeader>
            <DialogDescription className="leading-relaxed">{summary.description}</DialogDescription>

            <section className="grid gap-3" aria-labelledby="template-steps-title">
              <div className="flex flex-wrap items-center justify-between gap-2">
                <h4 id="template-steps-title" className="text-sm font-semibold">
                  Steps
                </h4>
                <div className="flex flex-wrap gap-1.5" aria-label="Steps by kind">
                  {kinds.map(([kind, count]) => (
                    <span key={kind} className={cn("rounded-md px-1.5 py-0.5 text-xs font-medium", FAMILY_TONES[kind])}>
                      {kindCountLabel(kind, count)}
                    </span>
                  ))}
                </div>
              </div>
              {detail.isPending ? (
                <div className="grid gap-2" role="status" aria-label="Loading steps">
                  {Array.from({ length: Math.min(summary.node_count || 4, 6) }, (_, index) => (
                    <Skeleton key={index} className="h-9 w-full" />
                  ))}
                </div>
              ) : detail.isError ? (
                <p role="alert" className="text-sm text-destructive">
                  {errorMessage(detail.error)}
                </p>
              ) : (
                <ol
                  className="grid max-h-72 gap-1 overflow-y-auto rounded-lg border p-1.5"
                  data-testid="template-steps"
                >
                  {steps.map((step, index) => (
                    <li key={step.id} className="flex items-center gap-2.5 rounded-md px-2 py-1.5 text-sm">
                      <span className="w-5 text-right text-xs text-muted-foreground tabular-nums">{index + 1}</span>
                      <span
                        className={cn(
                          "flex size-6 shrink-0 items-center justify-center rounded-md",
                          FAMILY_TONES[step.type] ?? "bg-muted text-muted-foreground",
                        )}
                      >
                        <NodeGlyph icon={catalog.data?.icons[step.key]} family={step.type} className="size-3.5" />
                      </span>
                      <span className="min-w-0 flex-1 truncate">{step.label}</span>
                      <span className="shrink-0 text-xs text-muted-foreground">
                        {catalog.data?.names[step.key] ?? step.key}
                      </span>
                    </li>
                  ))}
                </ol>
              )}
              {integrations.length > 0 && (
                <div className="flex flex-wrap items-center gap-1.5 text-sm">
                  <Plug className="size-4 text-muted-foreground" aria-hidden />
                  <span className="text-muted-foreground">Connects to</span>
                  {integrations.map((integration) => (
                    <Badge key={integration} variant="outline">
                      {integration}
                    </Badge>
                  ))}
                </div>
              )}
            </section>

            {canInstall ? (
              <form
                className="grid gap-3 border-t pt-4 sm:grid-cols-[1fr_auto] sm:items-end"
                onSubmit={(event) => {
                  event.preventDefault();
                  onInstall(name.trim() || summary.name);
                }}
              >
                <Field id="install-name" label="Name of the new agent">
                  <Input
                    id="install-name"
                    value={name}
                    maxLength={255}
                    autoComplete="off"
                    onChange={(event) => setName(event.target.value)}
                  />
                </Field>
                <Button type="submit" loading={installing}>
                  Install
                </Button>
              </form>
            ) : (
              <p className="border-t pt-4 text-sm text-muted-foreground">
                Your role can browse templates; ask an editor or admin to install one.
              </p>
            )}
          </>
        )}
      </DialogContent>
    </Dialog>
  );
}
