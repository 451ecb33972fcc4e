"use client";

import { useQueryClient } from "@tanstack/react-query";
import { AlertTriangle, ArrowLeft, CircleSlash, Hand, Info, PauseCircle, SearchX, Workflow } from "lucide-react";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import * as React from "react";
import { toast } from "sonner";

import { PageContainer } from "@/components/shell/app-shell";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm";
import { EmptyState } from "@/components/ui/empty-state";
import { JsonView } from "@/components/ui/json-view";
import { Skeleton } from "@/components/ui/skeleton";
import { StatusBadge } from "@/components/ui/status-badge";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { ApiError, errorMessage } from "@/lib/api/errors";
import { useCan } from "@/lib/auth/session";
import { useExecutionStream } from "@/lib/stream/use-execution-stream";
import { cn, formatCost, formatDuration, timeAgo } from "@/lib/utils";
import { useNow } from "@/lib/use-now";
import { isUuid } from "@/lib/ids";

import { ApprovalForm } from "./components/approval-form";
import { ApprovalRequestView } from "./components/approval-request";
import { LiveIndicator } from "./components/live-indicator";
import { LogsPanel } from "./components/logs-panel";
import { RunSummary } from "./components/run-summary";
import { StepTimeline } from "./components/step-timeline";
import { elapsedMs, formatTokens, sinceText, isTerminal, readApproval, shortId, triggerLabel } from "./format";
import { mergeExecution, mergeSteps, nodeTypesFromEvents } from "./live";
import {
  type Execution,
  executionKeys,
  flattenPages,
  useAgentName,
  useCancel,
  useDefinitionNodes,
  useExecution,
  useLogs,
  useNodeTypeNames,
  useSteps,
} from "./queries";
import { useStreamInvalidation } from "./use-stream-invalidation";

/** Fallback polling while the stream is not live (refused, reconnecting). */
const POLL_MS = 3000;

export function ExecutionDetailPage() {
  const id = (useSearchParams().get("id") ?? "").toLowerCase();
  if (!id) return <NotFound message="No execution was given. Open one from the executions list." />;
  if (!isUuid(id)) return <NotFound message="This link's execution id is malformed." />;
  return <ExecutionDetail key={id} id={id} />;
}

function NotFound({ message }: { message: string }) {
  return (
    <PageContainer>
      <BackLink />
      <EmptyState
        icon={SearchX}
        title="Execution not found"
        description={message}
        action={
          <Button asChild variant="outline">
            <Link href="/executions/">All executions</Link>
          </Button>
        }
      />
    </PageContainer>
  );
}

function BackLink() {
  return (
    <Link
      href="/executions/"
      className="mb-4 inline-flex items-center gap-1.5 rounded text-sm text-muted-foreground hover:text-foreground focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none"
    >
      <ArrowLeft className="size-4" aria-hidden />
      Executions
    </Link>
  );
}

