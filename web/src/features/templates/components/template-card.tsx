"use client";

import { BadgeCheck, Download, Workflow } from "lucide-react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";

import type { TemplateSummary } from "../queries";
import { TemplateIcon } from "./icons";

export function templateTestId(template: Pick<TemplateSummary, "slug" | "id">): string {
  return `template-${template.slug ?? template.id}`;
}

/** One template in the gallery: the name opens its details; Install makes an agent of it at once. */
export function TemplateCard({
  template,
  canInstall,
  installing,
  onOpen,
  onInstall,
}: {
  template: TemplateSummary;
  canInstall: boolean;
  installing: boolean;
  onOpen: () => void;
  onInstall: () => void;
}) {
  return (
    <Card
      className="group relative flex flex-col gap-4 p-5 transition-shadow focus-within:ring-2 focus-within:ring-ring hover:shadow-md"
      data-testid={templateTestId(template)}
    >
      <div className="flex items-start gap-3">
        <TemplateIcon name={template.icon} />
        <div className="grid min-w-0 gap-1.5">
          <h3 className="leading-snug font-semibold">
            <button
              type="button"
              className="text-left outline-none after:absolute after:inset-0 after:rounded-xl after:content-['']"
              onClick={onOpen}
            >
              {template.name}
            </button>
          </h3>
          <div className="flex flex-wrap items-center gap-1.5">
            {template.category && <Badge variant="secondary">{template.category}</Badge>}
            {template.is_official && (
              <Badge variant="default">
                <BadgeCheck className="size-3" aria-hidden />
                Official
              </Badge>
            )}
            {template.mine && <Badge variant="outline">Your organization</Badge>}
          </div>
        </div>
      </div>
      <div className="flex-1">
        <p className="line-clamp-3 text-sm text-muted-foreground">{template.description || "No description."}</p>
      </div>
      <div className="flex items-center justify-between gap-3">
        <div className="flex items-center gap-3 text-xs text-muted-foreground">
          <span className="inline-flex items-center gap-1">
            <Workflow className="size-3.5" aria-hidden />
            {template.node_count} {template.node_count === 1 ? "step" : "steps"}
          </span>
          {template.install_count > 0 && (
            <span className="inline-flex items-center gap-1">
              <Download className="size-3.5" aria-hidden />
              {template.install_count.toLocaleString()} {template.install_count === 1 ? "install" : "installs"}
            </span>
          )}
        </div>
        {canInstall && (
          <Button size="sm" className="relative z-10" loading={installing} onClick={onInstall}>
            Install
          </Button>
        )}
      </div>
    </Card>
  );
}

export function TemplateCardSkeleton() {
  return (
    <Card className="flex flex-col gap-4 p-5" aria-hidden>
      <div className="flex items-start gap-3">
        <Skeleton className="size-10 rounded-lg" />
        <div className="grid flex-1 gap-2">
          <Skeleton className="h-4 w-3/4" />
          <Skeleton className="h-5 w-20" />
        </div>
      </div>
      <div className="grid gap-1.5">
        <Skeleton className="h-3.5 w-full" />
        <Skeleton className="h-3.5 w-full" />
        <Skeleton className="h-3.5 w-2/3" />
      </div>
      <div className="flex items-center justify-between">
        <Skeleton className="h-3.5 w-16" />
        <Skeleton className="h-8 w-16" />
      </div>
    </Card>
  );
}
