"use client";

import { useQueryClient } from "@tanstack/react-query";
import { ArrowUpRight, ChevronRight, Inbox } from "lucide-react";
import Link from "next/link";
import * as React from "react";
import { toast } from "sonner";

import { PageContainer } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader } from "@/components/ui/card";
import { EmptyState, LoadError } from "@/components/ui/empty-state";
import { JsonView } from "@/components/ui/json-view";
import { PageHeader } from "@/components/ui/page-header";
import { Skeleton } from "@/components/ui/skeleton";

import { useCan } from "@/lib/auth/session";
import { cn } from "@/lib/utils";

import { ApprovalForm } from "./components/approval-form";
import { ApprovalRequestView } from "./components/approval-request";
import { executionHref } from "./components/executions-table";
import { TriggerCell } from "./components/trigger-cell";
import { readApproval, shortId } from "./format";
import {
  type Execution,
  executionKeys,
  flattenPages,
  useAgentName,
  useDefinitionNodes,
  useNodeTypeNames,
  usePendingApprovals,
} from "./queries";

export function ApprovalsPage() {
  const pending = usePendingApprovals();
  const items = flattenPages(pending.data);
  const canExecute = useCan("agents.execute");

  return (
    <PageContainer className="max-w-4xl">
      <PageHeader title="Approvals" description="Runs paused at a human approval step that you may decide." />
      {pending.isPending ? (
        <div className="grid gap-4" role="status" aria-label="Loading approvals">
          {[0, 1].map((index) => (
            <Skeleton key={index} className="h-64 w-full rounded-xl" />
          ))}
        </div>
      ) : pending.isError && items.length === 0 ? (
        <LoadError what="approvals" error={pending.error} onRetry={() => void pending.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState
          icon={Inbox}
          title="Nothing waits for you"
          description="When a run reaches an approval step you may decide, it shows up here."
        />
      ) : (
        <>
          <ul className="grid gap-4" aria-label="Pending approvals">
            {items.map((execution) => (
              <li key={execution.id}>
                <ApprovalCard execution={execution} canExecute={canExecute} />
              </li>
            ))}
          </ul>
          {pending.hasNextPage && (
            <div className="mt-4 flex justify-center">
              <Button
                variant="outline"
                onClick={() => void pending.fetchNextPage()}
                loading={pending.isFetchingNextPage}
              >
                Load more
              </Button>
            </div>
          )}
        </>
      )}
    </PageContainer>
  );
}

function ApprovalCard({ execution, canExecute }: { execution: Execution; canExecute: boolean }) {
  const queryClient = useQueryClient();
  const agentName = useAgentName(execution.agent_id);
  const definition = useDefinitionNodes(execution.agent_id, execution.agent_version);
  const typeNames = useNodeTypeNames();
  const [showData, setShowData] = React.useState(false);
  const request = readApproval(execution.approval);
  if (!request) return null;
  const node = request.nodeId ? definition.data?.[request.nodeId] : undefined;
  const stepName = node?.label ?? (node ? typeNames.data?.[node.type] : undefined) ?? "Approval";
  const dataId = `trigger-data-${execution.id}`;

  return (
    <Card data-testid={`approval-${execution.id}`} aria-labelledby={`approval-title-${execution.id}`}>
      <CardHeader className="flex-row flex-wrap items-start justify-between gap-3 pb-3">
        <div className="grid min-w-0 gap-1">
          <h2 id={`approval-title-${execution.id}`} className="truncate font-semibold">
            {agentName ?? <Skeleton className="inline-block h-5 w-40 align-middle" />}
          </h2>
          <p className="flex flex-wrap items-center gap-x-2 text-xs text-muted-foreground">
            <span>
              {stepName}
              {request.nodeId && (
                <>
                  {" "}
                  <code className="font-mono">({request.nodeId})</code>
                </>
              )}
            </span>
            <span aria-hidden>·</span>
            <span>{execution.agent_version ? `v${execution.agent_version}` : "Draft"}</span>
            <span aria-hidden>·</span>
            <TriggerCell triggeredBy={execution.triggered_by} isTest={execution.is_test} />
          </p>
        </div>
        <Button asChild variant="ghost" size="sm">
          <Link href={executionHref(execution.id)} aria-label={`Open execution ${shortId(execution.id)}`}>
            Open run
            <ArrowUpRight aria-hidden />
          </Link>
        </Button>
      </CardHeader>
      <CardContent className="grid gap-4">
        <ApprovalRequestView request={request} requestedAt={request.requestedAt} />
        {Object.keys(execution.trigger_data ?? {}).length > 0 && (
          <div>
            <button
              type="button"
              className="inline-flex items-center gap-1 rounded text-xs font-medium text-muted-foreground hover:text-foreground focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none"
              aria-expanded={showData}
              aria-controls={dataId}
              onClick={() => setShowData(!showData)}
            >
              <ChevronRight className={cn("size-3.5 transition-transform", showData && "rotate-90")} aria-hidden />
              Trigger data
            </button>
            {showData && (
              <div id={dataId} className="mt-2">
                <JsonView value={execution.trigger_data} />
              </div>
            )}
          </div>
        )}
        {canExecute ? (
          <ApprovalForm
            executionId={execution.id}
            compact
            onDecided={(decision) => {
              toast.success(
                decision === "approve"
                  ? `Approved: ${agentName ?? "the run"} continues`
                  : `Rejected: ${agentName ?? "the run"} takes its rejected path`,
              );
            }}
            onConflict={(message) => {
              toast.info(`${message}: someone else decided first.`);
              void queryClient.invalidateQueries({ queryKey: executionKeys.all });
            }}
          />
        ) : (
          <p className="text-sm text-muted-foreground">Your role can view this request but not decide it.</p>
        )}
      </CardContent>
    </Card>
  );
}
