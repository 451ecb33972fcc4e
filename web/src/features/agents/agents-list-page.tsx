"use client";

import { Bot, LayoutTemplate, Plus, Search, SearchX, Upload, X } from "lucide-react";
import Link from "next/link";
import * as React from "react";

import { PageContainer } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { EmptyState, LoadError } from "@/components/ui/empty-state";
import { Input, NativeSelect } from "@/components/ui/input";
import { PageHeader } from "@/components/ui/page-header";
import { FilterField } from "@/components/ui/filter-field";

import { useCan } from "@/lib/auth/session";
import { cn } from "@/lib/utils";
import { useNow } from "@/lib/use-now";
import { useUrlFilters } from "@/lib/use-url-filters";

import { AgentsTable, AgentsTableSkeleton } from "./components/agents-table";
import { CreateAgentDialog } from "./components/create-agent-dialog";
import { ImportAgentDialog } from "./components/import-agent-dialog";
import {
  AGENT_STATUSES,
  type AgentFilters,
  MAX_QUERY_LENGTH,
  SORTS,
  SORT_LABELS,
  STATUS_LABELS,
  TRIGGER_LABELS,
  TRIGGER_TYPES,
  agentFiltersToSearch,
  cleanQuery,
  isFiltered,
  parseAgentFilters,
} from "./filters";
import { flattenPages, useAgentList } from "./queries";

const SEARCH_DELAY_MS = 300;

export function AgentsListPage() {
  const { filters, update } = useUrlFilters(parseAgentFilters, agentFiltersToSearch);
  const canWrite = useCan("agents.write");
  const now = useNow();

  const [creating, setCreating] = React.useState(false);
  const [importing, setImporting] = React.useState(false);

  // The search box types freely; the URL (and the request) follows once typing pauses.
  const [text, setText] = React.useState(filters.q ?? "");
  const [pushed, setPushed] = React.useState(filters.q);
  const [seenQ, setSeenQ] = React.useState(filters.q);
  const timer = React.useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  if (filters.q !== seenQ) {
    // Back/forward changed the search: show it, unless it is what we just sent.
    setSeenQ(filters.q);
    if (filters.q !== pushed) setText(filters.q ?? "");
  }
  React.useEffect(() => () => clearTimeout(timer.current), []);

  function onSearch(value: string) {
    setText(value);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      setPushed(cleanQuery(value));
      update({ q: value });
    }, SEARCH_DELAY_MS);
  }

  function clearAll() {
    clearTimeout(timer.current);
    setText("");
    setPushed(undefined);
    update({ q: undefined, status: undefined, trigger: undefined });
  }

  const list = useAgentList(filters);
  const agents = flattenPages(list.data);
  const filtered = isFiltered(filters);

  return (
    <PageContainer>
      <PageHeader
        title="Agents"
        description="Your team's automations: build them, publish versions, and turn them on."
        actions={
          canWrite && (
            <>
              <Button variant="outline" onClick={() => setImporting(true)}>
                <Upload aria-hidden />
                Import
              </Button>
              <Button variant="outline" asChild>
                <Link href="/templates/">
                  <LayoutTemplate aria-hidden />
                  From template
                </Link>
              </Button>
              <Button onClick={() => setCreating(true)}>
                <Plus aria-hidden />
                New agent
              </Button>
            </>
          )
        }
      />

      <div className="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label="Filter agents">
        <FilterField id="agent-search" label="Search" className="min-w-56 flex-1">
          <div className="relative">
            <Search
              className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground"
              aria-hidden
            />
            <Input
              id="agent-search"
              type="search"
              value={text}
              maxLength={MAX_QUERY_LENGTH}
              placeholder="Search by name"
              className="pl-8"
              onChange={(event) => onSearch(event.target.value)}
            />
          </div>
        </FilterField>
        <FilterField id="agent-status" label="Status" className="w-40">
          <NativeSelect
            id="agent-status"
            value={filters.status ?? ""}
            onChange={(event) => update({ status: (event.target.value || undefined) as AgentFilters["status"] })}
          >
            <option value="">All but archived</option>
            {AGENT_STATUSES.map((status) => (
              <option key={status} value={status}>
                {STATUS_LABELS[status]}
              </option>
            ))}
          </NativeSelect>
        </FilterField>
        <FilterField id="agent-trigger" label="Trigger" className="w-36">
          <NativeSelect
            id="agent-trigger"
            value={filters.trigger ?? ""}
            onChange={(event) => update({ trigger: (event.target.value || undefined) as AgentFilters["trigger"] })}
          >
            <option value="">Any trigger</option>
            {TRIGGER_TYPES.map((trigger) => (
              <option key={trigger} value={trigger}>
                {TRIGGER_LABELS[trigger]}
              </option>
            ))}
          </NativeSelect>
        </FilterField>
        <FilterField id="agent-sort" label="Sort by" className="w-44">
          <NativeSelect
            id="agent-sort"
            value={filters.sort ?? "updated"}
            onChange={(event) => update({ sort: event.target.value as AgentFilters["sort"] })}
          >
            {SORTS.map((sort) => (
              <option key={sort} value={sort}>
                {SORT_LABELS[sort]}
              </option>
            ))}
          </NativeSelect>
        </FilterField>
        {filtered && (
          <Button variant="ghost" onClick={clearAll}>
            <X aria-hidden />
            Clear
          </Button>
        )}
      </div>

      {list.isPending ? (
        <AgentsTableSkeleton />
      ) : list.isError && agents.length === 0 ? (
        <LoadError what="agents" error={list.error} onRetry={() => void list.refetch()} />
      ) : agents.length === 0 ? (
        filtered ? (
          <EmptyState
            icon={SearchX}
            title="No agents match"
            description={
              filters.status === "archived"
                ? "No archived agent matches this search."
                : "Try another name, status or trigger."
            }
            action={
              <Button variant="outline" onClick={clearAll}>
                Show all agents
              </Button>
            }
          />
        ) : (
          <EmptyState
            icon={Bot}
            title="No agents yet"
            description={
              canWrite
                ? "Start from a ready-made template, or build one from scratch in the visual builder."
                : "When your team builds agents, they show up here."
            }
            action={
              canWrite && (
                <div className="flex flex-wrap justify-center gap-2">
                  <Button variant="outline" asChild>
                    <Link href="/templates/">
                      <LayoutTemplate aria-hidden />
                      Browse templates
                    </Link>
                  </Button>
                  <Button onClick={() => setCreating(true)}>
                    <Plus aria-hidden />
                    Create an agent
                  </Button>
                </div>
              )
            }
          />
        )
      ) : (
        <div className={cn("transition-opacity", list.isPlaceholderData && "opacity-60")}>
          <AgentsTable agents={agents} now={now} />
          <div className="mt-4 flex min-h-9 items-center justify-between text-sm text-muted-foreground">
            <span aria-live="polite">
              {agents.length} {agents.length === 1 ? "agent" : "agents"}
              {list.hasNextPage ? " shown" : ""}
            </span>
            {list.hasNextPage && (
              <Button variant="outline" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
                Load more
              </Button>
            )}
          </div>
        </div>
      )}

      <CreateAgentDialog open={creating} onOpenChange={setCreating} />
      <ImportAgentDialog open={importing} onOpenChange={setImporting} />
    </PageContainer>
  );
}
