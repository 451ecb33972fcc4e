"use client";

import { LayoutTemplate, Search, SearchX } from "lucide-react";
import { useRouter } from "next/navigation";
import * as React from "react";
import { toast } from "sonner";

import { PageContainer } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { EmptyState, LoadError } from "@/components/ui/empty-state";
import { Input } from "@/components/ui/input";
import { PageHeader } from "@/components/ui/page-header";

import { useCan } from "@/lib/auth/session";
import { cn } from "@/lib/utils";

import { TemplateCard, TemplateCardSkeleton } from "./components/template-card";
import { TemplateDetailDialog } from "./components/template-detail-dialog";
import { type TemplateSummary, useInstallTemplate, useTemplateCategories, useTemplateList } from "./queries";
import { useDebouncedValue } from "./use-debounced-value";

function builderHref(agentId: string): string {
  return `/agents/builder/?id=${encodeURIComponent(agentId)}`;
}

function Chip({ active, onClick, children }: { active: boolean; onClick: () => void; children: React.ReactNode }) {
  return (
    <button
      type="button"
      aria-pressed={active}
      onClick={onClick}
      className={cn(
        "inline-flex h-8 items-center gap-1.5 rounded-full border px-3 text-sm font-medium transition-colors focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none",
        active
          ? "border-primary bg-primary text-primary-foreground"
          : "bg-background text-muted-foreground hover:bg-accent hover:text-accent-foreground",
      )}
    >
      {children}
    </button>
  );
}

export function TemplatesPage() {
  const router = useRouter();
  const canInstall = useCan("agents.write");
  const [text, setText] = React.useState("");
  const q = useDebouncedValue(text.trim(), 300);
  const [category, setCategory] = React.useState<string | undefined>(undefined);
  const [open, setOpen] = React.useState<TemplateSummary | null>(null);

  const categories = useTemplateCategories();
  const list = useTemplateList({ q: q || undefined, category });
  const templates = list.data?.pages.flatMap((page) => page.items) ?? [];
  const total = categories.data?.reduce((sum, [, count]) => sum + count, 0);

  const install = useInstallTemplate();
  const installingId = install.isPending || install.isSuccess ? install.variables?.id : undefined;

  function installTemplate(template: TemplateSummary, name?: string) {
    install.mutate(
      { id: template.id, name },
      {
        onSuccess: (agent) => {
          toast.success(`Installed ${agent.name}`);
          router.push(builderHref(agent.id));
        },
      },
    );
  }

  const filtered = Boolean(q || category);

  return (
    <PageContainer>
      <PageHeader
        title="Templates"
        description="Ready-made agents to start from. Install one, then make it yours in the builder."
      />

      <div className="mb-6 grid gap-4">
        <div className="relative max-w-md">
          <Search
            className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground"
            aria-hidden
          />
          <Input
            type="search"
            aria-label="Search templates"
            placeholder="Search templates"
            value={text}
            maxLength={255}
            className="pl-8"
            onChange={(event) => setText(event.target.value)}
          />
        </div>
        <div className="flex min-h-8 flex-wrap gap-2" role="group" aria-label="Category">
          <Chip active={!category} onClick={() => setCategory(undefined)}>
            All
            {total !== undefined && <span className="text-xs opacity-70">{total}</span>}
          </Chip>
          {categories.data?.map(([name, count]) => (
            <Chip
              key={name}
              active={category === name}
              onClick={() => setCategory(category === name ? undefined : name)}
            >
              {name}
              <span className="text-xs opacity-70">{count}</span>
            </Chip>
          ))}
        </div>
      </div>

      {list.isPending ? (
        <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" role="status" aria-label="Loading templates">
          {Array.from({ length: 6 }, (_, index) => (
            <TemplateCardSkeleton key={index} />
          ))}
        </div>
      ) : list.isError && templates.length === 0 ? (
        <LoadError what="templates" error={list.error} onRetry={() => void list.refetch()} />
      ) : templates.length === 0 ? (
        filtered ? (
          <EmptyState
            icon={SearchX}
            title="No templates match"
            description="Try other words or another category."
            action={
              <Button
                variant="outline"
                onClick={() => {
                  setText("");
                  setCategory(undefined);
                }}
              >
                Show all templates
              </Button>
            }
          />
        ) : (
          <EmptyState
            icon={LayoutTemplate}
            title="No templates yet"
            description="Templates published by your organization, and the official ones, show up here."
          />
        )
      ) : (
        <>
          <div
            className={cn(
              "grid gap-4 transition-opacity sm:grid-cols-2 lg:grid-cols-3",
              list.isPlaceholderData && "opacity-60",
            )}
          >
            {templates.map((template) => (
              <TemplateCard
                key={template.id}
                template={template}
                canInstall={canInstall}
                installing={installingId === template.id && !open}
                onOpen={() => setOpen(template)}
                onInstall={() => installTemplate(template)}
              />
            ))}
          </div>
          {list.hasNextPage && (
            <div className="mt-6 flex justify-center">
              <Button variant="outline" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
                Load more
              </Button>
            </div>
          )}
        </>
      )}

      <TemplateDetailDialog
        summary={open}
        canInstall={canInstall}
        installing={Boolean(open && installingId === open.id)}
        onInstall={(name) => open && installTemplate(open, name)}
        onOpenChange={(next) => {
          if (!next && !install.isPending) setOpen(null);
        }}
      />
    </PageContainer>
  );
}