function ExecutionDetail({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const canExecute = useCan("agents.execute");
  const stream = useExecutionStream(id);
  const { view } = stream;
  const seqRef = React.useRef(0);
  React.useEffect(() => {
    seqRef.current = view.lastSeq;
  }, [view.lastSeq]);

  const streaming = stream.state === "live" || stream.state === "connecting";
  const poll = streaming ? false : POLL_MS;
  const read = useExecution(id, seqRef, poll);
  const execution = mergeExecution(read.data, view);
  const finished = isTerminal(execution?.status);
  const childPoll = finished ? false : poll;
  const steps = useSteps(id, childPoll);
  const logs = useLogs(id, childPoll);
  useStreamInvalidation(id, view);

  const [conflict, setConflict] = React.useState<string | null>(null);
  const now = useNow(1000, execution?.status === "running");

  if (read.isPending) return <DetailSkeleton />;
  if (read.isError || !execution) {
    const error = read.error;
    return (
      <NotFound
        message={
          error instanceof ApiError && (error.status === 404 || error.status === 422)
            ? "It does not exist, or it belongs to another organization."
            : errorMessage(error)
        }
      />
    );
  }

  const stepList = flattenPages(steps.data);
  const rows = mergeSteps(stepList, view, steps.isSuccess && !steps.hasNextPage);
  const stepNodes = Object.fromEntries(stepList.map((step) => [step.id, step.node_key ?? ""]));
  const approval = execution.status === "waiting_approval" ? readApproval(execution.approval) : null;
  const approvalStep = approval?.stepId ? stepList.find((step) => step.id === approval.stepId) : undefined;

  return (
    <PageContainer>
      <BackLink />
      <Header
        execution={execution}
        stream={stream}
        canExecute={canExecute}
        onCancelled={() => toast.success("Execution cancelled")}
      />
      {conflict && (
        <Banner tone="info" icon={Info} title="Someone else decided first" onDismiss={() => setConflict(null)}>
          {sentence(conflict)} The page now shows where the run stands.
        </Banner>
      )}
      {execution.status === "failed" && execution.error_message && (
        <Banner tone="error" icon={AlertTriangle} title="The run failed">
          {execution.error_message}
        </Banner>
      )}
      {execution.status === "parked" && (
        <Banner tone="info" icon={PauseCircle}>
          Paused by a delay; it continues {timeAgo(execution.wake_at, now)}.
        </Banner>
      )}
      {approval && (
        <Card className="mb-6 border-warning/60" data-testid="approval-panel">
          <CardHeader className="pb-3">
            <CardTitle className="flex items-center gap-2 text-base">
              <Hand className="size-4 text-amber-600 dark:text-warning" aria-hidden />
              Waiting for approval
            </CardTitle>
            <CardDescription>
              The run is paused at <code className="font-mono">{approval.nodeId}</code> until someone decides.
            </CardDescription>
          </CardHeader>
          <CardContent className="grid gap-4">
            <ApprovalRequestView request={approval} requestedAt={approvalStep?.started_at ?? null} now={now} />
            {canExecute ? (
              <ApprovalForm
                executionId={execution.id}
                onDecided={(decision) => {
                  setConflict(null);
                  toast.success(decision === "approve" ? "Approved: the run continues" : "Rejected");
                }}
                onConflict={(message) => {
                  setConflict(message);
                  void queryClient.invalidateQueries({ queryKey: executionKeys.all });
                }}
              />
            ) : (
              <p className="text-sm text-muted-foreground">Your role can view this request but not decide it.</p>
            )}
          </CardContent>
        </Card>
      )}
      <Totals execution={execution} now={now} stepCount={rows.length} />
      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_320px]">
        <div className="grid min-w-0 content-start gap-6">
          {execution.status === "completed" && (
            <Card data-testid="execution-output">
              <CardHeader className="pb-2">
                <CardTitle className="text-sm">Output</CardTitle>
              </CardHeader>
              <CardContent>
                {execution.output === null || execution.output === undefined ? (
                  <p className="text-sm text-muted-foreground">The run returned no output.</p>
                ) : (
                  <JsonView value={execution.output} />
                )}
              </CardContent>
            </Card>
          )}
          <Tabs defaultValue="steps" className="min-w-0">
            <TabsList>
              <TabsTrigger value="steps">Steps</TabsTrigger>
              <TabsTrigger value="logs">Logs</TabsTrigger>
            </TabsList>
            <TabsContent value="steps">
              <Timeline execution={execution} rows={rows} steps={steps} now={now} view={view} />
            </TabsContent>
            <TabsContent value="logs">
              <LogsPanel
                logs={flattenPages(logs.data)}
                finished={finished}
                stepNodes={stepNodes}
                loading={logs.isPending}
                hasMore={logs.hasNextPage}
                loadingMore={logs.isFetchingNextPage}
                onLoadMore={() => void logs.fetchNextPage()}
              />
            </TabsContent>
          </Tabs>
        </div>
        <aside className="grid content-start gap-4">
          <RunSummary execution={execution} now={now} />
          <Card>
            <CardHeader className="pb-2">
              <CardTitle className="text-sm">Trigger data</CardTitle>
            </CardHeader>
            <CardContent>
              {Object.keys(execution.trigger_data ?? {}).length === 0 ? (
                <p className="text-sm text-muted-foreground">Started without input.</p>
              ) : (
                <JsonView value={execution.trigger_data} />
              )}
            </CardContent>
          </Card>
        </aside>
      </div>
    </PageContainer>
  );
}

function Header({
  execution,
  stream,
  canExecute,
  onCancelled,
}: {
  execution: Execution;
  stream: ReturnType<typeof useExecutionStream>;
  canExecute: boolean;
  onCancelled: () => void;
}) {
  const agentName = useAgentName(execution.agent_id);
  const cancel = useCancel();
  const finished = isTerminal(execution.status);
  return (
    <div className="mb-6 flex flex-wrap items-start justify-between gap-4">
      <div className="grid min-w-0 gap-1.5">
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="truncate text-2xl font-semibold tracking-tight">
            {agentName ?? <Skeleton className="inline-block h-7 w-48 align-middle" />}
          </h1>
          <StatusBadge status={execution.status} className="text-sm" />
          {!finished && <LiveIndicator state={stream.state} error={stream.error} />}
        </div>
        <p className="text-sm text-muted-foreground">
          Run <code className="font-mono">{shortId(execution.id)}</code>
          {" · "}
          {execution.agent_version ? `version ${execution.agent_version}` : "draft"}
          {" · "}
          {triggerLabel(execution.triggered_by)}
          {execution.started_at && <> · started {sinceText(execution.started_at)}</>}
        </p>
      </div>
      <div className="flex items-center gap-2">
        <Button asChild variant="outline">
          <Link href={`/agents/builder/?id=${encodeURIComponent(execution.agent_id)}`}>
            <Workflow aria-hidden />
            Open in builder
          </Link>
        </Button>
        {canExecute && !finished && (
          <ConfirmDialog
            trigger={
              <Button variant="outline" className="text-destructive hover:text-destructive">
                <CircleSlash aria-hidden />
                Cancel execution
              </Button>
            }
            title="Cancel this execution?"
            description={
              execution.status === "running"
                ? "It stops at its next step boundary. Steps already done are not undone."
                : "It will not continue. Steps already done are not undone."
            }
            confirmLabel="Cancel execution"
            onConfirm={async () => {
              try {
                await cancel.mutateAsync(execution.id);
                onCancelled();
              } catch {
                // The mutation cache toasts the API's message (e.g. it finished meanwhile).
              }
            }}
          />
        )}
      </div>
    </div>
  );
}

