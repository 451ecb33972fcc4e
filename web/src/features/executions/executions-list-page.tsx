"use client";

import { History, RefreshCw, SearchX } from "lucide-react";
import Link from "next/link";
import * as React from "react";

import { PageContainer } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { EmptyState, LoadError } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";

import { useNow } from "@/lib/use-now";
import { useUrlFilters } from "@/lib/use-url-filters";

import { ExecutionFiltersBar } from "./components/execution-filters";
import { ExecutionsTable, ExecutionsTableSkeleton } from "./components/executions-table";
import { activeFilterCount, filtersToSearch, parseFilters } from "./filters";
import { isTerminal } from "./format";
import { flattenPages, useAgents, useExecutionList } from "./queries";

export function ExecutionsListPage() {
  const { filters, update } = useUrlFilters(parseFilters, filtersToSearch);

  const [refreshing, setRefreshing] = React.useState(false);
  const agents = useAgents();
  const list = useExecutionList(filters);
  const executions = flattenPages(list.data);
  const now = useNow(
    1000,
    executions.some((run) => run.status === "running"),
  );
  const filtered = activeFilterCount(filters) > 0;

  return (
    <PageContainer>
      <PageHeader
        title="Executions"
        description="Every run of every agent: how it started, how it went, what it cost."
        actions={
          <Button
            variant="outline"
            onClick={() => {
              setRefreshing(true);
              void list.refetch().finally(() => setRefreshing(false));
            }}
            loading={refreshing}
          >
            {!refreshing && <RefreshCw aria-hidden />}
            Refresh
          </Button>
        }
      />
      <ExecutionFiltersBar filters={filters} agents={agents.data} onChange={update} />
      {list.isPending ? (
        <ExecutionsTableSkeleton />
      ) : list.isError && executions.length === 0 ? (
        <LoadError what="executions" error={list.error} onRetry={() => void list.refetch()} />
      ) : executions.length === 0 ? (
        filtered ? (
          <EmptyState
            icon={SearchX}
            title="No executions match these filters"
            description="Try another status, agent or date range."
            action={
              <Button variant="outline" onClick={() => update(null)}>
                Show all executions
              </Button>
            }
          />
        ) : (
          <EmptyState
            icon={History}
            title="No executions yet"
            description="Runs show up here when an agent runs: from the builder, the API, a webhook or a schedule."
            action={
              <Button asChild variant="outline">
                <Link href="/agents/">Go to agents</Link>
              </Button>
            }
          />
        )
      ) : (
        <div className={list.isPlaceholderData ? "opacity-60 transition-opacity" : "transition-opacity"}>
          <ExecutionsTable executions={executions} now={now} />
          <div className="mt-4 flex min-h-9 items-center justify-between text-sm text-muted-foreground">
            <span aria-live="polite">
              {executions.length} {executions.length === 1 ? "run" : "runs"}
              {list.hasNextPage ? " shown" : ""}
              {executions.some((run) => !isTerminal(run.status)) && " · updating live"}
            </span>
            {list.hasNextPage && (
              <Button variant="outline" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
                Load more
              </Button>
            )}
          </div>
        </div>
      )}
    </PageContainer>
  );
}