function Totals({ execution, now, stepCount }: { execution: Execution; now: number; stepCount: number }) {
  const duration =
    execution.status === "running" || isTerminal(execution.status)
      ? elapsedMs(execution.started_at, execution.completed_at, now)
      : null;
  const items = [
    { label: "Duration", value: duration === null ? "—" : formatDuration(duration) },
    { label: "Steps", value: String(stepCount) },
    { label: "Tokens", value: formatTokens(execution.total_tokens) },
    { label: "Cost", value: formatCost(execution.total_cost) },
  ];
  return (
    <dl className="mb-6 grid grid-cols-2 gap-3 sm:grid-cols-4" data-testid="execution-totals">
      {items.map(({ label, value }) => (
        <div key={label} className="rounded-xl border bg-card px-4 py-3 shadow-xs">
          <dt className="text-xs font-medium text-muted-foreground">{label}</dt>
          <dd className="mt-1 text-lg font-semibold tabular-nums">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Timeline({
  execution,
  rows,
  steps,
  now,
  view,
}: {
  execution: Execution;
  rows: ReturnType<typeof mergeSteps>;
  steps: ReturnType<typeof useSteps>;
  now: number;
  view: ReturnType<typeof useExecutionStream>["view"];
}) {
  const definition = useDefinitionNodes(execution.agent_id, execution.agent_version);
  const typeNames = useNodeTypeNames();
  const liveTypes = React.useMemo(() => nodeTypesFromEvents(view.events), [view.events]);
  return (
    <StepTimeline
      rows={rows}
      naming={{ nodes: definition.data, typeNames: typeNames.data, liveTypes }}
      now={now}
      loading={steps.isPending}
      hasMore={steps.hasNextPage}
      loadingMore={steps.isFetchingNextPage}
      onLoadMore={() => void steps.fetchNextPage()}
      waitingToStart={!isTerminal(execution.status)}
    />
  );
}

/** The API's messages carry no final period; a banner's sentences do. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function Banner({
  tone,
  icon: Icon,
  title,
  children,
  onDismiss,
}: {
  tone: "info" | "error";
  icon: typeof Info;
  title?: string;
  children: React.ReactNode;
  onDismiss?: () => void;
}) {
  return (
    <div
      role={tone === "error" ? "alert" : "status"}
      className={cn(
        "mb-6 flex items-start gap-3 rounded-xl border px-4 py-3 text-sm",
        tone === "error" ? "border-destructive/40 bg-destructive/10 text-destructive" : "bg-muted/40",
      )}
    >
      <Icon className="mt-0.5 size-4 shrink-0" aria-hidden />
      <div className="min-w-0 flex-1">
        {title && <p className="font-medium">{title}</p>}
        <p className="break-words whitespace-pre-wrap">{children}</p>
      </div>
      {onDismiss && (
        <Button variant="ghost" size="sm" className="-my-1" onClick={onDismiss}>
          Dismiss
        </Button>
      )}
    </div>
  );
}

function DetailSkeleton() {
  return (
    <PageContainer>
      <BackLink />
      <div className="mb-6 grid gap-2" role="status" aria-label="Loading execution">
        <Skeleton className="h-8 w-72" />
        <Skeleton className="h-4 w-96" />
      </div>
      <div className="mb-6 grid grid-cols-2 gap-3 sm:grid-cols-4">
        {[0, 1, 2, 3].map((index) => (
          <Skeleton key={index} className="h-[74px]" />
        ))}
      </div>
      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_320px]">
        <div className="grid content-start gap-2">
          <Skeleton className="mb-1 h-9 w-40" />
          {[0, 1, 2, 3].map((index) => (
            <Skeleton key={index} className="h-[58px]" />
          ))}
        </div>
        <Skeleton className="h-72" />
      </div>
    </PageContainer>
  );
}
